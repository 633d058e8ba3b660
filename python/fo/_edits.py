"""Python side of the edits that persist: a sample's tags as a list that writes through."""


def _writes_through(name):
    method = getattr(list, name)

    def edit(self, *args):
        result = method(self, *args)
        self._sample.tags = list(self)  # the C++ sample's tags, saved by sample.save()
        return self if name in ("__iadd__", "__imul__") else result

    edit.__name__ = name
    edit.__doc__ = method.__doc__
    return edit


class SampleTags(list):
    """The tags of a ``fo.Sample``: a ``list`` whose in-place edits
    (``append``, ``remove``, ``+=``, ...) change the sample's tags, so that
    ``sample.tags.append("x"); sample.save()`` persists, as in FiftyOne."""

    __slots__ = ("_sample",)

    def __init__(self, sample, tags):
        super().__init__(tags)
        self._sample = sample

    for _name in ("append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse",
                  "__setitem__", "__delitem__", "__iadd__", "__imul__"):
        locals()[_name] = _writes_through(_name)
    del _name
