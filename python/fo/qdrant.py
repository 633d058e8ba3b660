"""The Qdrant client of a qdrant index: ``qdrant_index.client``.

As in FiftyOne, where ``client`` is a ``qdrant_client.QdrantClient``, the
object offers qdrant-client's method names and result shapes
(``get_collections().collections[i].name``, ``count(...).count``,
``retrieve``, ``scroll``, ``search``/``query_points``, ``delete``...), backed by
the C++ REST client the index itself uses (same connection, same
credentials; the API key is never shown). Not thread-safe, like the index.
"""

from dataclasses import dataclass, field
from typing import Any, List, Optional

from fo import _fo


@dataclass
class CollectionDescription:
    name: str


@dataclass
class CollectionsResponse:
    collections: List[CollectionDescription] = field(default_factory=list)


@dataclass
class CountResult:
    count: int


@dataclass
class Record:
    id: str
    payload: Optional[dict] = None
    vector: Any = None


@dataclass
class ScoredPoint:
    id: str
    score: float
    payload: Optional[dict] = None


@dataclass
class QueryResponse:
    points: List[ScoredPoint] = field(default_factory=list)


class QdrantClient:
    """The client of one qdrant index (keeps the index alive)."""

    def __init__(self, index):
        self._index = index
        self._handle = _fo.qdrant_client_of(index)

    @property
    def url(self):
        return self._handle.url

    @property
    def collection_name(self):
        """The collection of the index this client came from."""
        return _fo.qdrant_collection_of(self._index)

    def __repr__(self):
        return "<QdrantClient url=%s>" % self.url

    def get_collections(self):
        return CollectionsResponse([CollectionDescription(n) for n in self._handle.list_collections()])

    def collection_exists(self, collection_name):
        return self._handle.collection_exists(collection_name)

    def get_collection(self, collection_name):
        """The collection's info (``status``, ``points_count``, ``config``...) as a dict."""
        return self._handle.get_collection(collection_name)

    def delete_collection(self, collection_name):
        return self._handle.delete_collection(collection_name)

    def count(self, collection_name, exact=True):
        return CountResult(self._handle.count(collection_name))

    def retrieve(self, collection_name, ids, with_payload=True, with_vectors=False):
        return [Record(**p) for p in self._handle.retrieve(collection_name, list(ids), bool(with_vectors),
                                                           bool(with_payload))]

    def scroll(self, collection_name, limit=10, offset=None, with_payload=True, with_vectors=False):
        """``(records, next_page_offset)``; pass the offset back to continue."""
        points, next_offset = self._handle.scroll(collection_name, int(limit), offset, bool(with_vectors),
                                                  bool(with_payload))
        return [Record(**p) for p in points], next_offset

    def search(self, collection_name, query_vector, limit=10, with_payload=True):
        return [ScoredPoint(**p) for p in self._handle.query(collection_name, query_vector, int(limit),
                                                              bool(with_payload))]

    def query_points(self, collection_name, query, limit=10, with_payload=True):
        return QueryResponse(self.search(collection_name, query, limit=limit, with_payload=with_payload))

    def delete(self, collection_name, points_selector):
        """Deletes points by id (a list of point ids)."""
        self._handle.delete_points(collection_name, list(points_selector))


__all__ = ["QdrantClient", "CollectionsResponse", "CollectionDescription", "CountResult", "Record",
           "ScoredPoint", "QueryResponse"]
