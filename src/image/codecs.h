// OpenCV's image codecs (imgcodecs) behind a plugin, libfo_imgcodecs.so:
// linking imgcodecs pulls in GDAL and about a hundred other libraries, which
// cost every fo process 0.16 s at start-up (fo --help took 0.18 s; with
// core and imgproc alone 0.02 s). Only decoding or encoding loads it.
// Flags are imgcodecs' own (cv::IMREAD_*, cv::IMWRITE_*).
#ifndef FO_IMAGE_CODECS_H_
#define FO_IMAGE_CODECS_H_

#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace fo::internal {

class ImageCodecs {
 public:
  virtual ~ImageCodecs() = default;
  // cv::imdecode, cv::imread, cv::imwrite and cv::imencode; cv::Exception
  // passes through as OpenCV throws it.
  virtual cv::Mat Decode(const std::vector<uint8_t>& bytes, int flags) = 0;
  virtual cv::Mat Read(const std::string& path, int flags) = 0;
  virtual bool Write(const std::string& path, const cv::Mat& image, const std::vector<int>& params) = 0;
  virtual bool Encode(const std::string& ext, const cv::Mat& image, std::vector<uint8_t>& out,
                      const std::vector<int>& params) = 0;
};

inline constexpr const char* kImageCodecsPluginFile = "libfo_imgcodecs.so";
// extern "C" ImageCodecs* fo_imgcodecs_v1(); the version changes with the interface.
inline constexpr const char* kImageCodecsPluginEntry = "fo_imgcodecs_v1";

// Loads the plugin on first call (thread-safe); throws kFailedPrecondition
// with one line if it cannot.
ImageCodecs& GetImageCodecs();

}  // namespace fo::internal

#endif  // FO_IMAGE_CODECS_H_
