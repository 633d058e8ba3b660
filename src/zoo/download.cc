// Downloads with libcurl into "<dest>.part", resumed by range requests,
// verified, then renamed. Concurrency: one process at a time per file, by a
// lock file "<dest>.lock" (see FileLock); the partial file keeps a fixed
// name so that a later run can resume it.
#include "zoo/download.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include "core/progress.h"
#include "zoo/file_lock.h"
#include "zoo/sha256.h"

namespace fo::internal {
namespace {

namespace fs = std::filesystem;

// Short, so that the tests stay fast; a real outage lasts longer than any
// backoff we would want a user to wait through anyway.
constexpr double kBackoffSeconds = 0.2;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// One attempt's state, shared with the write callback. The partial file is
// opened on the first byte, so that a refused connection or an HTTP error
// leaves nothing behind.
struct Attempt {
  CURL* curl = nullptr;
  fs::path part;
  uint64_t offset = 0;         // bytes already in `part`
  uint64_t expected_size = 0;  // 0 = unknown
  bool show_progress = false;
  std::unique_ptr<std::FILE, FileCloser> file;
  std::unique_ptr<ProgressBar> progress;
  bool io_error = false;
};

bool StartWriting(Attempt& a) {
  a.file.reset(std::fopen(a.part.c_str(), "ab"));
  if (!a.file) return false;
  uint64_t total = a.expected_size;
  curl_off_t length = -1;
  if (total == 0 && curl_easy_getinfo(a.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK &&
      length >= 0) {
    total = a.offset + static_cast<uint64_t>(length);
  }
  a.progress = std::make_unique<ProgressBar>(a.part.filename().replace_extension().string(), total,
                                             a.show_progress, ProgressBar::Unit::kBytes);
  a.progress->SetInitial(a.offset);
  return true;
}

size_t OnData(char* data, size_t size, size_t count, void* user) {
  auto* a = static_cast<Attempt*>(user);
  const size_t n = size * count;
  if (!a->file && !StartWriting(*a)) {
    a->io_error = true;
    return 0;  // anything short of n aborts the transfer
  }
  if (std::fwrite(data, 1, n, a->file.get()) != n) {
    a->io_error = true;
    return 0;
  }
  a->progress->Add(n);
  return n;
}

struct AttemptResult {
  CURLcode code = CURLE_OK;
  long http_status = 0;
  std::string error;
  bool io_error = false;
};

AttemptResult RunAttempt(const std::string& url, const fs::path& part, uint64_t offset, uint64_t size,
                         const ZooDownloadOptions& options) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) throw Internal("curl_easy_init failed");
  Attempt a;
  a.curl = curl.get();
  a.part = part;
  a.offset = offset;
  a.expected_size = size;
  a.show_progress = options.progress.value_or(StderrIsTerminal());
  char error[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  // file:// serves local mirrors; a redirect may not lead there, though.
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "fo-zoo/0.1");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
  // Less than one byte a second for the whole window = stalled.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_seconds);
  curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(offset));

  AttemptResult r;
  r.code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.http_status);
  r.error = error[0] != '\0' ? error : curl_easy_strerror(r.code);
  r.io_error = a.io_error;
  if (a.file && std::fflush(a.file.get()) != 0) r.io_error = true;
  return r;
}

enum class Verdict {
  kRetry,      // may work next time: keep the partial file and back off
  kRestart,    // the partial file cannot be resumed: delete it and retry
  kFatal,      // will not work however often we try
};

Verdict Classify(const AttemptResult& r, DownloadFailure* failure) {
  if (r.code == CURLE_HTTP_RETURNED_ERROR) {
    const long s = r.http_status;
    *failure = {ErrorCode::kUnavailable, "HTTP " + std::to_string(s)};
    if (s == 404 || s == 410) failure->code = ErrorCode::kNotFound;
    if (s == 401 || s == 403) failure->code = ErrorCode::kUnauthenticated;
    if (s == 416) return Verdict::kRestart;  // the partial file is longer than the remote one
    return s >= 500 || s == 408 || s == 429 ? Verdict::kRetry : Verdict::kFatal;
  }
  *failure = {ErrorCode::kUnavailable, r.error};
  switch (r.code) {
    case CURLE_RANGE_ERROR:  // the server ignored the range and sent it all
      return Verdict::kRestart;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return Verdict::kRetry;
    case CURLE_FILE_COULDNT_READ_FILE:
      failure->code = ErrorCode::kNotFound;
      return Verdict::kFatal;
    default:
      return Verdict::kFatal;
  }
}

