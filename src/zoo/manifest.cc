#include "zoo/manifest.h"

#include <fstream>
#include <sstream>

#include "fo/error.h"

namespace fo::internal {
namespace {

ZooModelInfo ColorGradientDescriptor() {
  ZooModelInfo info;
  info.name = "color-gradient-descriptor";
  info.description = "built-in weightless colour + gradient descriptor";
  info.dimension = 284;
  info.license = "MIT (fo)";
  return info;
}

// OpenAI's CLIP ViT-B/32 as TorchScript, from the URLs the `clip` package
// itself downloads from (the weights URL embeds their SHA-256).
ZooModelInfo ClipVitBase32() {
  ZooModelInfo info;
  info.name = "clip-vit-base32-torch";
  info.description = "OpenAI CLIP ViT-B/32 (TorchScript): image and text embeddings";
  info.dimension = 512;
  info.supports_prompts = true;
  info.preprocessing = {{"image_size", 224},
                        {"resize", "shorter-bicubic-crop"},
                        {"mean", {0.48145466, 0.4578275, 0.40821073}},
                        {"std", {0.26862954, 0.26130258, 0.27577711}},
                        {"context_length", 77}};
  info.license = "MIT (OpenAI CLIP)";
  info.files = {
      {.filename = "ViT-B-32.pt",
       .url = "https://openaipublic.azureedge.net/clip/models/"
              "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt",
       .sha256 = "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af",
       // The exact byte size could not be checked here (no internet); the
       // SHA-256, which is also the URL's path segment, is authoritative.
       .size = 0},
      {.filename = "bpe_simple_vocab_16e6.txt.gz",
       .url = "https://raw.githubusercontent.com/openai/CLIP/main/clip/bpe_simple_vocab_16e6.txt.gz",
       .sha256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a",
       .size = 1356917},
  };
  return info;
}

// A name becomes a directory and a file name a file inside it, so neither
// may contain a separator or be a relative step.
bool IsPlainComponent(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\\') == std::string::npos && s.find('\0') == std::string::npos;
}

ZooFile ParseFile(const nlohmann::json& j) {
  ZooFile file;
  file.filename = j.at("filename").get<std::string>();
  file.url = j.at("url").get<std::string>();
  file.sha256 = j.value("sha256", "");
  file.size = j.value("size", uint64_t{0});
  return file;
}

ZooModelInfo ParseModel(const nlohmann::json& j) {
  ZooModelInfo info;
  info.name = j.at("name").get<std::string>();
  info.description = j.value("description", "");
  if (j.contains("files")) {
    for (const nlohmann::json& f : j.at("files")) info.files.push_back(ParseFile(f));
  }
  info.dimension = j.value("dimension", size_t{0});
  info.supports_prompts = j.value("supports_prompts", false);
  info.preprocessing = j.value("preprocessing", nlohmann::json::object());
  info.license = j.value("license", "");
  return info;
}

}  // namespace

std::vector<ZooModelInfo> BuiltinZooModels() { return {ColorGradientDescriptor(), ClipVitBase32()}; }

void ValidateZooModelInfo(const ZooModelInfo& info) {
  if (!IsPlainComponent(info.name)) throw InvalidArgument("invalid zoo model name '" + info.name + "'");
  for (const ZooFile& f : info.files) {
    if (!IsPlainComponent(f.filename)) {
      throw InvalidArgument("invalid file name '" + f.filename + "' in zoo model '" + info.name + "'");
    }
    if (f.url.empty()) throw InvalidArgument("zoo model '" + info.name + "' file " + f.filename + " has no url");
  }
}

std::vector<ZooModelInfo> ParseZooManifest(const nlohmann::json& manifest, const std::string& source) {
  if (!manifest.is_array()) throw InvalidArgument("zoo manifest " + source + ": expected a JSON array of models");
  std::vector<ZooModelInfo> models;
  for (size_t i = 0; i < manifest.size(); ++i) {
    try {
      models.push_back(ParseModel(manifest[i]));
    } catch (const nlohmann::json::exception& e) {
      throw InvalidArgument("zoo manifest " + source + ": entry " + std::to_string(i) + ": " + e.what());
    }
    try {
      ValidateZooModelInfo(models.back());
    } catch (const Error& e) {
      throw InvalidArgument("zoo manifest " + source + ": " + e.what());
    }
  }
  return models;
}

std::vector<ZooModelInfo> LoadZooManifestFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidArgument("cannot read zoo manifest " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument("invalid JSON in zoo manifest " + path.string() + ": " + e.what());
  }
  return ParseZooManifest(manifest, path.string());
}

}  // namespace fo::internal

namespace fo {

nlohmann::ordered_json ZooModelInfoToJson(const ZooModelInfo& info) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const ZooFile& f : info.files) {
    files.push_back({{"filename", f.filename}, {"url", f.url}, {"sha256", f.sha256}, {"size", f.size}});
  }
  return {{"name", info.name},
          {"description", info.description},
          {"dimension", info.dimension},
          {"supports_prompts", info.supports_prompts},
          {"license", info.license},
          {"preprocessing", nlohmann::ordered_json(info.preprocessing)},
          {"files", files}};
}

}  // namespace fo
