"""FiftyOne's field classes, for ``dataset.add_sample_field(name, ftype)``.

fo stores each field with one of the types bool, int, float, string, list,
vector and detections; these classes name them as ``fiftyone.core.fields``
does (``fo.IntField``, ...). ``EmbeddedDocumentField`` with
``embedded_doc_type=fo.Detections`` declares a Detections field.
"""


class Field:
    """Base class of the field types."""


class BooleanField(Field):
    pass


class IntField(Field):
    pass


class FloatField(Field):
    pass


class StringField(Field):
    pass


class ListField(Field):
    pass


class VectorField(Field):
    pass


class ArrayField(Field):
    pass


class EmbeddedDocumentField(Field):
    pass
