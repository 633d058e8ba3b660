"""FiftyOne's ImageMetadata: what ``compute_metadata()`` reads from each image's header."""


class ImageMetadata:
    """Metadata of an image file, as ``sample.metadata``.

    Attributes (``None`` when unknown): ``size_bytes`` (of the file),
    ``mime_type`` (``"image/jpeg"``...), ``width`` and ``height`` (pixels) and
    ``num_channels`` (PIL's band count: 1 grey or palette, 3 RGB, 4 RGBA).
    """

    _FIELDS = ("size_bytes", "mime_type", "width", "height", "num_channels")

    def __init__(self, size_bytes=None, mime_type=None, width=None, height=None, num_channels=None):
        self.size_bytes = size_bytes
        self.mime_type = mime_type
        self.width = width
        self.height = height
        self.num_channels = num_channels

    def __getitem__(self, name):
        if name not in self._FIELDS:
            raise KeyError("ImageMetadata has no field '%s'" % name)
        return getattr(self, name)

    def to_dict(self):
        return {"_cls": "ImageMetadata", **{f: getattr(self, f) for f in self._FIELDS}}

    def __eq__(self, other):
        return isinstance(other, ImageMetadata) and all(getattr(self, f) == getattr(other, f) for f in self._FIELDS)

    def __repr__(self):
        return "<ImageMetadata: %s>" % ", ".join("%s=%r" % (f, getattr(self, f)) for f in self._FIELDS)
