"""fo: FiftyOne-style datasets, views and similarity search over the C++ library.

Mirrors ``import fiftyone as fo``: ``fo.Dataset``, ``fo.Sample``,
``fo.Detection(s)``, ``fo.load_dataset``, ``fo.list_datasets``, and
``fo.ViewField`` (``from fo import ViewField as F``) for view expressions. The store is
the one of ``$FO_DATABASE_PATH`` (default ``~/.fiftyone/cpp/fo.db``), opened
on first use.
"""

from fo._fo import (  # noqa: F401
    Dataset,
    DatasetView,
    Detection,
    Detections,
    Sample,
    SimilarityIndex,
    ViewExpression,
    ViewField,
    __version__,
    dataset_exists,
    delete_dataset,
    list_datasets,
    load_dataset,
)
from fo.metadata import ImageMetadata  # noqa: F401
from fo.fields import (  # noqa: F401
    ArrayField,
    BooleanField,
    EmbeddedDocumentField,
    Field,
    FloatField,
    IntField,
    ListField,
    StringField,
    VectorField,
)

__all__ = [
    "ArrayField",
    "BooleanField",
    "EmbeddedDocumentField",
    "Field",
    "FloatField",
    "ImageMetadata",
    "IntField",
    "ListField",
    "StringField",
    "VectorField",
    "Dataset",
    "DatasetView",
    "Detection",
    "Detections",
    "Sample",
    "SimilarityIndex",
    "ViewExpression",
    "ViewField",
    "dataset_exists",
    "delete_dataset",
    "list_datasets",
    "load_dataset",
]
