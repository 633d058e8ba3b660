// fo::Image: a decoded 8-bit RGB image (interleaved, row-major) with an
// optional alpha plane, the input of every image model. Decoding goes through
// OpenCV, kept out of this header so that users of the library need no OpenCV
// headers.
#ifndef FO_IMAGE_H_
#define FO_IMAGE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fo {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3 bytes, R G B
  // width * height bytes, row-major; empty when the image is opaque. The rgb
  // bytes are straight (not premultiplied) colour, as in the file.
  std::vector<uint8_t> alpha = {};
  bool has_alpha() const { return !alpha.empty(); }
  const uint8_t* pixel(int x, int y) const { return rgb.data() + (static_cast<size_t>(y) * width + x) * 3; }
};

// Decodes a JPEG, PNG, BMP or WebP file. Throws kInvalidArgument
// ("cannot decode image <path>: ...") for a missing or unreadable file.
// - Gray images are replicated to R = G = B (what PIL's convert("RGB") does).
// - 16-bit samples keep their high byte, as OpenCV's IMREAD_COLOR does.
// - PNG and WebP alpha (also gray+alpha and palette transparency) is kept in
//   `alpha`, unless every pixel is opaque: then `alpha` stays empty.
// - The EXIF orientation of a JPEG or PNG is applied, as OpenCV's imread does
//   by default, so pixels, ReadImageSize and patch crops agree. (CLIP's own
//   preprocessing does not apply it; no reference image has any.)
Image LoadImage(const std::string& path);

// Decodes an image for display (the App's thumbnails): RGB, alpha dropped,
// orientation applied, at 1/`reduction` of its size (1, 2, 4 or 8; a JPEG
// decodes that much faster at a reduced size). Throws like LoadImage.
Image LoadImagePreview(const std::string& path, int reduction = 1);

// The image (RGB) as JPEG bytes at `quality` (1..100). Throws kIOError if
// the encoder fails.
std::vector<uint8_t> EncodeJpeg(const Image& image, int quality);

// Reads only the size of an image file; throws like LoadImage.
std::pair<int, int> ReadImageSize(const std::string& path);

// Writes an image (format from the extension), without its alpha plane.
// Throws kIOError on failure.
void SaveImage(const Image& image, const std::string& path);

// The crop of a detection, as FiftyOne extracts patches: box [x, y, w, h]
// relative; alpha pads each side by alpha*w/2 and alpha*h/2 (clamped to the
// image); force_square grows the smaller side to the larger, centred and kept
// inside the image. Pixel bounds are int(W*x) (truncation). Never empty: a
// degenerate box yields a 1x1 crop. The alpha plane, if any, is cropped too.
Image CropPatch(const Image& image, const std::array<double, 4>& box,
                bool force_square = false, std::optional<double> alpha = std::nullopt);

// True for the file extensions importers take (.jpg .jpeg .png .bmp .webp,
// any case).
bool IsImageFile(const std::string& path);

}  // namespace fo

#endif  // FO_IMAGE_H_
