// Reads a FiftyOneDataset export (see fiftyone_import.h). Hand-written: the
// format is two JSON files whose sample documents map one to one onto
// fo::Sample; nothing in Debian reads it outside FiftyOne itself.
#include "fiftyone_import.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "fo/error.h"

namespace fo::py_bind {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Boxes a little outside [0, 1] from float rounding are clamped; anything
// further out is an error (the store only holds relative boxes).
constexpr double kBoxTolerance = 1e-6;

// Python's json module (FiftyOne exports written with pymongo 3's legacy
// json_util) writes non-finite floats as bare NaN, Infinity and -Infinity,
// which are not JSON. Outside strings they become null: absent values.
void NullNonFiniteLiterals(std::string& text) {
  static constexpr std::string_view kLiterals[] = {"-Infinity", "Infinity", "NaN"};
  std::string out;
  bool in_string = false;
  size_t copied = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != 'N' && c != 'I' && c != '-') continue;
    for (std::string_view lit : kLiterals) {
      if (text.compare(i, lit.size(), lit) == 0) {
        out.append(text, copied, i - copied).append("null");
        i += lit.size() - 1;
        copied = i + 1;
        break;
      }
    }
  }
  if (copied == 0) return;
  out.append(text, copied, std::string::npos);
  text = std::move(out);
}

json ReadJsonFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidArgument("cannot read " + path.string() + ": " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InvalidArgument("cannot read " + path.string());
  NullNonFiniteLiterals(text);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw InvalidArgument(path.string() + " is not valid JSON: " + e.what());
  }
}

// A JSON value as a stored field value. nullopt for null (nothing to store,
// silently) and for what fo cannot store; then *kind names it for the
// report ("Classification", "date", "binary", "dict", ...).
std::optional<Value> ToValue(const json& j, std::string* kind) {
  kind->clear();
  switch (j.type()) {
    case json::value_t::null: return std::nullopt;
    case json::value_t::boolean: return Value(j.get<bool>());
    case json::value_t::number_integer: return Value(j.get<int64_t>());
    case json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u > uint64_t(INT64_MAX)) return Value(double(u));
      return Value(int64_t(u));
    }
    case json::value_t::number_float: return Value(j.get<double>());
    case json::value_t::string: return Value(j.get<std::string>());
    case json::value_t::array: {
      ValueList list;
      for (const json& e : j) {
        std::optional<Value> v = ToValue(e, kind);
        if (!v && !kind->empty()) {
          *kind = "list of " + *kind;
          return std::nullopt;
        }
        list.push_back(v ? std::move(*v) : Value());
      }
      return Value(std::move(list));
    }
    case json::value_t::object: {
      // MongoDB extended JSON, as bson.json_util writes it.
      if (j.size() == 1) {
        const auto& [key, v] = *j.items().begin();
        if (key == "$oid" && v.is_string()) return Value(v.get<std::string>());
        if ((key == "$numberDouble" || key == "$numberDecimal") && v.is_string()) {
          const double d = std::strtod(v.get<std::string>().c_str(), nullptr);
          if (!std::isfinite(d)) return std::nullopt;  // NaN/Infinity: stored as absent
          return Value(d);
        }
        if ((key == "$numberInt" || key == "$numberLong") && v.is_string()) {
          return Value(int64_t(std::strtoll(v.get<std::string>().c_str(), nullptr, 10)));
        }
        if (key == "$date") {
          *kind = "date";
          return std::nullopt;
        }
        if (key == "$binary") {
          *kind = "binary";
          return std::nullopt;
        }
      }
      auto cls = j.find("_cls");
      *kind = cls != j.end() && cls->is_string() ? cls->get<std::string>() : "dict";
      return std::nullopt;
    }
    default: *kind = "unknown"; return std::nullopt;
  }
}

// A number, possibly in extended JSON; nullopt otherwise.
std::optional<double> ToNumber(const json& j) {
  std::string kind;
  std::optional<Value> v = ToValue(j, &kind);
  if (!v) return std::nullopt;
  if (v->is<int64_t>()) return double(v->as<int64_t>());
  if (v->is<double>()) return v->as<double>();
  return std::nullopt;
}

