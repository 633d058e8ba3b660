// Collection endpoints: list, info, create, delete, exists, payload indexes.
#include <set>

#include "api_error.h"
#include "collection_config.h"
#include "json_io.h"
#include "server.h"

namespace qdrant_test_server {
namespace {

using nlohmann::json;

const char* kCollection = "/collections/([^/]+)";

// The payload_schema entry of an index: its type, params and how many points
// hold the field.
json PayloadSchemaEntry(const Collection& c, const std::string& field, const json& index) {
  json entry = index;
  uint64_t points = 0;
  for (const auto& [id, point] : c.points) {
    auto it = point.payload.find(field);
    if (it != point.payload.end() && !it->is_null()) ++points;
  }
  entry["points"] = points;
  return entry;
}

json CollectionInfo(const Collection& c) {
  json schema = json::object();
  for (const auto& [field, index] : c.payload_indexes) schema[field] = PayloadSchemaEntry(c, field, index);
  return {{"status", "green"},
          {"optimizer_status", "ok"},
          {"indexed_vectors_count", 0},  // nothing is indexed: search is exact
          {"points_count", c.points.size()},
          {"segments_count", 1},
          {"config", c.config},
          {"payload_schema", schema}};
}

// PayloadFieldSchema: a type name or a params object with "type".
json ReadIndexSchema(const json* schema, const Collection& c, const std::string& field) {
  static const std::set<std::string> kTypes = {"keyword", "integer", "float",    "geo",
                                               "text",    "bool",    "datetime", "uuid"};
  if (schema == nullptr) {
    // Qdrant infers the type from the stored values.
    for (const auto& [id, point] : c.points) {
      auto it = point.payload.find(field);
      if (it == point.payload.end()) continue;
      const json& v = it->is_array() && !it->empty() ? it->front() : *it;
      if (v.is_string()) return {{"data_type", "keyword"}};
      if (v.is_number_integer()) return {{"data_type", "integer"}};
      if (v.is_number_float()) return {{"data_type", "float"}};
      if (v.is_boolean()) return {{"data_type", "bool"}};
    }
    throw BadInput("Can't auto-detect field type");
  }
  if (schema->is_string()) {
    std::string type = schema->get<std::string>();
    if (!kTypes.count(type))
      throw FormatError("data did not match any variant of untagged enum PayloadFieldSchema");
    return {{"data_type", type}};
  }
  if (schema->is_object()) {
    auto type = ReadString(*schema, "type");
    if (!type || !kTypes.count(*type)) {
      throw FormatError("data did not match any variant of untagged enum PayloadFieldSchema");
    }
    return {{"data_type", *type}, {"params", *schema}};
  }
  throw FormatError("data did not match any variant of untagged enum PayloadFieldSchema");
}

}  // namespace

void QdrantTestServer::RegisterCollectionRoutes() {
  Api("GET", "/collections", Body::kNone, [this](const httplib::Request&, const json&) {
    std::lock_guard<std::mutex> lock(mu_);
    json list = json::array();
    for (const auto& [name, c] : collections_) list.push_back({{"name", name}});
    return json{{"collections", list}};
  });

  Api("GET", kCollection, Body::kNone, [this](const httplib::Request& req, const json&) {
    std::lock_guard<std::mutex> lock(mu_);
    return CollectionInfo(Find(req.matches[1]));
  });

  Api("GET", std::string(kCollection) + "/exists", Body::kNone,
      [this](const httplib::Request& req, const json&) {
        std::lock_guard<std::mutex> lock(mu_);
        return json{{"exists", collections_.count(req.matches[1]) > 0}};
      });

  Api("PUT", kCollection, Body::kJson, [this](const httplib::Request& req, const json& body) {
    std::string name = req.matches[1];
    ValidateCollectionName(name);
    Collection collection = NewCollection(body);
    ReadTimeoutParam(req);
    std::lock_guard<std::mutex> lock(mu_);
    if (collections_.count(name)) throw CollectionExists(name);
    collections_.emplace(name, std::move(collection));
    return json(true);
  });

  Api("DELETE", kCollection, Body::kNone, [this](const httplib::Request& req, const json&) {
    ReadTimeoutParam(req);
    std::lock_guard<std::mutex> lock(mu_);
    // A missing collection is no error: the result is false.
    return json(collections_.erase(req.matches[1]) > 0);
  });

  Api("PUT", std::string(kCollection) + "/index", Body::kJson,
      [this](const httplib::Request& req, const json& body) {
        ExpectObject(body, "struct CreateFieldIndex");
        auto field = ReadString(body, "field_name");
        if (!field) throw FormatError("missing field `field_name`");
        ReadWriteParams(req);
        std::lock_guard<std::mutex> lock(mu_);
        Collection& c = Find(req.matches[1]);
        c.payload_indexes[*field] = ReadIndexSchema(Field(body, "field_schema"), c, *field);
        return UpdateResult(req, NextOperation(c));
      });

  Api("DELETE", std::string(kCollection) + "/index/([^/]+)", Body::kNone,
      [this](const httplib::Request& req, const json&) {
        ReadWriteParams(req);
        std::lock_guard<std::mutex> lock(mu_);
        Collection& c = Find(req.matches[1]);
        c.payload_indexes.erase(req.matches[2]);
        return UpdateResult(req, NextOperation(c));
      });
}

}  // namespace qdrant_test_server
