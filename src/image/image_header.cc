// ReadImageMetadata (fo/metadata.h): image sizes and channel counts from the
// first bytes of the file, by format. Only headers are read: a JPEG's
// markers are skipped by their lengths up to its frame header (SOFn), so an
// 8 MB photo costs a few small reads.
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "fo/error.h"
#include "fo/metadata.h"

namespace fo {

namespace {

using FilePtr = std::unique_ptr<FILE, int (*)(FILE*)>;

class HeaderReader {
 public:
  HeaderReader(FILE* f, const std::string& path) : f_(f), path_(path) {}

  // Reads exactly n bytes at the current position.
  void Read(uint8_t* out, size_t n) {
    if (std::fread(out, 1, n, f_) != n) throw InvalidArgument(path_ + ": the image header is cut short");
  }
  void Skip(long n) {
    if (std::fseek(f_, n, SEEK_CUR) != 0) throw InvalidArgument(path_ + ": the image header is cut short");
  }
  uint8_t Byte() {
    uint8_t b;
    Read(&b, 1);
    return b;
  }

 private:
  FILE* f_;
  const std::string& path_;
};

uint32_t BigEndian(const uint8_t* p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}
uint32_t LittleEndian(const uint8_t* p, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Walks the markers after SOI to the frame header: SOF0..SOF15 but DHT
// (C4), JPG (C8) and DAC (CC), which share the range.
void ReadJpeg(HeaderReader& r, ImageMetadata& m, const std::string& path) {
  m.mime_type = "image/jpeg";
  for (;;) {
    uint8_t b = r.Byte();
    if (b != 0xFF) throw InvalidArgument(path + ": a JPEG marker was expected; the file is damaged");
    uint8_t marker;
    do marker = r.Byte();
    while (marker == 0xFF);  // fill bytes
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (marker == 0xD9 || marker == 0xDA) throw InvalidArgument(path + ": the JPEG has no frame header before its data");
    uint8_t len_bytes[2];
    r.Read(len_bytes, 2);
    const uint32_t len = BigEndian(len_bytes, 2);
    if (len < 2) throw InvalidArgument(path + ": a JPEG segment has a bad length");
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      uint8_t sof[6];  // precision, height, width, components
      r.Read(sof, 6);
      m.height = static_cast<int>(BigEndian(sof + 1, 2));
      m.width = static_cast<int>(BigEndian(sof + 3, 2));
      m.num_channels = sof[5];
      return;
    }
    r.Skip(static_cast<long>(len) - 2);
  }
}

void ReadPng(HeaderReader& r, ImageMetadata& m) {
  uint8_t ihdr[18];  // after the signature: length, "IHDR", width, height, depth, colour type
  r.Read(ihdr, 18);
  m.mime_type = "image/png";
  m.width = static_cast<int>(BigEndian(ihdr + 8, 4));
  m.height = static_cast<int>(BigEndian(ihdr + 12, 4));
  switch (ihdr[17]) {
    case 0: m.num_channels = 1; break;  // grey
    case 2: m.num_channels = 3; break;  // RGB
    case 3: m.num_channels = 1; break;  // palette (PIL's "P")
    case 4: m.num_channels = 2; break;  // grey + alpha
    case 6: m.num_channels = 4; break;  // RGBA
    default: m.num_channels = 0;
  }
}

void ReadBmp(HeaderReader& r, ImageMetadata& m) {
  // h[0..11]: the file header after "BM"; h[12..]: the DIB header from its size.
  uint8_t h[68];
  r.Read(h, 16);
  const uint32_t dib = LittleEndian(h + 12, 4);
  m.mime_type = "image/bmp";
  if (dib == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit sizes
    r.Read(h + 16, 8);
    m.width = static_cast<int>(LittleEndian(h + 16, 2));
    m.height = static_cast<int>(LittleEndian(h + 18, 2));
    m.num_channels = LittleEndian(h + 22, 2) <= 8 ? 1 : 3;
    return;
  }
  r.Read(h + 16, 16);
  m.width = static_cast<int>(static_cast<int32_t>(LittleEndian(h + 16, 4)));
  m.height = std::abs(static_cast<int32_t>(LittleEndian(h + 20, 4)));  // negative: stored top-down
  const uint32_t bpp = LittleEndian(h + 26, 2), compression = LittleEndian(h + 28, 4);
  // As PIL: up to 8 bits a palette, 32 bits with an alpha mask RGBA, else
  // RGB. The alpha mask is at DIB offset 52 (a V3+ header, or the masks
  // that follow a 40-byte header with BI_ALPHABITFIELDS).
  uint32_t alpha_mask = 0;
  if (bpp == 32 && (compression == 3 || compression == 6) && (dib >= 56 || compression == 6)) {
    r.Read(h + 32, 36);
    alpha_mask = LittleEndian(h + 64, 4);
  }
  m.num_channels = bpp <= 8 ? 1 : alpha_mask != 0 ? 4 : 3;
}

void ReadWebp(HeaderReader& r, ImageMetadata& m, const std::string& path) {
  uint8_t h[18];  // after "RIFF" size "WEBP": chunk fourcc, size, then 10 bytes of the chunk
  r.Read(h, 18);
  m.mime_type = "image/webp";
  const uint8_t* c = h + 8;
  if (std::memcmp(h, "VP8 ", 4) == 0) {  // lossy: 3-byte frame tag, start code, 14-bit sizes
    if (c[3] != 0x9D || c[4] != 0x01 || c[5] != 0x2A) throw InvalidArgument(path + ": the WebP (VP8) header is damaged");
    m.width = static_cast<int>(LittleEndian(c + 6, 2) & 0x3FFF);
    m.height = static_cast<int>(LittleEndian(c + 8, 2) & 0x3FFF);
    m.num_channels = 3;
  } else if (std::memcmp(h, "VP8L", 4) == 0) {  // lossless: signature, then 14 + 14 + 1 bits
    if (c[0] != 0x2F) throw InvalidArgument(path + ": the WebP (VP8L) header is damaged");
    const uint32_t bits = LittleEndian(c + 1, 4);
    m.width = static_cast<int>((bits & 0x3FFF) + 1);
    m.height = static_cast<int>(((bits >> 14) & 0x3FFF) + 1);
    m.num_channels = (bits >> 28) & 1 ? 4 : 3;
  } else if (std::memcmp(h, "VP8X", 4) == 0) {  // extended: flags, 3 reserved, 24-bit sizes - 1
    m.width = static_cast<int>(LittleEndian(c + 4, 3) + 1);
    m.height = static_cast<int>(LittleEndian(c + 7, 3) + 1);
    m.num_channels = c[0] & 0x10 ? 4 : 3;
  } else {
    throw InvalidArgument(path + ": unknown WebP chunk; the file is damaged");
  }
}

}  // namespace

ImageMetadata ReadImageMetadata(const std::string& path) {
  FilePtr f(std::fopen(path.c_str(), "rb"), &std::fclose);
  struct stat st {};
  if (!f || fstat(fileno(f.get()), &st) != 0)
    throw IOError(path + ": " + std::strerror(errno));
  ImageMetadata m;
  m.size_bytes = static_cast<int64_t>(st.st_size);
  HeaderReader r(f.get(), path);
  std::array<uint8_t, 12> magic{};  // zeros past the end of a shorter file
  if (std::fread(magic.data(), 1, magic.size(), f.get()) == 0 && std::ferror(f.get()))
    throw IOError(path + ": " + std::strerror(errno));
  if (magic[0] == 0xFF && magic[1] == 0xD8) {
    std::fseek(f.get(), 2, SEEK_SET);
    ReadJpeg(r, m, path);
  } else if (std::memcmp(magic.data(), "\x89PNG\r\n\x1a\n", 8) == 0) {
    std::fseek(f.get(), 8, SEEK_SET);
    ReadPng(r, m);
  } else if (magic[0] == 'B' && magic[1] == 'M') {
    std::fseek(f.get(), 2, SEEK_SET);
    ReadBmp(r, m);
  } else if (std::memcmp(magic.data(), "RIFF", 4) == 0 && std::memcmp(magic.data() + 8, "WEBP", 4) == 0) {
    ReadWebp(r, m, path);
  } else if (std::memcmp(magic.data(), "GIF8", 4) == 0) {
    uint8_t size[4];
    std::fseek(f.get(), 6, SEEK_SET);
    r.Read(size, 4);
    m.mime_type = "image/gif";
    m.width = static_cast<int>(LittleEndian(size, 2));
    m.height = static_cast<int>(LittleEndian(size + 2, 2));
    m.num_channels = 1;  // PIL's "P"
  } else {
    throw InvalidArgument(path + ": not a JPEG, PNG, BMP, WebP or GIF image");
  }
  if (m.width <= 0 || m.height <= 0) throw InvalidArgument(path + ": the image header gives no size");
  return m;
}

}  // namespace fo
