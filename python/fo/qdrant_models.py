"""qdrant-client's response models (qdrant_client/http/models/models.py),
built from the REST JSON the server returns.

Each model has qdrant-client's field names, in its order; a field the server
leaves out is ``None`` as in the pydantic models. Enumerations are ``str``
enums as there, so ``info.status == "green"`` and
``info.config.params.vectors.distance == "Cosine"`` hold. ``repr()`` follows
pydantic's ``Name(field=value, ...)``; ``model_dump()`` gives the dict back.
"""

from enum import Enum


class CollectionStatus(str, Enum):
    GREEN = "green"
    YELLOW = "yellow"
    GREY = "grey"
    RED = "red"


class Distance(str, Enum):
    COSINE = "Cosine"
    EUCLID = "Euclid"
    DOT = "Dot"
    MANHATTAN = "Manhattan"


class OptimizersStatusOneOf(str, Enum):
    OK = "ok"


def _enum_or_value(enum):
    def convert(value):
        try:
            return enum(value)
        except ValueError:
            return value  # a value newer than these models: keep it as given
    return convert


def _optimizer_status(value):
    # OptimizersStatus: "ok", or {"error": message}
    return OptimizersStatusOneOf(value) if value == "ok" else value


def _point_id(value):
    # ExtendedPointId: an unsigned integer or a UUID string
    return int(value) if isinstance(value, str) and value.isdigit() else value


class BaseModel:
    """Fields in ``_fields`` as ``name`` or ``(name, convert)``."""

    _fields = ()

    def __init__(self, **values):
        for spec in self._fields:
            name, convert = spec if isinstance(spec, tuple) else (spec, None)
            value = values.get(name)
            setattr(self, name, convert(value) if convert is not None and value is not None else value)

    @classmethod
    def from_json(cls, d):
        return cls(**d)

    @classmethod
    def _names(cls):
        return [spec[0] if isinstance(spec, tuple) else spec for spec in cls._fields]

    def model_dump(self):
        def dump(v):
            if isinstance(v, BaseModel):
                return v.model_dump()
            if isinstance(v, list):
                return [dump(x) for x in v]
            if isinstance(v, dict):
                return {k: dump(x) for k, x in v.items()}
            return v
        return {name: dump(getattr(self, name)) for name in self._names()}

    def __eq__(self, other):
        return type(self) is type(other) and self.model_dump() == other.model_dump()

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__,
                           ", ".join("%s=%r" % (name, getattr(self, name)) for name in self._names()))


def _model(cls):
    return lambda value: cls.from_json(value) if isinstance(value, dict) else value


def _list_of(cls):
    return lambda values: [cls.from_json(v) for v in values]


class VectorParams(BaseModel):
    _fields = ("size", ("distance", _enum_or_value(Distance)), "hnsw_config", "quantization_config", "on_disk",
               "datatype", "multivector_config")


def _vectors_config(value):
    # VectorsConfig: one VectorParams, or named ones
    if isinstance(value, dict) and "size" in value:
        return VectorParams.from_json(value)
    return {name: VectorParams.from_json(v) for name, v in value.items()}


class CollectionParams(BaseModel):
    _fields = (("vectors", _vectors_config), "shard_number", "sharding_method", "replication_factor",
               "write_consistency_factor", "read_fan_out_factor", "read_fan_out_delay_ms", "on_disk_payload",
               "sparse_vectors")


class HnswConfig(BaseModel):
    _fields = ("m", "ef_construct", "full_scan_threshold", "max_indexing_threads", "on_disk", "payload_m",
               "inline_storage")


class OptimizersConfig(BaseModel):
    _fields = ("deleted_threshold", "vacuum_min_vector_number", "default_segment_number", "max_segment_size",
               "memmap_threshold", "indexing_threshold", "flush_interval_sec", "max_optimization_threads",
               "prevent_unoptimized")


class WalConfig(BaseModel):
    _fields = ("wal_capacity_mb", "wal_segments_ahead", "wal_retain_closed")


class CollectionConfig(BaseModel):
    _fields = (("params", _model(CollectionParams)), ("hnsw_config", _model(HnswConfig)),
               ("optimizer_config", _model(OptimizersConfig)), ("wal_config", _model(WalConfig)),
               "quantization_config", "strict_mode_config", "metadata")


class CollectionInfo(BaseModel):
    _fields = (("status", _enum_or_value(CollectionStatus)), ("optimizer_status", _optimizer_status), "warnings",
               "indexed_vectors_count", "points_count", "segments_count", ("config", _model(CollectionConfig)),
               "payload_schema", "update_queue")


class CollectionDescription(BaseModel):
    _fields = ("name",)


class CollectionsResponse(BaseModel):
    _fields = (("collections", _list_of(CollectionDescription)),)


class CountResult(BaseModel):
    _fields = ("count",)


class Record(BaseModel):
    _fields = (("id", _point_id), "payload", "vector", "shard_key", "order_value")


class ScoredPoint(BaseModel):
    _fields = (("id", _point_id), "version", "score", "payload", "vector", "shard_key", "order_value")


class QueryResponse(BaseModel):
    _fields = (("points", _list_of(ScoredPoint)),)


__all__ = ["CollectionStatus", "Distance", "OptimizersStatusOneOf", "BaseModel", "VectorParams", "CollectionParams",
           "HnswConfig", "OptimizersConfig", "WalConfig", "CollectionConfig", "CollectionInfo",
           "CollectionDescription", "CollectionsResponse", "CountResult", "Record", "ScoredPoint", "QueryResponse"]
