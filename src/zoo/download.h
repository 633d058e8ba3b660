// The downloader behind fo::DownloadFile, reporting a failed download as a
// value so that the zoo can wrap its reason into its own message.
#ifndef FO_ZOO_DOWNLOAD_H_
#define FO_ZOO_DOWNLOAD_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "fo/error.h"
#include "fo/zoo.h"

namespace fo::internal {

struct DownloadFailure {
  ErrorCode code;      // as documented for fo::DownloadFile
  std::string reason;  // one line, e.g. "HTTP 404" or curl's message
};

// fo::DownloadFile, except that a download that fails (network, HTTP,
// checksum) is returned; local failures (kIOError) are still thrown.
std::optional<DownloadFailure> TryDownloadFile(const std::string& url, const std::filesystem::path& dest,
                                               const std::string& sha256, uint64_t size,
                                               const ZooDownloadOptions& options);

}  // namespace fo::internal

#endif  // FO_ZOO_DOWNLOAD_H_
