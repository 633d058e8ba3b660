// Image resizing that reproduces PIL (Pillow 9.4) bit for bit, and the CLIP
// preprocessing built on it: torchvision's Resize(size, BICUBIC) of a PIL
// image, CenterCrop(size), convert("RGB"), ToTensor and Normalize.
//
// Why bit-exact: a CLIP model was trained and evaluated on PIL's output, and
// the embeddings of the reference fixtures (../shared/clip) are only
// reproducible from the same 8-bit pixels. See ../shared/clip/README.md.
//
// All functions are pure and thread-safe; they run on the embedding worker
// threads. Each throws kInvalidArgument for an empty or malformed image
// (see fo::Image) or a non-positive size.
#ifndef FO_IMAGE_RESIZE_H_
#define FO_IMAGE_RESIZE_H_

#include <array>

#include "fo/image.h"

namespace fo::internal {

// PIL's Image.resize((width, height), Image.BICUBIC) with the default
// reducing_gap=None: a separable cubic convolution (a = -0.5, widened when
// downscaling), horizontal pass first, each pass rounded to 8 bits.
// With an alpha plane it does what PIL does for an RGBA image: premultiply
// (RGBA -> RGBa), resize, unpremultiply (RGBa -> RGBA). The result keeps the
// resized alpha plane; its rgb is PIL's result after convert("RGB"). As in
// PIL, a resize to the same size returns an unchanged copy.
Image ResizeBicubicPil(const Image& in, int width, int height);

// Where CLIP's Resize(size) + CenterCrop(size) land for a width x height
// image: the shorter side becomes `size`, the longer int(size * long / short)
// (truncated), and the crop starts at round((resized - size) / 2) with
// Python's round half to even.
struct CenterCropGeometry {
  int resized_width = 0;
  int resized_height = 0;
  int left = 0;
  int top = 0;
};
CenterCropGeometry ClipCenterCropGeometry(int width, int height, int size);

// CLIP's Resize(size, BICUBIC) + CenterCrop(size) + convert("RGB"): an
// opaque size x size RGB image (alpha dropped after the resize, as CLIP
// does). Only the cropped window is computed, which gives the same pixels as
// resizing the whole image and cropping, because every output pixel of PIL's
// resize depends only on its own filter window.
Image ResizeShorterSideAndCenterCrop(const Image& in, int size);

// PIL bicubic straight to size x size (aspect ratio not kept, nothing cut
// off), then convert("RGB"): an opaque alternative to the centre crop.
Image ResizeStretch(const Image& in, int size);

// torchvision's ToTensor + Normalize(mean, std) in float32: out[c][y][x] =
// (rgb / 255.0f - mean[c]) / std[c], CHW, RGB order. `out` holds
// 3 * width * height floats. Alpha is ignored. Throws kInvalidArgument for a
// malformed image, a null `out` or a zero std.
void NormalizeToChw(const Image& in, const std::array<float, 3>& mean, const std::array<float, 3>& std,
                    float* out);

}  // namespace fo::internal

#endif  // FO_IMAGE_RESIZE_H_
