// Search endpoints: the universal query API (query, query/batch) and the
// legacy search API (search, search/batch) that Qdrant 1.19 still routes for
// older clients though its spec no longer lists it.
#include <string>

#include "api_error.h"
#include "json_io.h"
#include "server.h"

namespace qdrant_test_server {
namespace {

using nlohmann::json;

const std::string kPoints = "/collections/([^/]+)/points";

void CheckVectorName(const std::optional<std::string>& name) {
  // The one vector a collection has here is the unnamed one ("").
  if (name && !name->empty()) throw BadInput("Not existing vector name error: " + *name);
}

// VectorInput as a nearest target: a dense vector or a point id.
void ReadVectorInput(const json& value, SearchRequest& request) {
  if (value.is_array()) {
    request.vector = ReadDenseVector(value);
  } else if (value.is_number() || value.is_string()) {
    try {
      request.by_id = ReadPointId(value);
    } catch (const ApiError&) {
      throw FormatError("data did not match any variant of untagged enum VectorInput");
    }
  } else if (value.is_object() && value.contains("indices")) {
    throw Unsupported("Sparse vectors");
  } else if (value.is_object() &&
             (value.contains("text") || value.contains("image") || value.contains("object"))) {
    throw Unsupported("Inference (documents, images, objects)");
  } else {
    throw FormatError("data did not match any variant of untagged enum VectorInput");
  }
}

// QueryInterface: a VectorInput (nearest) or a Query object of which only
// {"nearest": VectorInput} is served.
void ReadQueryInterface(const json& query, SearchRequest& request) {
  if (!query.is_object() || query.contains("indices") || query.contains("text") || query.contains("image") ||
      query.contains("object")) {
    ReadVectorInput(query, request);
    return;
  }
  if (const json* nearest = Field(query, "nearest")) {
    if (Field(query, "mmr") != nullptr) throw Unsupported("MMR");
    ReadVectorInput(*nearest, request);
    return;
  }
  for (const char* kind : {"recommend", "discover", "context", "order_by", "fusion", "rrf", "formula",
                           "sample", "relevance_feedback"}) {
    if (query.contains(kind)) throw Unsupported(std::string("A `") + kind + "` query");
  }
  throw FormatError("data did not match any variant of untagged enum QueryInterface");
}

// The fields QueryRequest and SearchRequest share. prefix names the request
// in validation messages ("" or "searches[2].").
void ReadCommon(const json& body, const std::string& prefix, SearchRequest& request, Validation& validation) {
  if (const json* filter = Field(body, "filter")) request.filter = ParseFilter(*filter);
  if (const json* params = Field(body, "params")) {
    ExpectObject(*params, "struct SearchParams");
    if (auto ef = ReadUint(*params, "hnsw_ef", "usize")) {
      validation.Min(prefix + "params.hnsw_ef", static_cast<double>(*ef), 1);
    }
    ReadBool(*params, "exact");  // every search here is exact
  }
  if (auto threshold = ReadNumber(body, "score_threshold"))
    request.score_threshold = static_cast<float>(*threshold);
  request.offset = ReadUint(body, "offset", "usize").value_or(0);
  request.with_payload = PayloadSelector::Parse(Field(body, "with_payload"), false);
  request.with_vector = ReadWithVector(body, false);
}

SearchRequest ReadQueryRequest(const json& body, const std::string& prefix) {
  ExpectObject(body, "struct QueryRequest");
  if (Field(body, "prefetch") != nullptr) throw Unsupported("prefetch");
  if (Field(body, "lookup_from") != nullptr) throw Unsupported("lookup_from");
  CheckVectorName(ReadString(body, "using"));
  SearchRequest request;
  Validation validation;
  if (const json* query = Field(body, "query")) ReadQueryInterface(*query, request);
  request.limit = ReadUint(body, "limit", "usize").value_or(10);
  validation.Min(prefix + "limit", static_cast<double>(request.limit), 1);
  ReadCommon(body, prefix, request, validation);
  validation.ThrowIfFailed("JSON body");
  return request;
}

SearchRequest ReadSearchRequest(const json& body, const std::string& prefix) {
  ExpectObject(body, "struct SearchRequest");
  SearchRequest request;
  const json* vector = Field(body, "vector");
  if (vector == nullptr) throw FormatError("missing field `vector`");
  if (vector->is_object()) {  // NamedVectorStruct {"name", "vector"}
    CheckVectorName(ReadString(*vector, "name"));
    const json* values = Field(*vector, "vector");
    if (values == nullptr) throw FormatError("missing field `vector`");
    if (values->is_object()) throw Unsupported("Sparse vectors");
    request.vector = ReadDenseVector(*values);
  } else {
    request.vector = ReadDenseVector(*vector);
  }
  // limit has no default here; "top" is its alias.
  std::optional<uint64_t> limit = ReadUint(body, "limit", "usize");
  if (!limit) limit = ReadUint(body, "top", "usize");
  if (!limit) throw FormatError("missing field `limit`");
  request.limit = *limit;
  Validation validation;
  validation.Min(prefix + "limit", static_cast<double>(request.limit), 1);
  ReadCommon(body, prefix, request, validation);
  validation.ThrowIfFailed("JSON body");
  return request;
}

const json& ReadSearches(const json& body) {
  ExpectObject(body, "struct QueryRequestBatch");
  const json* searches = Field(body, "searches");
  if (searches == nullptr) throw FormatError("missing field `searches`");
  if (!searches->is_array()) {
    throw FormatError("invalid type: " + DescribeUnexpected(*searches) + ", expected a sequence");
  }
  return *searches;
}

}  // namespace

void QdrantTestServer::RegisterQueryRoutes() {
  Api("POST", kPoints + "/query", Body::kJson, [this](const httplib::Request& req, const json& body) {
    SearchRequest request = ReadQueryRequest(body, "");
    ReadReadParams(req);
    std::lock_guard<std::mutex> lock(mu_);
    return json{{"points", Search(Find(req.matches[1]), request)}};
  });

  Api("POST", kPoints + "/query/batch", Body::kJson, [this](const httplib::Request& req, const json& body) {
    std::vector<SearchRequest> requests;
    const json& searches = ReadSearches(body);
    for (size_t i = 0; i < searches.size(); ++i) {
      requests.push_back(ReadQueryRequest(searches[i], "searches[" + std::to_string(i) + "]."));
    }
    ReadReadParams(req);
    std::lock_guard<std::mutex> lock(mu_);
    const Collection& c = Find(req.matches[1]);
    json results = json::array();
    for (const SearchRequest& request : requests) results.push_back({{"points", Search(c, request)}});
    return results;
  });

  Api("POST", kPoints + "/search", Body::kJson, [this](const httplib::Request& req, const json& body) {
    SearchRequest request = ReadSearchRequest(body, "");
    ReadReadParams(req);
    std::lock_guard<std::mutex> lock(mu_);
    return Search(Find(req.matches[1]), request);
  });

  Api("POST", kPoints + "/search/batch", Body::kJson, [this](const httplib::Request& req, const json& body) {
    std::vector<SearchRequest> requests;
    const json& searches = ReadSearches(body);
    for (size_t i = 0; i < searches.size(); ++i) {
      requests.push_back(ReadSearchRequest(searches[i], "searches[" + std::to_string(i) + "]."));
    }
    ReadReadParams(req);
    std::lock_guard<std::mutex> lock(mu_);
    const Collection& c = Find(req.matches[1]);
    json results = json::array();
    for (const SearchRequest& request : requests) results.push_back(Search(c, request));
    return results;
  });
}

}  // namespace qdrant_test_server
