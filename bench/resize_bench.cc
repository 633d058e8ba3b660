// resize_bench: times CLIP's preprocessing resize (fo::internal, the port of
// PIL's bicubic in src/image/resize.cc) against OpenCV's cv::resize with
// INTER_AREA and INTER_CUBIC on the same images, single-threaded (the
// embedding pipeline runs one image per worker thread). Prints the median of
// N runs per case as a Markdown table. Run: build/bench/resize_bench [--runs N].
#include <stdio.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "bench_util.h"
#include "fo/image.h"
#include "image/resize.h"

namespace {

using Clock = std::chrono::steady_clock;

// A photo-like test image: smooth gradients plus noise, so no code path can
// shortcut on flat areas. Timing does not depend on the content otherwise.
fo::Image MakeImage(int width, int height, bool alpha, uint64_t seed) {
  fo::Image im;
  im.width = width;
  im.height = height;
  im.rgb.resize(static_cast<size_t>(width) * height * 3);
  if (alpha) im.alpha.resize(static_cast<size_t>(width) * height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const size_t i = static_cast<size_t>(y) * width + x;
      const uint64_t r = fo::bench::SplitMix(seed);
      im.rgb[i * 3 + 0] = static_cast<uint8_t>((x * 255 / width + (r & 31)) & 255);
      im.rgb[i * 3 + 1] = static_cast<uint8_t>((y * 255 / height + ((r >> 8) & 31)) & 255);
      im.rgb[i * 3 + 2] = static_cast<uint8_t>(((x + y) * 127 / (width + height) + ((r >> 16) & 63)) & 255);
      if (alpha) im.alpha[i] = static_cast<uint8_t>(r >> 24);
    }
  }
  return im;
}

// Median wall time of `runs` calls, in ms, after one warm-up call.
double MedianMs(int runs, const std::function<void()>& f) {
  f();
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

// OpenCV's equivalent of CLIP's resize + centre crop: resize the whole image
// to the CLIP size, then take the crop (a view; the copy is included).
double OpenCvMs(const fo::Image& im, int interpolation, int runs) {
  const auto g = fo::internal::ClipCenterCropGeometry(im.width, im.height, 224);
  cv::Mat src(im.height, im.width, CV_8UC3, const_cast<uint8_t*>(im.rgb.data()));
  cv::Mat resized, crop;
  return MedianMs(runs, [&] {
    cv::resize(src, resized, cv::Size(g.resized_width, g.resized_height), 0, 0, interpolation);
    resized(cv::Rect(g.left, g.top, 224, 224)).copyTo(crop);
  });
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 51;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      fprintf(stderr, "usage: resize_bench [--runs N]   (default 51)\n");
      return 2;
    }
  }
  cv::setNumThreads(1);
  printf("# resize_bench: CLIP resize + centre crop to 224, median of %d runs, 1 thread\n", runs);
  printf("CPU: %s, %d available, load %s\n\n", fo::bench::CpuModel().c_str(), fo::bench::CpusAvailable(),
         fo::bench::LoadAverage().c_str());
  printf("| input | ours: crop window | ours: full resize | ours: ToTensor+Normalize | OpenCV AREA | OpenCV CUBIC |\n");
  printf("|---|---:|---:|---:|---:|---:|\n");
  struct Case {
    int w, h;
    bool alpha;
  };
  for (Case c : {Case{640, 480, false}, Case{350, 262, false}, Case{1280, 720, false}, Case{1920, 1080, false},
                 Case{4032, 3024, false}, Case{640, 480, true}}) {
    const fo::Image im = MakeImage(c.w, c.h, c.alpha, 42);
    const auto g = fo::internal::ClipCenterCropGeometry(c.w, c.h, 224);
    fo::Image out;
    const double window = MedianMs(runs, [&] { out = fo::internal::ResizeShorterSideAndCenterCrop(im, 224); });
    const double full = MedianMs(runs, [&] { out = fo::internal::ResizeBicubicPil(im, g.resized_width, g.resized_height); });
    fo::Image crop = fo::internal::ResizeShorterSideAndCenterCrop(im, 224);
    std::vector<float> tensor(3 * 224 * 224);
    const double normalize = MedianMs(runs, [&] {
      fo::internal::NormalizeToChw(crop, {0.48145466f, 0.4578275f, 0.40821073f},
                                   {0.26862954f, 0.26130258f, 0.27577711f}, tensor.data());
    });
    const double area = OpenCvMs(im, cv::INTER_AREA, runs);
    const double cubic = OpenCvMs(im, cv::INTER_CUBIC, runs);
    std::string name = std::to_string(c.w) + "x" + std::to_string(c.h) + (c.alpha ? " RGBA" : " RGB");
    printf("| %s | %s | %s | %s | %s | %s |\n", name.c_str(), fo::bench::Ms(window).c_str(), fo::bench::Ms(full).c_str(),
           fo::bench::Ms(normalize).c_str(), fo::bench::Ms(area).c_str(), fo::bench::Ms(cubic).c_str());
  }
  printf("\nOpenCV columns ignore alpha (no premultiplication); ours with RGBA does PIL's RGBa round trip.\n");
  printf("load at end: %s\n", fo::bench::LoadAverage().c_str());
  return 0;
}
