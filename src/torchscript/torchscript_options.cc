#include "torchscript/torchscript_options.h"

#include "fo/error.h"

namespace fo::internal {
namespace {

using json = nlohmann::json;

Error BadKwarg(const std::string& key, const std::string& expected, const json& value) {
  return InvalidArgument("model kwarg '" + key + "' must be " + expected + ", got " + value.dump());
}

int PositiveInt(const std::string& key, const json& v, int max) {
  // The CLI passes every value as a string ("--model-kwarg image_size=224").
  if (v.is_string()) {
    try {
      size_t used = 0;
      int n = std::stoi(v.get<std::string>(), &used);
      if (used == v.get<std::string>().size() && n > 0 && n <= max) return n;
    } catch (const std::exception&) {
    }
    throw BadKwarg(key, "an integer in 1.." + std::to_string(max), v);
  }
  if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > max)
    throw BadKwarg(key, "an integer in 1.." + std::to_string(max), v);
  return v.get<int>();
}

std::string String(const std::string& key, const json& v) {
  if (!v.is_string() || v.get<std::string>().empty()) throw BadKwarg(key, "a non-empty string", v);
  return v.get<std::string>();
}

bool Bool(const std::string& key, const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  throw BadKwarg(key, "true or false", v);
}

// Three floats, given as a JSON array or (from the CLI) "a,b,c".
std::array<float, 3> Triple(const std::string& key, const json& v, bool positive) {
  json list = v;
  if (v.is_string()) {
    try {
      list = json::parse("[" + v.get<std::string>() + "]");
    } catch (const json::exception&) {
      throw BadKwarg(key, "three numbers", v);
    }
  }
  if (!list.is_array() || list.size() != 3) throw BadKwarg(key, "three numbers", v);
  std::array<float, 3> out{};
  for (size_t i = 0; i < 3; ++i) {
    if (!list[i].is_number()) throw BadKwarg(key, "three numbers", v);
    out[i] = list[i].get<float>();
    if (positive && !(out[i] > 0)) throw BadKwarg(key, "three positive numbers", v);
  }
  return out;
}

ResizeMode Resize(const json& v) {
  if (v == "shorter-bicubic-crop") return ResizeMode::kShorterSideCenterCrop;
  if (v == "stretch") return ResizeMode::kStretch;
  throw BadKwarg("resize", "\"shorter-bicubic-crop\" (CLIP) or \"stretch\"", v);
}

}  // namespace

const char* TorchScriptOptionKeys() {
  return "image_size, resize, mean, std, image_method, text_method, tokenizer_path, context_length, num_threads, "
         "normalize";
}

TorchScriptOptions ParseTorchScriptOptions(const json& kwargs) {
  if (kwargs.is_null()) return {};
  if (!kwargs.is_object()) throw InvalidArgument("model kwargs must be a JSON object, got " + kwargs.dump());
  TorchScriptOptions o;
  for (const auto& [key, v] : kwargs.items()) {
    if (key == "image_size") o.image_size = PositiveInt(key, v, 8192);
    else if (key == "resize") o.resize = Resize(v);
    else if (key == "mean") o.mean = Triple(key, v, false);
    else if (key == "std") o.std = Triple(key, v, true);
    else if (key == "image_method") o.image_method = String(key, v);
    else if (key == "text_method") o.text_method = String(key, v);
    else if (key == "tokenizer_path") o.tokenizer_path = String(key, v);
    else if (key == "context_length") o.context_length = PositiveInt(key, v, 1 << 16);
    else if (key == "num_threads") o.num_threads = PositiveInt(key, v, 1024);
    else if (key == "normalize") o.normalize = Bool(key, v);
    else
      throw InvalidArgument("unknown model kwarg '" + key + "' for a TorchScript model; accepted: " +
                            TorchScriptOptionKeys());
  }
  return o;
}

}  // namespace fo::internal