// Context for error messages and the report of skipped content.
struct Reader {
  const fs::path& samples_path;
  std::set<std::string>* skipped;
  size_t index = 0;  // of the sample being read
  std::string filepath;

  [[noreturn]] void Fail(const std::string& what) const {
    throw InvalidArgument(samples_path.string() + ": sample " + std::to_string(index) +
                          (filepath.empty() ? "" : " ('" + filepath + "')") + ": " + what);
  }
  void Skip(const std::string& what) const { skipped->insert(what); }
};

// Detection keys that are not attributes: ids, the fields fo::Detection
// has, and FiftyOne's built-ins that fo cannot hold.
bool IsDetectionBuiltin(const std::string& key) {
  return key == "_id" || key == "id" || key == "_cls" || key == "label" || key == "bounding_box" ||
         key == "confidence" || key == "attributes" || key == "tags";
}

Detection ToDetection(const json& d, const std::string& field, const Reader& r) {
  if (!d.is_object()) r.Fail("field '" + field + "': a detection is not an object");
  Detection det;
  if (auto it = d.find("label"); it != d.end() && !it->is_null()) {
    if (!it->is_string()) r.Fail("field '" + field + "': a detection label is not a string");
    det.label = it->get<std::string>();
  }
  auto box = d.find("bounding_box");
  if (box == d.end() || !box->is_array() || box->size() != 4)
    r.Fail("field '" + field + "': a detection has no bounding_box of 4 numbers");
  for (size_t i = 0; i < 4; ++i) {
    std::optional<double> x = ToNumber((*box)[i]);
    if (!x || *x < -kBoxTolerance || *x > 1.0 + kBoxTolerance)
      r.Fail("field '" + field + "': bounding_box " + box->dump() + " is not [x, y, w, h] relative to the image");
    det.bounding_box[i] = std::clamp(*x, 0.0, 1.0);
  }
  if (auto it = d.find("confidence"); it != d.end() && !it->is_null()) det.confidence = ToNumber(*it);
  std::string kind;
  for (const auto& [key, value] : d.items()) {
    if (IsDetectionBuiltin(key)) continue;
    if (std::optional<Value> v = ToValue(value, &kind)) {
      det.attributes[key] = std::move(*v);
    } else if (!kind.empty()) {
      r.Skip("field '" + field + "' attribute '" + key + "' (" + kind + ")");
    }
  }
  // Label tags, kept when there are any.
  if (auto it = d.find("tags"); it != d.end() && it->is_array() && !it->empty()) {
    if (std::optional<Value> v = ToValue(*it, &kind)) det.attributes["tags"] = std::move(*v);
  }
  // Before FiftyOne 0.8 attributes were documents {"_cls": "...Attribute",
  // "value": v} in a dict of their own; a direct key of the same name wins.
  if (auto it = d.find("attributes"); it != d.end() && it->is_object()) {
    for (const auto& [key, attr] : it->items()) {
      if (det.attributes.count(key) || IsDetectionBuiltin(key)) continue;
      const json& value = attr.is_object() && attr.contains("value") ? attr["value"] : attr;
      if (std::optional<Value> v = ToValue(value, &kind)) {
        det.attributes[key] = std::move(*v);
      } else if (!kind.empty()) {
        r.Skip("field '" + field + "' attribute '" + key + "' (" + kind + ")");
      }
    }
  }
  return det;
}

