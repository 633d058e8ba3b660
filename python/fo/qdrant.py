"""The Qdrant client of a qdrant index: ``qdrant_index.client``.

As in FiftyOne, where ``client`` is a ``qdrant_client.QdrantClient``, the
object offers qdrant-client's method names and result shapes
(``get_collections().collections[i].name``, ``count(...).count``,
``retrieve``, ``scroll``, ``search``/``query_points``, ``delete``...), backed by
the C++ REST client the index itself uses (same connection, same
credentials; the API key is never shown). Not thread-safe, like the index.
"""

import json
from urllib.parse import quote

from fo import _fo
from fo.qdrant_models import (  # noqa: F401
    CollectionDescription,
    CollectionInfo,
    CollectionsResponse,
    CountResult,
    QueryResponse,
    Record,
    ScoredPoint,
)


def _path(collection_name, *rest):
    return "/".join(["/collections", quote(str(collection_name), safe="")] + list(rest))


def _query_json(query):
    """A vector (numpy array or list) as a list of floats; a point id as is."""
    if isinstance(query, (str, int)):
        return query
    if hasattr(query, "tolist"):
        query = query.tolist()
    return [float(x) for x in query]


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

    def _request(self, method, path, body=None):
        """The envelope's ``result`` of one REST call, through the index's client."""
        return self._handle.request(method, path, "" if body is None else json.dumps(body))

    def get_collections(self):
        return CollectionsResponse.from_json(self._request("GET", "/collections"))

    def collection_exists(self, collection_name):
        return self._handle.collection_exists(collection_name)

    def get_collection(self, collection_name):
        """The collection's info: ``status``, ``points_count``,
        ``config.params.vectors.size``..."""
        return CollectionInfo.from_json(self._request("GET", _path(collection_name)))

    def delete_collection(self, collection_name):
        return self._handle.delete_collection(collection_name)

    def count(self, collection_name, exact=True):
        return CountResult.from_json(self._request("POST", _path(collection_name, "points", "count"),
                                                   {"exact": bool(exact)}))

    def retrieve(self, collection_name, ids, with_payload=True, with_vectors=False):
        body = {"ids": list(ids), "with_payload": with_payload, "with_vector": with_vectors}
        return [Record.from_json(p) for p in self._request("POST", _path(collection_name, "points"), body)]

    def scroll(self, collection_name, limit=10, offset=None, with_payload=True, with_vectors=False):
        """``(records, next_page_offset)``; pass the offset back to continue."""
        body = {"limit": int(limit), "with_payload": with_payload, "with_vector": with_vectors}
        if offset is not None:
            body["offset"] = offset
        page = self._request("POST", _path(collection_name, "points", "scroll"), body)
        return [Record.from_json(p) for p in page["points"]], page.get("next_page_offset")

    def query_points(self, collection_name, query=None, limit=10, with_payload=True, with_vectors=False):
        body = {"limit": int(limit), "with_payload": with_payload, "with_vector": with_vectors}
        if query is not None:
            body["query"] = _query_json(query)
        return QueryResponse.from_json(self._request("POST", _path(collection_name, "points", "query"), body))

    def search(self, collection_name, query_vector, limit=10, with_payload=True, with_vectors=False):
        return self.query_points(collection_name, query_vector, limit=limit, with_payload=with_payload,
                                 with_vectors=with_vectors).points

    def delete(self, collection_name, points_selector):
        """Deletes points by id (a list of point ids)."""
        self._handle.delete_points(collection_name, list(points_selector))


__all__ = ["QdrantClient", "CollectionInfo", "CollectionsResponse", "CollectionDescription", "CountResult", "Record",
           "ScoredPoint", "QueryResponse"]
