// Tests for the built-in "color-gradient-descriptor" model and the model
// registry.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "fo/error.h"
#include "fo/image.h"
#include "fo/model.h"
#include "test_support.h"

namespace fo {
namespace {

using Rgb = std::array<uint8_t, 3>;
using testing::CaughtError;
constexpr size_t kDimension = 284;

// A w x h image of `background` with `inside(x, y)` pixels painted `color`.
Image Paint(int w, int h, Rgb background, Rgb color, const std::function<bool(int, int)>& inside) {
  Image image{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const Rgb& c = inside(x, y) ? color : background;
      std::copy(c.begin(), c.end(), image.rgb.begin() + (static_cast<size_t>(y) * w + x) * 3);
    }
  }
  return image;
}

Image Disc(int cx, int cy, int r, Rgb background, Rgb color) {
  return Paint(160, 120, background, color, [=](int x, int y) { return (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r; });
}

Image Square(int x0, int y0, int side, Rgb background, Rgb color) {
  return Paint(160, 120, background, color, [=](int x, int y) { return x >= x0 && x < x0 + side && y >= y0 && y < y0 + side; });
}

const Rgb kRed{220, 30, 30}, kBlue{30, 60, 200}, kGreen{40, 170, 60}, kWhite{245, 245, 245};

double Dot(std::span<const float> a, std::span<const float> b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double{a[i]} * b[i];
  return s;
}

class DescriptorTest : public ::testing::Test {
 protected:
  std::unique_ptr<Model> model_ = LoadModel(kColorGradientDescriptor);
};

TEST_F(DescriptorTest, FixedDimensionUnitNormFinite) {
  EXPECT_EQ(model_->name(), kColorGradientDescriptor);
  EXPECT_EQ(model_->dimension(), kDimension);
  EXPECT_FALSE(model_->supports_prompts());
  // Odd sizes, tiny, flat and greyscale-looking inputs included.
  std::vector<Image> images = {Disc(80, 60, 30, kBlue, kRed), Paint(1, 1, kRed, kRed, [](int, int) { return false; }),
                               Paint(700, 37, {128, 128, 128}, kWhite, [](int x, int) { return x % 50 < 25; }),
                               Paint(64, 64, {0, 0, 0}, kWhite, [](int, int) { return false; })};
  Matrix m = model_->EmbedImages(images);
  ASSERT_EQ(m.rows(), images.size());
  ASSERT_EQ(m.cols(), kDimension);
  for (size_t i = 0; i < m.rows(); ++i) {
    for (float v : m.row(i)) ASSERT_TRUE(std::isfinite(v)) << "row " << i;
    EXPECT_NEAR(Dot(m.row(i), m.row(i)), 1.0, 1e-5) << "row " << i;
  }
}

TEST_F(DescriptorTest, DeterministicAndIndependentOfBatching) {
  std::vector<Image> images;
  for (int i = 0; i < 7; ++i) images.push_back(Disc(40 + 10 * i, 60, 20 + i, kBlue, kRed));
  Matrix batch = model_->EmbedImages(images);
  Matrix again = LoadModel(kColorGradientDescriptor)->EmbedImages(images);
  EXPECT_EQ(batch.values(), again.values());
  for (size_t i = 0; i < images.size(); ++i) {
    Matrix single = model_->EmbedImages({images[i]});
    EXPECT_TRUE(std::equal(single.row(0).begin(), single.row(0).end(), batch.row(i).begin())) << i;
  }
  EXPECT_EQ(model_->EmbedImages({}).rows(), 0u);
}

TEST_F(DescriptorTest, SimilarImagesAreCloserThanDissimilarOnes) {
  Image disc = Disc(60, 60, 30, kBlue, kRed);
  Image shifted = Disc(66, 63, 30, kBlue, kRed);
  Image other_colour = Disc(60, 60, 30, kWhite, kGreen);
  Image other_shape = Square(30, 30, 60, kWhite, kGreen);
  Matrix m = model_->EmbedImages({disc, shifted, other_colour, other_shape});
  double near = Dot(m.row(0), m.row(1));
  EXPECT_GT(near, 0.9);
  EXPECT_GT(near, Dot(m.row(0), m.row(2)) + 0.2);
  EXPECT_GT(near, Dot(m.row(0), m.row(3)) + 0.2);
  // With colour fixed, the edge block still separates a disc from a square.
  Matrix same_colour = model_->EmbedImages({Disc(60, 60, 30, kWhite, kGreen), Disc(63, 58, 31, kWhite, kGreen),
                                            Square(33, 33, 54, kWhite, kGreen)});
  EXPECT_GT(Dot(same_colour.row(0), same_colour.row(1)), Dot(same_colour.row(0), same_colour.row(2)));
}

TEST_F(DescriptorTest, ReencodedImageStaysClose) {
  testing::TempDir dir;
  const std::string images = testing::SharedDir() + "/clip/images/";
  Image photo = LoadImage(images + "photo_q90.jpg");
  SaveImage(photo, dir.File("again.jpg"));
  Matrix m = model_->EmbedImages({photo, LoadImage(dir.File("again.jpg")), LoadImage(images + "gradient_320x240.png"),
                                  LoadImage(images + "pattern_500x500.png")});
  double reencoded = Dot(m.row(0), m.row(1));
  EXPECT_GT(reencoded, 0.98);
  EXPECT_GT(reencoded, Dot(m.row(0), m.row(2)) + 0.1);
  EXPECT_GT(reencoded, Dot(m.row(0), m.row(3)) + 0.1);
}

TEST_F(DescriptorTest, RejectsMalformedImagesAndKwargs) {
  EXPECT_EQ(CaughtError([&] { model_->EmbedImages({Image{}}); }).code(), ErrorCode::kInvalidArgument);
  Image short_buffer{4, 4, std::vector<uint8_t>(10)};
  EXPECT_EQ(CaughtError([&] { model_->EmbedImages({Disc(5, 5, 3, kBlue, kRed), short_buffer}); }).code(),
            ErrorCode::kInvalidArgument);
  Error e = CaughtError([] { LoadModel(kColorGradientDescriptor, {{"size", 64}}); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(std::string(e.what()).find("size"), std::string::npos) << e.what();
  EXPECT_EQ(CaughtError([] { LoadModel(kColorGradientDescriptor, nlohmann::json::array({1})); }).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_NO_THROW(LoadModel(kColorGradientDescriptor, nlohmann::json()));
}

TEST_F(DescriptorTest, PromptsAreUnimplemented) {
  Error e = CaughtError([&] { model_->EmbedPrompts({"a red circle"}); });
  EXPECT_EQ(e.code(), ErrorCode::kUnimplemented);
  EXPECT_EQ(std::string(e.what()), "model 'color-gradient-descriptor' does not support prompts");
}

TEST(ModelRegistryTest, ListsTheBuiltinDescriptor) {
  EXPECT_TRUE(HasModel(kColorGradientDescriptor));
  EXPECT_FALSE(HasModel("no-such-model"));
  bool found = false;
  for (const ModelInfo& info : ListModels()) {
    if (info.name != kColorGradientDescriptor) continue;
    found = true;
    EXPECT_EQ(info.dimension, kDimension);
    EXPECT_FALSE(info.supports_prompts);
    EXPECT_FALSE(info.description.empty());
  }
  EXPECT_TRUE(found);
}

TEST(ModelRegistryTest, UnknownNameListsAvailableModels) {
  Error e = CaughtError([] { LoadModel("clip-vit-base64"); });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  std::string message = e.what();
  EXPECT_EQ(message.rfind("unknown model 'clip-vit-base64'; available models are [", 0), 0u) << message;
  EXPECT_NE(message.find(kColorGradientDescriptor), std::string::npos) << message;
  EXPECT_NE(message.find("clip-vit-base32-torch"), std::string::npos) << message;
  EXPECT_NE(message.find("or give the path of a TorchScript file"), std::string::npos) << message;
}

class FakeModel : public Model {
 public:
  explicit FakeModel(size_t dimension) : dimension_(dimension) {}
  const std::string& name() const override { return name_; }
  size_t dimension() const override { return dimension_; }
  Matrix EmbedImages(const std::vector<Image>& images) override { return Matrix(images.size(), dimension_); }

 private:
  std::string name_ = "test-fake";
  size_t dimension_;
};

TEST(ModelRegistryTest, RegisterAddsAndReplaces) {
  RegisterModel({"test-fake", "a fake", 3, false},
                [](const nlohmann::json& kwargs) { return std::make_unique<FakeModel>(kwargs.value("dim", 3)); });
  EXPECT_TRUE(HasModel("test-fake"));
  EXPECT_EQ(LoadModel("test-fake", {{"dim", 5}})->dimension(), 5u);
  RegisterModel({"test-fake", "a fake", 8, false}, [](const nlohmann::json&) { return std::make_unique<FakeModel>(8); });
  EXPECT_EQ(LoadModel("test-fake")->dimension(), 8u);
  EXPECT_TRUE(HasModel(kColorGradientDescriptor));  // the built-ins stay
  Error e = CaughtError([] { LoadModel("test-fake")->EmbedPrompts({"x"}); });
  EXPECT_EQ(std::string(e.what()), "model 'test-fake' does not support prompts");
}

}  // namespace
}  // namespace fo