// obj[key] when it is a string, else `fallback` (json::value throws on a
// key of another type).
std::string StringOr(const json& obj, const char* key, const std::string& fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// Sample keys that are not user fields.
bool IsSampleBuiltin(const std::string& key) {
  return key.empty() || key[0] == '_' || key == "id" || key == "filepath" || key == "tags" || key == "metadata" ||
         key == "media_type" || key == "created_at" || key == "last_modified_at" || key == "frames";
}

Sample ToSample(const json& s, const fs::path& dataset_dir, Reader& r) {
  if (!s.is_object()) r.Fail("not an object");
  auto fp = s.find("filepath");
  if (fp == s.end() || !fp->is_string() || fp->get<std::string>().empty()) r.Fail("no filepath");
  Sample sample;
  r.filepath = fp->get<std::string>();
  fs::path path(r.filepath);
  sample.filepath = (path.is_absolute() ? path : dataset_dir / path).lexically_normal().string();

  if (auto it = s.find("tags"); it != s.end() && !it->is_null()) {
    if (!it->is_array()) r.Fail("tags is not a list");
    for (const json& t : *it) {
      if (!t.is_string()) r.Fail("a tag is not a string");
      sample.tags.push_back(t.get<std::string>());
    }
  }
  if (auto it = s.find("metadata"); it != s.end() && it->is_object()) {
    auto dim = [&](const char* key) -> std::optional<int> {
      auto d = it->find(key);
      if (d == it->end()) return std::nullopt;
      std::optional<double> x = ToNumber(*d);
      if (!x || *x <= 0 || *x > 1e9) return std::nullopt;
      return int(*x);
    };
    sample.width = dim("width");
    sample.height = dim("height");
    sample.num_channels = dim("num_channels");
    if (auto b = it->find("size_bytes"); b != it->end())
      if (std::optional<double> x = ToNumber(*b); x && *x >= 0) sample.size_bytes = static_cast<int64_t>(*x);
    if (std::string mime = StringOr(*it, "mime_type", ""); !mime.empty()) sample.mime_type = mime;
  }

  std::string kind;
  for (const auto& [key, value] : s.items()) {
    if (IsSampleBuiltin(key)) continue;
    if (StringOr(value, "_cls", "") == "Detections") {
      Detections dets;
      auto list = value.find("detections");
      if (list != value.end() && !list->is_null()) {
        if (!list->is_array()) r.Fail("field '" + key + "': detections is not a list");
        for (const json& d : *list) dets.detections.push_back(ToDetection(d, key, r));
      }
      sample.label_fields[key] = std::move(dets);
    } else if (std::optional<Value> v = ToValue(value, &kind)) {
      sample.fields[key] = std::move(*v);
    } else if (!kind.empty()) {
      r.Skip("field '" + key + "' (" + kind + ")");
    }
  }
  return sample;
}

}  // namespace

FiftyOneExport ReadFiftyOneDataset(const fs::path& dataset_dir, std::optional<size_t> max_samples) {
  const fs::path dir = fs::absolute(dataset_dir).lexically_normal();
  const fs::path samples_path = dir / "samples.json";
  std::error_code ec;
  if (!fs::is_regular_file(samples_path, ec))
    throw InvalidArgument(dir.string() + " is not a FiftyOneDataset export: it has no samples.json");

  FiftyOneExport out;
  const fs::path metadata_path = dir / "metadata.json";
  if (fs::is_regular_file(metadata_path, ec)) {
    const json metadata = ReadJsonFile(metadata_path);
    if (!metadata.is_object()) throw InvalidArgument(metadata_path.string() + " is not a JSON object");
    const std::string media_type = StringOr(metadata, "media_type", "image");
    if (media_type != "image")
      throw InvalidArgument(dir.string() + " holds a dataset of media_type '" + media_type +
                            "'; only image datasets can be imported");
    if (auto it = metadata.find("default_classes"); it != metadata.end() && it->is_array()) {
      for (const json& c : *it)
        if (c.is_string()) out.classes.push_back(c.get<std::string>());
    }
  }

  const json doc = ReadJsonFile(samples_path);
  auto samples = doc.is_object() ? doc.find("samples") : doc.end();
  if (samples == doc.end() || !samples->is_array())
    throw InvalidArgument(samples_path.string() + " has no \"samples\" list; it is not a FiftyOneDataset export");

  std::set<std::string> skipped;
  Reader reader{samples_path, &skipped, 0, {}};
  const size_t n = std::min(samples->size(), max_samples.value_or(samples->size()));
  out.samples.reserve(n);
  try {
    for (size_t i = 0; i < n; ++i) {
      reader.index = i;
      reader.filepath.clear();
      out.samples.push_back(ToSample((*samples)[i], dir, reader));
    }
  } catch (const json::exception& e) {  // a value of an unexpected type that slipped through
    throw InvalidArgument(samples_path.string() + ": sample " + std::to_string(reader.index) + ": " + e.what());
  }
  out.skipped.assign(skipped.begin(), skipped.end());
  return out;
}

}  // namespace fo::py_bind
