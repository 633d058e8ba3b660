// SHA-256 of a file, through OpenSSL's EVP interface (the one place the zoo
// talks to OpenSSL).
#ifndef FO_ZOO_SHA256_H_
#define FO_ZOO_SHA256_H_

#include <filesystem>
#include <string>

namespace fo::internal {

// Lowercase hex. Throws kIOError when the file cannot be read.
std::string Sha256File(const std::filesystem::path& path);

}  // namespace fo::internal

#endif  // FO_ZOO_SHA256_H_