uint64_t SizeOrZero(const fs::path& path) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

void Remove(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) throw IOError("cannot delete " + path.string() + ": " + ec.message());
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return s;
}

// After a transfer that curl says is complete: nullopt when the file is
// the one we want, else why not.
std::optional<DownloadFailure> Verify(const fs::path& part, const std::string& name, const std::string& sha256,
                                      uint64_t size) {
  const uint64_t have = SizeOrZero(part);
  if (size > 0 && have != size) {
    return DownloadFailure{ErrorCode::kCorruption, "size mismatch for " + name + ": expected " +
                                                       std::to_string(size) + " bytes, got " + std::to_string(have)};
  }
  if (sha256.empty()) return std::nullopt;
  const std::string got = Sha256File(part);
  if (got == Lower(sha256)) return std::nullopt;
  return DownloadFailure{ErrorCode::kCorruption,
                         "sha256 mismatch for " + name + ": expected " + Lower(sha256) + ", got " + got};
}

void Backoff(int failures) {
  std::this_thread::sleep_for(std::chrono::duration<double>(kBackoffSeconds * failures));
}

}  // namespace

std::optional<DownloadFailure> TryDownloadFile(const std::string& url, const fs::path& dest, const std::string& sha256,
                                               uint64_t size, const ZooDownloadOptions& options) {
  GlobalInit();
  std::error_code ec;
  if (dest.has_parent_path()) fs::create_directories(dest.parent_path(), ec);
  if (ec) throw IOError("cannot create " + dest.parent_path().string() + ": " + ec.message());
  FileLock lock(fs::path(dest) += ".lock");
  const fs::path part = fs::path(dest) += ".part";
  const std::string name = dest.filename().string();
  if (size > 0 && SizeOrZero(part) > size) Remove(part);
  if (options.overwrite) Remove(part);

  // An attempt that got the partial file further than ever before is not a
  // failure: a connection that keeps dropping still gets there. Only the
  // high-water mark counts, so a server that restarts from zero each time
  // cannot loop forever.
  uint64_t high_water = SizeOrZero(part);
  int failures = 0;
  DownloadFailure last{ErrorCode::kUnavailable, "no attempt made"};
  while (failures < std::max(1, options.max_attempts)) {
    const uint64_t have = SizeOrZero(part);
    // A complete partial file (from an earlier run that died verifying) is
    // only verified; a range request past its end would get a 416.
    if (size == 0 || have < size) {
      const AttemptResult r = RunAttempt(url, part, have, size, options);
      if (r.io_error) throw IOError("cannot write " + part.string());
      if (r.code != CURLE_OK) {
        const Verdict verdict = Classify(r, &last);
        if (verdict == Verdict::kFatal) return last;
        if (verdict == Verdict::kRestart) {
          // Not a failure: the next attempt asks for the whole file, which
          // cannot run into the same problem.
          Remove(part);
          continue;
        }
        const uint64_t now = SizeOrZero(part);
        if (now > high_water) {
          high_water = now;
          failures = 0;
          continue;
        }
        ++failures;
        if (failures < options.max_attempts) Backoff(failures);
        continue;
      }
      // A successful transfer of an empty file writes nothing.
      if (!fs::exists(part)) std::unique_ptr<std::FILE, FileCloser>(std::fopen(part.c_str(), "ab"));
    }
    if (std::optional<DownloadFailure> bad = Verify(part, name, sha256, size)) {
      // Resuming a wrong file would only extend it: start again from zero.
      Remove(part);
      high_water = 0;
      last = *bad;
      ++failures;
      continue;
    }
    fs::rename(part, dest, ec);
    if (ec) throw IOError("cannot move " + part.string() + " to " + dest.string() + ": " + ec.message());
    return std::nullopt;
  }
  if (last.code != ErrorCode::kCorruption) {
    last.reason += ", after " + std::to_string(failures) + " attempts";
  }
  return last;
}

}  // namespace fo::internal

namespace fo {

void DownloadFile(const std::string& url, const std::filesystem::path& dest, const std::string& sha256, uint64_t size,
                  const ZooDownloadOptions& options) {
  std::optional<internal::DownloadFailure> failure = internal::TryDownloadFile(url, dest, sha256, size, options);
  if (!failure) return;
  if (failure->code == ErrorCode::kCorruption) throw Error(failure->code, failure->reason);
  throw Error(failure->code, "cannot download " + url + ": " + failure->reason);
}

}  // namespace fo
