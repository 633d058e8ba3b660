"""Brain run info and configs as FiftyOne's objects.

``dataset.get_brain_info(key)`` returns a :class:`BrainInfo` and
``index.config`` a :class:`SimilarityConfig` subclass, as in FiftyOne
(fiftyone/core/runs.py, fiftyone/brain/similarity.py): fields are attributes
(``info.config.metric``, ``info.config.collection_name``), ``type`` and
``method`` are properties, and ``str()``/``repr()`` give the pretty JSON
FiftyOne prints (eta's ``Serializable.to_str``). The fields and their order
come from the library's serialised form (fo::SimilarityConfigJson).
"""

import datetime
import json
from collections import OrderedDict


def _json_default(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    raise TypeError("%s is not JSON serializable" % type(value).__name__)


def _serialize(value):
    if isinstance(value, Config):
        return value.serialize()
    if isinstance(value, (list, tuple, set)):
        return [_serialize(v) for v in value]
    if isinstance(value, dict):
        return OrderedDict((str(k), _serialize(v)) for k, v in value.items())
    return value


class Config:
    """A JSON-serialisable object whose public attributes are its fields."""

    def attributes(self):
        return [a for a in vars(self) if not a.startswith("_")]

    def serialize(self):
        return OrderedDict((a, _serialize(getattr(self, a))) for a in self.attributes())

    def to_str(self, pretty_print=True):
        return json.dumps(self.serialize(), indent=4 if pretty_print else None, separators=(",", ": "),
                          ensure_ascii=False, default=_json_default)

    def __str__(self):
        return self.to_str()

    __repr__ = __str__


class SimilarityConfig(Config):
    """The config of a similarity run (FiftyOne's SimilarityConfig)."""

    def __init__(self, embeddings_field=None, model=None, model_kwargs=None, patches_field=None, roi_field=None,
                 supports_prompts=None, **kwargs):
        self.embeddings_field = embeddings_field
        self.model = model
        self.model_kwargs = model_kwargs
        self.patches_field = patches_field
        self.roi_field = roi_field
        self.supports_prompts = supports_prompts
        self._method = kwargs.pop("_method", None)
        for name, value in kwargs.items():
            setattr(self, name, value)

    @property
    def type(self):
        return "similarity"

    @property
    def method(self):
        """The name of the similarity backend."""
        return self._method

    @property
    def cls(self):
        return "%s.%s" % (type(self).__module__, type(self).__qualname__)

    def attributes(self):
        return ["cls", "type", "method"] + super().attributes()


class SklearnSimilarityConfig(SimilarityConfig):
    def __init__(self, metric="cosine", **kwargs):
        super().__init__(**kwargs)
        self.metric = metric

    @property
    def method(self):
        return "sklearn"


class QdrantSimilarityConfig(SimilarityConfig):
    """Qdrant's config; the connection (url, api_key...) is held privately,
    as in FiftyOne, so that it is never printed or stored."""

    _CREDENTIALS = ("url", "api_key", "grpc_port", "prefer_grpc")

    def __init__(self, collection_name=None, metric=None, replication_factor=None, shard_number=None,
                 write_consistency_factor=None, hnsw_config=None, optimizers_config=None, wal_config=None,
                 url=None, api_key=None, grpc_port=None, prefer_grpc=None, **kwargs):
        super().__init__(**kwargs)
        self.collection_name = collection_name
        self.metric = metric
        self.replication_factor = replication_factor
        self.shard_number = shard_number
        self.write_consistency_factor = write_consistency_factor
        self.hnsw_config = hnsw_config
        self.optimizers_config = optimizers_config
        self.wal_config = wal_config
        self._url = url
        self._api_key = api_key
        self._grpc_port = grpc_port
        self._prefer_grpc = prefer_grpc

    @property
    def method(self):
        return "qdrant"

    url = property(lambda self: self._url)
    api_key = property(lambda self: self._api_key)
    grpc_port = property(lambda self: self._grpc_port)
    prefer_grpc = property(lambda self: self._prefer_grpc)


_CONFIG_CLASSES = {"sklearn": SklearnSimilarityConfig, "qdrant": QdrantSimilarityConfig}


class BrainInfo(Config):
    """Information about a brain run: ``key``, ``version``, ``timestamp``
    (a naive UTC ``datetime``) and ``config``."""

    def __init__(self, key, version=None, timestamp=None, config=None):
        self.key = key
        self.version = version
        self.timestamp = timestamp
        self.config = config


def config_from_json(d, credentials=None):
    """The config object of the library's serialised config ``d``, with the
    connection parameters in ``credentials`` (kept out of its fields)."""
    d = dict(d)
    d.pop("cls", None)
    d.pop("type", None)
    method = d.pop("method")
    cls = _CONFIG_CLASSES.get(method)
    if cls is None:
        return SimilarityConfig(_method=method, **d)
    for name, value in (credentials or {}).items():
        if name in getattr(cls, "_CREDENTIALS", ()):
            d[name] = value
    return cls(**d)


def brain_info_from_json(d):
    timestamp = datetime.datetime.fromisoformat(d["timestamp"]) if d.get("timestamp") else None
    return BrainInfo(d["key"], version=d.get("version"), timestamp=timestamp, config=config_from_json(d["config"]))


__all__ = ["BrainInfo", "Config", "SimilarityConfig", "SklearnSimilarityConfig", "QdrantSimilarityConfig"]
