#include "api.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "app_json.h"
#include "static_assets.h"
#include "fo/brain.h"
#include "fo/dataset.h"
#include "fo/error.h"

namespace fo::internal {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// Thumbnails are keyed by the file's identity, so their URL stays valid for
// a day; an edited image gets a new ETag, which a revalidation picks up.
constexpr const char* kThumbnailCacheControl = "public, max-age=86400";

std::string OneLine(std::string message) {
  for (size_t pos = 0; (pos = message.find_first_of("\r\n", pos)) != std::string::npos;) message.replace(pos, 1, "; ");
  return message;
}

// Invalid UTF-8 (odd file names) is replaced rather than failing the request.
std::string Dump(const ordered_json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

ApiResponse JsonResponse(const ordered_json& j) { return {200, "application/json", Dump(j), {}}; }

int StatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kUnimplemented:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

// Runs a handler, turning every failure into an error response: the App must
// answer each request, whatever the library or the input throws.
template <typename Handler>
ApiResponse Guarded(Handler handler) {
  try {
    return handler();
  } catch (const Error& e) {
    return ErrorResponse(StatusOf(e.code()), e.what());
  } catch (const std::exception& e) {
    return ErrorResponse(500, std::string("internal error: ") + e.what());
  }
}

bool IsObjectId(const std::string& id) {
  static const std::regex kObjectId("[0-9a-f]{24}");
  return std::regex_match(id, kObjectId);
}

void CheckObjectId(const std::string& id, const std::string& what) {
  if (!IsObjectId(id)) throw InvalidArgument("malformed " + what + " '" + id + "': expected 24 hexadecimal digits");
}

std::optional<std::string> Param(const QueryParams& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

// A non-negative integer parameter in [min, max]; digits only, so "1e3",
// "-1" or "10abc" are rejected rather than half-parsed.
size_t CountParam(const QueryParams& params, const std::string& name, size_t fallback, size_t min, size_t max) {
  std::optional<std::string> text = Param(params, name);
  if (!text) return fallback;
  std::string range = " must be an integer between " + std::to_string(min) + " and " + std::to_string(max);
  bool digits = !text->empty() && text->size() <= 12 &&
                std::all_of(text->begin(), text->end(), [](unsigned char c) { return std::isdigit(c); });
  if (!digits) throw InvalidArgument("'" + name + "'" + range + ", not '" + *text + "'");
  size_t value = std::stoull(*text);
  if (value < min || value > max) throw InvalidArgument("'" + name + "'" + range + ", not " + *text);
  return value;
}

std::optional<bool> BoolParam(const QueryParams& params, const std::string& name) {
  std::optional<std::string> text = Param(params, name);
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "1") return true;
  if (*text == "false" || *text == "0") return false;
  throw InvalidArgument("'" + name + "' must be true or false, not '" + *text + "'");
}

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(out).str();
}

const FieldInfo& MustFindDetectionsField(const Dataset& dataset, const std::vector<FieldInfo>& fields,
                                         const std::string& name) {
  for (const FieldInfo& f : fields) {
    if (f.name != name) continue;
    if (f.type != "detections") throw InvalidArgument("field '" + name + "' is a " + f.type + " field, not Detections");
    return f;
  }
  throw NotFound("dataset '" + dataset.name() + "' has no field '" + name + "'");
}

const Detection* FindDetection(const Sample& sample, const std::string& label_id, const std::string& field = "") {
  for (const auto& [name, detections] : sample.label_fields) {
    if (!field.empty() && name != field) continue;
    for (const Detection& d : detections.detections) {
      if (d.id == label_id) return &d;
    }
  }
  return nullptr;
}

// --- sort_by_similarity's body ---

struct SortRequest {
  std::string brain_key;
  SimilarityQuery query;
  size_t k = kDefaultK;
  bool reverse = false;
};

json ParseJsonObject(const std::string& body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    throw InvalidArgument(std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw InvalidArgument("the request body must be a JSON object");
  return j;
}

bool Given(const json& body, const char* key) { return body.contains(key) && !body[key].is_null(); }

std::vector<std::string> ParseQueryIds(const json& ids) {
  if (!ids.is_array() || ids.empty()) throw InvalidArgument("'query_ids' must be a non-empty list of ids");
  std::vector<std::string> out;
  for (const json& id : ids) {
    if (!id.is_string()) throw InvalidArgument("'query_ids' must hold strings, not " + id.dump());
    CheckObjectId(id.get<std::string>(), "id");
    out.push_back(id.get<std::string>());
  }
  return out;
}

size_t ParseK(const json& k) {
  std::string range = "'k' must be an integer between 1 and " + std::to_string(kMaxK);
  // nlohmann keeps non-negative integers as unsigned and negative ones as
  // signed; both fit in int64_t once the unsigned ones are bounded.
  bool in_range = k.is_number_unsigned() ? k.get<uint64_t>() >= 1 && k.get<uint64_t>() <= kMaxK
                  : k.is_number_integer() ? k.get<int64_t>() >= 1 && k.get<int64_t>() <= int64_t(kMaxK)
                                          : false;
  if (!in_range) throw InvalidArgument(range + ", not " + k.dump());
  return k.get<size_t>();
}

SortRequest ParseSortRequest(const std::string& text) {
  json body = ParseJsonObject(text);
  SortRequest r;
  if (!Given(body, "brain_key") || !body["brain_key"].is_string() || body["brain_key"].get<std::string>().empty())
    throw InvalidArgument("'brain_key' (a string) is required");
  r.brain_key = body["brain_key"].get<std::string>();
  bool ids = Given(body, "query_ids"), prompt = Given(body, "text");
  if (ids == prompt) throw InvalidArgument("give exactly one of 'query_ids' and 'text'");
  if (ids) r.query.ids = ParseQueryIds(body["query_ids"]);
  if (prompt) {
    if (!body["text"].is_string() || body["text"].get<std::string>().empty())
      throw InvalidArgument("'text' must be a non-empty string");
    r.query.text = body["text"].get<std::string>();
  }
  if (Given(body, "k")) r.k = ParseK(body["k"]);
  if (Given(body, "reverse")) {
    if (!body["reverse"].is_boolean()) throw InvalidArgument("'reverse' must be true or false");
    r.reverse = body["reverse"].get<bool>();
  }
  return r;
}

// The samples of these ids, read in one pass.
std::map<std::string, Sample> SamplesById(const Dataset& dataset, const std::vector<SimilarityHit>& hits) {
  std::set<std::string> unique;
  for (const SimilarityHit& h : hits) unique.insert(h.sample_id);
  std::map<std::string, Sample> out;
  if (unique.empty()) return out;
  for (Sample& s : dataset.view().Select({unique.begin(), unique.end()}).Samples()) out.emplace(s.id, std::move(s));
  return out;
}

ordered_json SortResultsJson(const Dataset& dataset, const SimilarityResults& sorted) {
  std::map<std::string, Sample> samples = SamplesById(dataset, sorted.hits);
  bool patches = !sorted.patches_field.empty();
  ordered_json results = ordered_json::array();
  for (const SimilarityHit& h : sorted.hits) {
    auto s = samples.find(h.sample_id);
    if (s == samples.end()) continue;  // deleted between the query and the read
    if (!patches) {
      results.push_back({{"sample", SampleToAppJson(dataset.name(), s->second)}, {"distance", h.distance}});
      continue;
    }
    const Detection* d = FindDetection(s->second, h.label_id, sorted.patches_field);
    if (d == nullptr) continue;  // the label was deleted since it was indexed
    results.push_back({{"patch", PatchToAppJson(dataset.name(), s->second, *d)}, {"distance", h.distance}});
  }
  return results;
}

// Only raster image types are served with their own type: anything else (an
// .html or .svg path in a dataset) could run script in the App's origin.
std::string MediaContentType(const std::string& path) {
  static const std::set<std::string> kImageTypes = {"image/jpeg", "image/png", "image/gif", "image/bmp", "image/webp",
                                                    "image/tiff"};
  std::string type = ContentTypeOf(path);
  return kImageTypes.count(type) ? type : "application/octet-stream";
}

}  // namespace

ApiResponse ErrorResponse(int status, const std::string& message) {
  return {status, "application/json", Dump({{"error", OneLine(message)}}), {}};
}

AppApi::AppApi(std::shared_ptr<Database> db, std::string default_dataset, std::string thumbnail_dir,
               uint64_t thumbnail_cache_bytes)
    : db_(std::move(db)),
      default_dataset_(std::move(default_dataset)),
      thumbnails_(std::move(thumbnail_dir), thumbnail_cache_bytes) {}

ApiResponse AppApi::ListDatasets() const {
  return Guarded([&] {
    ordered_json out = ordered_json::array();
    for (const std::string& name : Dataset::List(db_)) {
      out.push_back({{"name", name}, {"count", Dataset::Load(db_, name).Count()}});
    }
    return JsonResponse(out);
  });
}

ApiResponse AppApi::GetDataset(const std::string& name) const {
  return Guarded([&] {
    Dataset dataset = Dataset::Load(db_, name);
    std::vector<std::string> label_fields;
    for (const FieldInfo& f : dataset.Fields()) {
      if (f.type == "detections") label_fields.push_back(f.name);
    }
    return JsonResponse({{"name", dataset.name()},
                         {"count", dataset.Count()},
                         {"label_fields", label_fields},
                         {"default", dataset.name() == default_dataset_}});
  });
}

ApiResponse AppApi::ListSamples(const std::string& name, const QueryParams& params) const {
  return Guarded([&] {
    Dataset dataset = Dataset::Load(db_, name);
    size_t offset = CountParam(params, "offset", 0, 0, SIZE_MAX >> 1);
    size_t limit = CountParam(params, "limit", kDefaultPageSize, 1, kMaxPageSize);
    ordered_json samples = ordered_json::array();
    for (const Sample& s : dataset.view().Page(offset, limit)) samples.push_back(SampleToAppJson(name, s));
    return JsonResponse(
        {{"total", dataset.Count()}, {"offset", offset}, {"limit", limit}, {"samples", std::move(samples)}});
  });
}

ApiResponse AppApi::ListPatches(const std::string& name, const QueryParams& params) const {
  return Guarded([&] {
    Dataset dataset = Dataset::Load(db_, name);
    std::optional<std::string> field = Param(params, "field");
    if (!field || field->empty()) throw InvalidArgument("the 'field' parameter (a Detections field) is required");
    MustFindDetectionsField(dataset, dataset.Fields(), *field);
    size_t offset = CountParam(params, "offset", 0, 0, SIZE_MAX >> 1);
    size_t limit = CountParam(params, "limit", kDefaultPageSize, 1, kMaxPageSize);
    // Patches are numbered across samples in sample order. The label table
    // gives the total and the page's labels; only their samples are read.
    size_t total = dataset.CountLabels(*field);
    std::vector<LabelRef> page = dataset.LabelPage(*field, offset, limit);
    std::vector<std::string> sample_ids;
    for (const auto& [sample_id, label_id] : page)
      if (sample_ids.empty() || sample_ids.back() != sample_id) sample_ids.push_back(sample_id);
    std::map<std::string, Sample> samples;
    for (Sample& s : dataset.view().Select(sample_ids).Samples()) samples.emplace(s.id, std::move(s));
    ordered_json patches = ordered_json::array();
    for (const auto& [sample_id, label_id] : page) {
      auto s = samples.find(sample_id);
      if (s == samples.end()) continue;  // deleted since: the page is a snapshot
      if (const Detection* d = FindDetection(s->second, label_id, *field)) patches.push_back(PatchToAppJson(name, s->second, *d));
    }
    return JsonResponse({{"total", total}, {"offset", offset}, {"limit", limit}, {"patches", std::move(patches)}});
  });
}

ApiResponse AppApi::ListBrainRuns(const std::string& name, const QueryParams& params) const {
  return Guarded([&] {
    Dataset dataset = Dataset::Load(db_, name);
    BrainRunFilter filter;
    filter.type = Param(params, "type").value_or("");
    filter.method = Param(params, "backend").value_or("");
    if (auto field = Param(params, "patches_field")) filter.config["patches_field"] = *field;
    if (auto prompts = BoolParam(params, "supports_prompts")) filter.config["supports_prompts"] = *prompts;
    ordered_json out = ordered_json::array();
    for (const std::string& key : fo::ListBrainRuns(dataset, filter)) {
      out.push_back(BrainRunToAppJson(GetBrainInfo(dataset, key)));
    }
    return JsonResponse(out);
  });
}

ApiResponse AppApi::SortBySimilarity(const std::string& name, const std::string& body) const {
  return Guarded([&] {
    Dataset dataset = Dataset::Load(db_, name);
    SortRequest request = ParseSortRequest(body);
    SortBySimilarityOptions options;
    options.k = request.k;
    options.reverse = request.reverse;
    options.brain_key = request.brain_key;
    SimilarityResults sorted = FindSimilar(dataset.view(), request.query, options);
    return JsonResponse({{"brain_key", request.brain_key},
                         {"patches", !sorted.patches_field.empty()},
                         {"results", SortResultsJson(dataset, sorted)}});
  });
}

ApiResponse AppApi::Thumbnail(const std::string& name, const std::string& sample_id, const QueryParams& params,
                              const std::string& if_none_match) const {
  return Guarded([&] {
    CheckObjectId(sample_id, "sample id");
    Dataset dataset = Dataset::Load(db_, name);
    Sample sample = dataset.GetSample(sample_id);
    ThumbnailSource source{sample.filepath, sample.width, sample.height, "", std::nullopt};
    if (auto label_id = Param(params, "label_id")) {
      CheckObjectId(*label_id, "label id");
      const Detection* d = FindDetection(sample, *label_id);
      if (d == nullptr) throw NotFound("label '" + *label_id + "' is not in sample '" + sample_id + "'");
      source.label_id = d->id;
      source.box = d->bounding_box;
    }
    std::string key = thumbnails_.Key(source);
    std::string etag = "\"" + key + "\"";
    ApiResponse response{200, "image/jpeg", "", {{"ETag", etag}, {"Cache-Control", kThumbnailCacheControl}}};
    if (!if_none_match.empty() && if_none_match.find(etag) != std::string::npos) {
      response.status = 304;
      return response;
    }
    std::optional<std::string> jpeg = ReadWholeFile(thumbnails_.Get(source, key));
    if (!jpeg) throw IOError("cannot read the cached thumbnail of sample '" + sample_id + "'");
    response.body = std::move(*jpeg);
    return response;
  });
}

ApiResponse AppApi::Media(const std::string& name, const std::string& sample_id) const {
  return Guarded([&] {
    CheckObjectId(sample_id, "sample id");
    Dataset dataset = Dataset::Load(db_, name);
    // The path comes from the store, never from the request: only files that
    // are a sample's filepath can be read.
    Sample sample = dataset.GetSample(sample_id);
    std::optional<std::string> bytes = ReadWholeFile(sample.filepath);
    if (!bytes) throw NotFound("the media file of sample '" + sample_id + "' cannot be read: " + sample.filepath);
    ApiResponse response{200, MediaContentType(sample.filepath), std::move(*bytes), {}};
    // A file served as an image can still be opened as a document: keep it
    // from running anything or being sniffed into something else.
    response.headers.push_back({"Content-Security-Policy", "default-src 'none'; img-src 'self'; sandbox"});
    if (response.content_type == "application/octet-stream")
      response.headers.push_back({"Content-Disposition", "attachment"});
    return response;
  });
}

}  // namespace fo::internal
