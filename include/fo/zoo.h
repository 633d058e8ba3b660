// The model zoo: a manifest of named embedding models and the files they
// need, a local cache of those files, and robust downloads into it, as
// FiftyOne's load_zoo_model does for its own zoo.
//
// Cache layout: ModelZooDir()/<model name>/<file name>. A file counts as
// present when it exists with the manifest's size; its SHA-256 is checked
// when it is downloaded, not on every use.
//
// Manifest: compiled-in entries, then those of the JSON file named by
// $FIFTYONE_CPP_MODEL_ZOO_MANIFEST (re-read on every lookup), then those
// given to RegisterZooModel; a later entry replaces an earlier one of the
// same name.
//
// Thread-safety: all functions may be called from any thread. Two processes
// downloading the same file take turns on a lock file beside it.
#ifndef FO_ZOO_H_
#define FO_ZOO_H_

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace fo {

struct ZooFile {
  std::string filename;  // a plain file name: no directories
  std::string url;       // http(s):// or file://
  std::string sha256;    // lowercase hex; "" = not verified
  uint64_t size = 0;     // bytes; 0 = unknown (then only the SHA-256 is checked)
};

struct ZooModelInfo {
  std::string name;  // also the cache directory name: no '/', not "." or ".."
  std::string description;
  std::vector<ZooFile> files;  // empty for built-in models (nothing to download)
  size_t dimension = 0;
  bool supports_prompts = false;
  // How the model expects its input, e.g. {"image_size":224,
  // "resize":"shorter-bicubic-crop","mean":[...],"std":[...]}.
  nlohmann::json preprocessing = nlohmann::json::object();
  std::string license;
};

// Every known model, sorted by name. Throws kInvalidArgument when
// $FIFTYONE_CPP_MODEL_ZOO_MANIFEST names an unreadable or malformed file.
std::vector<ZooModelInfo> ListZooModels();
// nullopt for an unknown name.
std::optional<ZooModelInfo> FindZooModel(const std::string& name);
// Adds a model or replaces the one of the same name for the rest of the
// process. Throws kInvalidArgument for a name or file name that is not a
// plain path component.
void RegisterZooModel(const ZooModelInfo& info);

// $FIFTYONE_CPP_MODEL_ZOO_DIR, else $HOME/.fiftyone/cpp/models. Throws
// kFailedPrecondition when neither variable is set.
std::filesystem::path ModelZooDir();
// ModelZooDir()/name/filename (whether or not it exists).
std::filesystem::path ZooModelPath(const std::string& name, const std::string& filename);
// True when every file of the model is in the cache with the right size
// (always true for built-in models). Throws kNotFound for an unknown name.
bool IsZooModelDownloaded(const std::string& name);

struct ZooDownloadOptions {
  // Download again even when the file is present (a partial file from an
  // earlier run is discarded too).
  bool overwrite = false;
  // A progress bar on stderr. Default: when stderr is a terminal.
  std::optional<bool> progress;
  // Attempts per file. An attempt that fails after receiving more bytes
  // (a dropped connection) is resumed without using one up.
  int max_attempts = 4;
  long connect_timeout_seconds = 30;
  // A transfer that receives nothing for this long is abandoned (and retried).
  long stall_timeout_seconds = 60;
};

// Downloads the model's missing files (all of them with overwrite) and
// returns the paths of all its files, in manifest order. Throws kNotFound
// for an unknown name (the message lists the known ones); for a failed
// download kCorruption (checksum) or kUnavailable (anything from the
// network, HTTP 404 included), with a one-line message naming the URL, the
// reason and the path where the file can be put by hand; kIOError when the
// cache cannot be written.
std::vector<std::filesystem::path> DownloadZooModel(const std::string& name, const ZooDownloadOptions& options = {});

// The manifest form of a model (the fields above, files as objects), as
// read from $FIFTYONE_CPP_MODEL_ZOO_MANIFEST and printed by `fo zoo`.
nlohmann::ordered_json ZooModelInfoToJson(const ZooModelInfo& info);

// The paths of the model's files, downloading what is missing first. When
// a download fails (offline, say) the one-line message says which file to
// fetch from where, where to put it and its SHA-256, or to run
// `fo zoo models download NAME` when online. Codes as DownloadZooModel.
std::vector<std::filesystem::path> EnsureZooModel(const std::string& name);

// Downloads `url` to `dest`: into `<dest>.part` beside it (resumed with an
// HTTP range request when a partial file is there), verified against `size`
// (0 = unknown) and `sha256` ("" = unchecked), then renamed over dest, so
// dest is either absent, as before, or complete. Creates directories.
// Retries with backoff on connection errors, dropped or stalled transfers
// and 5xx answers; a checksum mismatch discards the partial file and starts
// again from zero. Throws:
//   kNotFound        HTTP 404/410 (at once, no retry)
//   kUnauthenticated HTTP 401/403 (at once)
//   kUnavailable     other 4xx (at once); connection failures, 5xx after max_attempts
//   kCorruption      "sha256 mismatch for <file>: expected X, got Y" (or a size
//                    mismatch) after max_attempts
//   kIOError         the cache directory or partial file cannot be written
void DownloadFile(const std::string& url, const std::filesystem::path& dest, const std::string& sha256, uint64_t size,
                  const ZooDownloadOptions& options = {});

}  // namespace fo

#endif  // FO_ZOO_H_
