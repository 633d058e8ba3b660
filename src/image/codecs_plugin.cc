// The plugin libfo_imgcodecs.so (see codecs.h): the only file that calls
// OpenCV's imgcodecs.
#include <opencv2/imgcodecs.hpp>

#include "image/codecs.h"

namespace fo::internal {
namespace {

class OpenCvCodecs : public ImageCodecs {
 public:
  cv::Mat Decode(const std::vector<uint8_t>& bytes, int flags) override { return cv::imdecode(bytes, flags); }
  cv::Mat Read(const std::string& path, int flags) override { return cv::imread(path, flags); }
  bool Write(const std::string& path, const cv::Mat& image, const std::vector<int>& params) override {
    return cv::imwrite(path, image, params);
  }
  bool Encode(const std::string& ext, const cv::Mat& image, std::vector<uint8_t>& out,
              const std::vector<int>& params) override {
    return cv::imencode(ext, image, out, params);
  }
};

}  // namespace
}  // namespace fo::internal

extern "C" __attribute__((visibility("default"))) fo::internal::ImageCodecs* fo_imgcodecs_v1() {
  static auto* codecs = new fo::internal::OpenCvCodecs();  // never destroyed
  return codecs;
}
