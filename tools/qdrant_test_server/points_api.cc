// Point endpoints: upsert, retrieve, get one point, delete, scroll, count.
#include <vector>

#include "api_error.h"
#include "filters.h"
#include "json_io.h"
#include "server.h"

namespace qdrant_test_server {
namespace {

using nlohmann::json;

const std::string kPoints = "/collections/([^/]+)/points";

struct NewPoint {
  PointId id;
  std::vector<float> vector;
  json payload;
};

json ReadPayload(const json* value) {
  if (value == nullptr) return json::object();
  ExpectObject(*value, "a map");
  return *value;
}

std::vector<PointId> ReadIds(const json& list) {
  if (!list.is_array())
    throw FormatError("invalid type: " + DescribeUnexpected(list) + ", expected a sequence");
  std::vector<PointId> ids;
  for (const json& id : list) ids.push_back(ReadPointId(id));
  return ids;
}

// The batch form {"batch": {ids, vectors, payloads?}}.
std::vector<NewPoint> ReadBatch(const json& batch) {
  ExpectObject(batch, "struct Batch");
  const json* ids = Field(batch, "ids");
  const json* vectors = Field(batch, "vectors");
  if (ids == nullptr) throw FormatError("missing field `ids`");
  if (vectors == nullptr) throw FormatError("missing field `vectors`");
  if (vectors->is_object()) throw Unsupported("Named vectors");
  if (!vectors->is_array()) {
    throw FormatError("invalid type: " + DescribeUnexpected(*vectors) + ", expected a sequence");
  }
  const json* payloads = Field(batch, "payloads");
  if (payloads != nullptr && !payloads->is_array()) {
    throw FormatError("invalid type: " + DescribeUnexpected(*payloads) + ", expected a sequence");
  }
  std::vector<PointId> id_list = ReadIds(*ids);
  Validation validation;
  if (id_list.size() != vectors->size()) {
    validation.Fail("batch", "number of ids and vectors must be equal (" + std::to_string(id_list.size()) +
                                 " != " + std::to_string(vectors->size()) + ")");
  }
  if (payloads != nullptr && payloads->size() != id_list.size()) {
    validation.Fail("batch", "number of ids and payloads must be equal (" + std::to_string(id_list.size()) +
                                 " != " + std::to_string(payloads->size()) + ")");
  }
  validation.ThrowIfFailed("JSON body");
  std::vector<NewPoint> points;
  for (size_t i = 0; i < id_list.size(); ++i) {
    const json* payload = payloads == nullptr || (*payloads)[i].is_null() ? nullptr : &(*payloads)[i];
    points.push_back({id_list[i], ReadDenseVector((*vectors)[i]), ReadPayload(payload)});
  }
  return points;
}

// The list form {"points": [{id, vector, payload?}]}.
std::vector<NewPoint> ReadPointList(const json& list) {
  if (!list.is_array())
    throw FormatError("invalid type: " + DescribeUnexpected(list) + ", expected a sequence");
  std::vector<NewPoint> points;
  for (const json& point : list) {
    ExpectObject(point, "struct PointStruct");
    if (Field(point, "id") == nullptr) throw FormatError("missing field `id`");
    if (Field(point, "vector") == nullptr) throw FormatError("missing field `vector`");
    points.push_back({ReadPointId(point.at("id")), ReadDenseVector(point.at("vector")),
                      ReadPayload(Field(point, "payload"))});
  }
  return points;
}

std::optional<Filter> ReadOptionalFilter(const json& body, const char* key = "filter") {
  const json* filter = Field(body, key);
  if (filter == nullptr) return std::nullopt;
  return ParseFilter(*filter);
}

}  // namespace

void QdrantTestServer::RegisterPointRoutes() {
  // Upsert (PointInsertOperations: the batch form, else the list form).
  Api("PUT", kPoints, Body::kJson, [this](const httplib::Request& req, const json& body) {
    ExpectObject(body, "untagged enum PointInsertOperations");
    std::vector<NewPoint> points;
    if (const json* batch = Field(body, "batch")) {
      points = ReadBatch(*batch);
    } else if (const json* list = Field(body, "points")) {
      points = ReadPointList(*list);
    } else {
      throw FormatError("data did not match any variant of untagged enum PointInsertOperations");
    }
    std::string mode = ReadString(body, "update_mode").value_or("upsert");
    if (mode != "upsert" && mode != "insert_only" && mode != "update_only") {
      throw FormatError("unknown variant `" + mode +
                        "`, expected one of `upsert`, `insert_only`, `update_only`");
    }
    std::optional<Filter> update_filter = ReadOptionalFilter(body, "update_filter");
    ReadWriteParams(req);

    std::lock_guard<std::mutex> lock(mu_);
    Collection& c = Find(req.matches[1]);
    for (const NewPoint& point : points) c.CheckDimension(point.vector);  // all or nothing
    uint64_t operation = NextOperation(c);
    for (NewPoint& point : points) {
      auto existing = c.points.find(point.id);
      bool exists = existing != c.points.end();
      if ((mode == "insert_only" && exists) || (mode == "update_only" && !exists)) continue;
      // update_filter: an existing point is replaced only if it matches.
      if (exists && update_filter && !Matches(*update_filter, point.id, existing->second.payload)) continue;
      Preprocess(c.distance, point.vector);
      c.points[point.id] = Point{std::move(point.vector), std::move(point.payload), operation};
    }
    return UpdateResult(req, operation);
  });

  // Retrieve: request order, missing ids skipped, repeated ids once.
  Api("POST", kPoints, Body::kJson, [this](const httplib::Request& req, const json& body) {
    ExpectObject(body, "struct PointRequest");
    const json* ids = Field(body, "ids");
    if (ids == nullptr) throw FormatError("missing field `ids`");
    std::vector<PointId> id_list = ReadIds(*ids);
    PayloadSelector with_payload = PayloadSelector::Parse(Field(body, "with_payload"), true);
    bool with_vector = ReadWithVector(body, false);
    ReadReadParams(req);

    std::lock_guard<std::mutex> lock(mu_);
    const Collection& c = Find(req.matches[1]);
    json records = json::array();
    std::set<PointId> seen;
    for (const PointId& id : id_list) {
      auto it = c.points.find(id);
      if (it == c.points.end() || !seen.insert(id).second) continue;
      records.push_back(RecordJson(id, it->second, with_payload, with_vector));
    }
    return records;
  });

  Api("GET", kPoints + "/([^/]+)", Body::kNone, [this](const httplib::Request& req, const json&) {
    PointId id = ParsePathPointId(req.matches[2]);
    ReadReadParams(req);
    std::lock_guard<std::mutex> lock(mu_);
    const Collection& c = Find(req.matches[1]);
    auto it = c.points.find(id);
    if (it == c.points.end()) throw NotFound("Point with id " + ToString(id) + " does not exists!");
    return RecordJson(id, it->second, PayloadSelector::Parse(nullptr, true), true);
  });

  // Delete by ids or by filter; ids that do not exist are no error.
  Api("POST", kPoints + "/delete", Body::kJson, [this](const httplib::Request& req, const json& body) {
    ExpectObject(body, "untagged enum PointsSelector");
    std::vector<PointId> ids;
    std::optional<Filter> filter;
    if (const json* points = Field(body, "points")) {
      ids = ReadIds(*points);
    } else if (Field(body, "filter") != nullptr) {
      filter = ReadOptionalFilter(body);
    } else {
      throw FormatError("data did not match any variant of untagged enum PointsSelector");
    }
    ReadWriteParams(req);

    std::lock_guard<std::mutex> lock(mu_);
    Collection& c = Find(req.matches[1]);
    uint64_t operation = NextOperation(c);
    for (const PointId& id : ids) c.points.erase(id);
    if (filter) {
      std::erase_if(c.points,
                    [&](const auto& entry) { return Matches(*filter, entry.first, entry.second.payload); });
    }
    return UpdateResult(req, operation);
  });

  // Scroll in id order; offset is inclusive and next_page_offset is the
  // first id of the next page.
  Api("POST", kPoints + "/scroll", Body::kJson, [this](const httplib::Request& req, const json& body) {
    ExpectObject(body, "struct ScrollRequest");
    std::optional<PointId> offset;
    if (const json* value = Field(body, "offset")) offset = ReadPointId(*value);
    uint64_t limit = ReadUint(body, "limit", "usize").value_or(10);
    Validation validation;
    validation.Min("limit", static_cast<double>(limit), 1);
    validation.ThrowIfFailed("JSON body");
    std::optional<Filter> filter = ReadOptionalFilter(body);
    PayloadSelector with_payload = PayloadSelector::Parse(Field(body, "with_payload"), true);
    bool with_vector = ReadWithVector(body, false);
    if (Field(body, "order_by") != nullptr) throw Unsupported("order_by");
    ReadReadParams(req);

    std::lock_guard<std::mutex> lock(mu_);
    const Collection& c = Find(req.matches[1]);
    json records = json::array();
    json next = nullptr;
    auto it = offset ? c.points.lower_bound(*offset) : c.points.begin();
    for (; it != c.points.end(); ++it) {
      if (filter && !Matches(*filter, it->first, it->second.payload)) continue;
      if (records.size() == limit) {
        next = ToJson(it->first);
        break;
      }
      records.push_back(RecordJson(it->first, it->second, with_payload, with_vector));
    }
    return json{{"points", records}, {"next_page_offset", next}};
  });

  Api("POST", kPoints + "/count", Body::kJson, [this](const httplib::Request& req, const json& body) {
    ExpectObject(body, "struct CountRequest");
    std::optional<Filter> filter = ReadOptionalFilter(body);
    ReadBool(body, "exact");  // exact or not, counting here is exact
    ReadReadParams(req);

    std::lock_guard<std::mutex> lock(mu_);
    const Collection& c = Find(req.matches[1]);
    uint64_t count = 0;
    for (const auto& [id, point] : c.points) {
      if (!filter || Matches(*filter, id, point.payload)) ++count;
    }
    return json{{"count", count}};
  });
}

}  // namespace qdrant_test_server
