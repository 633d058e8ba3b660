// TorchScript models on libtorch against the reference outputs that
// openai/CLIP produced for the tiny archives in ../shared/clip (see its
// README for how they were made and for the tolerances used here).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <thread>

#include "fo/error.h"
#include "fo/image.h"
#include "fo/model.h"
#include "fo/zoo.h"
#include "test_support.h"
#include "torchscript/torch_models.h"

namespace fo {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

std::string Clip(const std::string& name) { return testing::SharedDir() + "/clip/" + name; }

const json& Reference() {
  static const json* ref = new json(json::parse(testing::ReadFile(Clip("reference.json"))));
  return *ref;
}

json ClipKwargs() { return {{"tokenizer_path", Clip("bpe_simple_vocab_16e6.txt.gz")}}; }

double RelativeL2(std::span<const float> a, const json& b) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double r = b[i].get<double>();
    diff += (a[i] - r) * (a[i] - r);
    norm += r * r;
  }
  return std::sqrt(diff / norm);
}

double Cosine(std::span<const float> a, const json& b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double r = b[i].get<double>();
    dot += a[i] * r, na += a[i] * a[i], nb += r * r;
  }
  return dot / std::sqrt(na * nb);
}

// Each row of `m` against the reference embeddings, within the tolerances.
void ExpectEmbeddings(const Matrix& m, const std::vector<json>& reference, double max_rel_l2, double min_cosine,
                      const std::vector<std::string>& names) {
  ASSERT_EQ(m.rows(), reference.size());
  for (size_t i = 0; i < m.rows(); ++i) {
    ASSERT_EQ(m.cols(), reference[i].size()) << names[i];
    EXPECT_LE(RelativeL2(m.row(i), reference[i]), max_rel_l2) << names[i];
    EXPECT_GE(Cosine(m.row(i), reference[i]), min_cosine) << names[i];
  }
}

struct Archive {
  std::string file;
  double rel_l2;  // README "Tolerances": 1e-4 for the fp32 archive, 2e-3 for fp16 weights
  double logits;
};

class ClipArchiveTest : public ::testing::TestWithParam<Archive> {
 protected:
  static std::vector<json> ImageEmbeddings() {
    std::vector<json> out;
    for (const json& image : Reference()["images"]) out.push_back(image["embedding"]);
    return out;
  }
  static std::vector<std::string> Field(const char* list, const char* field) {
    std::vector<std::string> out;
    for (const json& item : Reference()[list]) out.push_back(item[field]);
    return out;
  }
  std::unique_ptr<Model> Load() { return LoadModel(Clip(GetParam().file), ClipKwargs()); }
};

TEST_P(ClipArchiveTest, ReportsDimensionAndPrompts) {
  auto model = Load();
  EXPECT_EQ(model->dimension(), 32u);
  EXPECT_TRUE(model->supports_prompts());
  EXPECT_EQ(model->name(), Clip(GetParam().file));
}

// Model only: the reference tensors, rebuilt from the 8-bit preprocessed PNGs.
TEST_P(ClipArchiveTest, PreprocessedImagesMatchReference) {
  std::vector<Image> images;
  for (const std::string& png : Field("images", "preprocessed_224_png")) images.push_back(LoadImage(Clip(png)));
  ExpectEmbeddings(Load()->EmbedImages(images), ImageEmbeddings(), GetParam().rel_l2, 0.99999,
                   Field("images", "file"));
}

// End to end from the original files: our PIL-exact preprocessing included.
TEST_P(ClipArchiveTest, OriginalImagesMatchReference) {
  std::vector<Image> images;
  for (const std::string& file : Field("images", "file")) images.push_back(LoadImage(Clip(file)));
  ExpectEmbeddings(Load()->EmbedImages(images), ImageEmbeddings(), GetParam().rel_l2, 0.99999,
                   Field("images", "file"));
}

TEST_P(ClipArchiveTest, PromptsMatchReference) {
  std::vector<std::string> texts = Field("texts", "text");
  std::vector<json> embeddings;
  for (const json& t : Reference()["texts"]) embeddings.push_back(t["embedding"]);
  auto model = Load();
  ExpectEmbeddings(model->EmbedPrompts(texts), embeddings, GetParam().rel_l2, 0.99999, texts);
  std::vector<std::vector<int64_t>> tokens = model->TokenizePrompts(texts);
  for (size_t i = 0; i < texts.size(); ++i)
    EXPECT_EQ(tokens[i], Reference()["texts"][i]["tokens"].get<std::vector<int64_t>>()) << texts[i];
}

// CLIP's logits from our embeddings: exp(logit_scale) * cos(image, text).
TEST_P(ClipArchiveTest, LogitsMatchReference) {
  std::vector<Image> images;
  for (const std::string& png : Field("images", "preprocessed_224_png")) images.push_back(LoadImage(Clip(png)));
  auto model = Load();
  Matrix im = model->EmbedImages(images), tx = model->EmbedPrompts(Field("texts", "text"));
  const json& logits = Reference()["logits_per_image"];
  double scale = Reference()["logit_scale_exp"];
  for (size_t i = 0; i < im.rows(); ++i) {
    for (size_t j = 0; j < tx.rows(); ++j) {
      double dot = 0, ni = 0, nt = 0;
      for (size_t c = 0; c < im.cols(); ++c)
        dot += im.row(i)[c] * tx.row(j)[c], ni += im.row(i)[c] * im.row(i)[c], nt += tx.row(j)[c] * tx.row(j)[c];
      EXPECT_NEAR(scale * dot / std::sqrt(ni * nt), logits[i][j].get<double>(), GetParam().logits) << i << "," << j;
    }
  }
}

// The trace recorded aten::size, so any batch size gives the same rows.
TEST_P(ClipArchiveTest, BatchedEqualsOneByOne) {
  auto model = Load();
  std::vector<Image> images;
  for (const std::string& file : Field("images", "file")) images.push_back(LoadImage(Clip(file)));
  Matrix batched = model->EmbedImages(images);
  for (size_t i = 0; i < images.size(); ++i) {
    Matrix one = model->EmbedImages({images[i]});
    for (size_t c = 0; c < one.cols(); ++c) EXPECT_NEAR(one.row(0)[c], batched.row(i)[c], 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(Archives, ClipArchiveTest,
                         ::testing::Values(Archive{"tiny_clip_vit.pt", 1e-4, 1e-3},
                                           Archive{"tiny_clip_vit_release_style.pt", 2e-3, 1e-2}),
                         [](const auto& info) { return info.index == 0 ? "Float32" : "ReleaseStyleFp16Cuda"; });

TEST(TorchScriptModel, PrepareImageIsClipResizeAndIdempotent) {
  auto model = LoadModel(Clip("tiny_clip_vit.pt"), ClipKwargs());
  Image prepared = model->PrepareImage(LoadImage(Clip("images/alpha_300x200.png")));
  Image expected = LoadImage(Clip("preprocessed_224/alpha_300x200_224.png"));
  EXPECT_EQ(prepared.width, 224);
  EXPECT_TRUE(prepared.alpha.empty());
  EXPECT_EQ(prepared.rgb, expected.rgb);
  EXPECT_EQ(model->PrepareImage(prepared).rgb, prepared.rgb);
}

TEST(TorchScriptModel, KwargsChangePreprocessing) {
  Image image = LoadImage(Clip("images/gradient_320x240.png"));
  auto clip = LoadModel(Clip("tiny_clip_vit.pt"), ClipKwargs());
  auto stretched = LoadModel(Clip("tiny_clip_vit.pt"), {{"resize", "stretch"}, {"mean", "0.5,0.5,0.5"}});
  EXPECT_EQ(stretched->PrepareImage(image).width, 224);
  Matrix a = clip->EmbedImages({image}), b = stretched->EmbedImages({image});
  double diff = 0;
  for (size_t c = 0; c < a.cols(); ++c) diff += std::abs(a.row(0)[c] - b.row(0)[c]);
  EXPECT_GT(diff, 1e-3);
  auto normalized = LoadModel(Clip("tiny_clip_vit.pt"), {{"normalize", true}});
  Matrix n = normalized->EmbedImages({image});
  double norm = 0;
  for (float v : n.row(0)) norm += v * v;
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

// Torch's own default (one thread per physical core, i.e. half the logical
// CPUs on x86), which measured fastest on our machines, unless num_threads.
TEST(TorchScriptModel, ThreadCountDefaultsToTorchsAndFollowsKwarg) {
  Image image = LoadImage(Clip("images/photo_q90.jpg"));
  auto model = LoadModel(Clip("tiny_clip_vit.pt"));
  model->EmbedImages({image});
  int expected = std::max(1, static_cast<int>(std::thread::hardware_concurrency() / 2));
  EXPECT_EQ(internal::TorchNumThreads(), expected);
  LoadModel(Clip("tiny_clip_vit.pt"), {{"num_threads", 3}})->EmbedImages({image});
  EXPECT_EQ(internal::TorchNumThreads(), 3);
  model->EmbedImages({image});  // each model applies its own setting
  EXPECT_EQ(internal::TorchNumThreads(), expected);
}

TEST(TorchScriptModel, ExplicitThreadCountGivesSameEmbeddings) {
  Image image = LoadImage(Clip("images/photo_q90.jpg"));
  Matrix one = LoadModel(Clip("tiny_clip_vit.pt"), {{"num_threads", 1}})->EmbedImages({image});
  Matrix two = LoadModel(Clip("tiny_clip_vit.pt"), {{"num_threads", "2"}})->EmbedImages({image});
  for (size_t c = 0; c < one.cols(); ++c) EXPECT_NEAR(one.row(0)[c], two.row(0)[c], 1e-5);
}

void ExpectInvalid(const std::string& path, const json& kwargs, const std::string& message) {
  try {
    LoadModel(path, kwargs);
    ADD_FAILURE() << "no error for " << kwargs.dump();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    EXPECT_THAT(e.what(), HasSubstr(message));
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "not one line: " << e.what();
  }
}

TEST(TorchScriptModel, BadKwargsAreOneLineErrors) {
  std::string tiny = Clip("tiny_clip_vit.pt");
  ExpectInvalid(tiny, {{"colour", 1}}, "unknown model kwarg 'colour'");
  ExpectInvalid(tiny, {{"image_size", 0}}, "model kwarg 'image_size' must be an integer");
  ExpectInvalid(tiny, {{"image_size", "big"}}, "model kwarg 'image_size'");
  ExpectInvalid(tiny, {{"mean", {0.5, 0.5}}}, "model kwarg 'mean' must be three numbers");
  ExpectInvalid(tiny, {{"std", {0.5, 0, 0.5}}}, "model kwarg 'std' must be three positive numbers");
  ExpectInvalid(tiny, {{"resize", "squash"}}, "model kwarg 'resize'");
  ExpectInvalid(tiny, {{"image_method", "embed"}}, "has no method 'embed'");
  ExpectInvalid(tiny, {{"text_method", "embed_text"}}, "has no method 'embed_text'");
}

TEST(TorchScriptModel, MissingOrBrokenFileIsOneLineError) {
  testing::TempDir dir;
  ExpectInvalid(dir.File("nothing.pt"), json::object(), "no such file");
  testing::WriteFile(dir.File("garbage.pt"), "this is not a zip archive");
  ExpectInvalid(dir.File("garbage.pt"), json::object(), "cannot load TorchScript model");
}

TEST(TorchScriptModel, UnknownNameStillListsModels) {
  try {
    LoadModel("no-such-model");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_THAT(e.what(), HasSubstr("clip-vit-base32-torch"));
  }
}

TEST(TorchScriptModel, PromptsWithoutVocabularyExplainWhatToDo) {
  testing::TempDir dir;
  setenv("FIFTYONE_CPP_MODEL_ZOO_DIR", dir.path().c_str(), 1);
  // A copy with no vocabulary beside it, and none in the (empty) zoo cache.
  std::string copy = dir.File("model.pt");
  testing::WriteFile(copy, testing::ReadFile(Clip("tiny_clip_vit.pt")));
  auto model = LoadModel(copy);
  EXPECT_TRUE(model->supports_prompts());
  try {
    model->EmbedPrompts({"a dog"});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kFailedPrecondition);
    EXPECT_THAT(e.what(), HasSubstr("tokenizer_path"));
  }
  // Beside the model file is found without kwargs.
  testing::WriteFile(dir.File("bpe_simple_vocab_16e6.txt.gz"), testing::ReadFile(Clip("bpe_simple_vocab_16e6.txt.gz")));
  EXPECT_EQ(LoadModel(copy)->EmbedPrompts({"a dog"}).rows(), 1u);
  unsetenv("FIFTYONE_CPP_MODEL_ZOO_DIR");
}

// The zoo entry end to end, with the release-style tiny archive standing in
// for ViT-B-32.pt (same format, same CPU rewrite) behind a file:// mirror.
class ZooClipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("FIFTYONE_CPP_MODEL_ZOO_DIR", dir_.File("zoo").c_str(), 1);
    unsetenv("FIFTYONE_CPP_MODEL_ZOO_MANIFEST");
  }
  void TearDown() override {
    unsetenv("FIFTYONE_CPP_MODEL_ZOO_DIR");
    unsetenv("FIFTYONE_CPP_MODEL_ZOO_MANIFEST");
  }
  void WriteManifest(const std::string& weights_url) {
    json entry = ZooModelInfoToJson(*FindZooModel("clip-vit-base32-torch"));
    entry["files"][0]["url"] = weights_url;
    entry["files"][0]["sha256"] = "c897a3080d7a7603fc59cb9af3adf983225fb50e1462b6149e45ba093f8d9d11";
    entry["files"][0]["size"] = 13606561;
    entry["files"][1]["url"] = "file://" + Clip("bpe_simple_vocab_16e6.txt.gz");
    entry["dimension"] = 32;
    testing::WriteFile(dir_.File("manifest.json"), json::array({entry}).dump());
    setenv("FIFTYONE_CPP_MODEL_ZOO_MANIFEST", dir_.File("manifest.json").c_str(), 1);
  }
  testing::TempDir dir_;
};

TEST_F(ZooClipTest, DownloadsPatchesAndEmbedsLikeTheReference) {
  // The manifest as shipped: the official URL and checksum.
  std::optional<ZooModelInfo> shipped = FindZooModel("clip-vit-base32-torch");
  ASSERT_TRUE(shipped);
  EXPECT_THAT(shipped->files[0].url, HasSubstr("openaipublic.azureedge.net/clip/models/40d36571"));
  WriteManifest("file://" + Clip("tiny_clip_vit_release_style.pt"));
  auto model = LoadModel("clip-vit-base32-torch");
  EXPECT_EQ(model->name(), "clip-vit-base32-torch");
  EXPECT_TRUE(model->supports_prompts());
  EXPECT_TRUE(IsZooModelDownloaded("clip-vit-base32-torch"));
  std::vector<Image> images;
  std::vector<json> want;
  std::vector<std::string> names;
  for (const json& image : Reference()["images"]) {
    images.push_back(LoadImage(Clip(image["file"])));
    want.push_back(image["embedding"]);
    names.push_back(image["file"]);
  }
  ExpectEmbeddings(model->EmbedImages(images), want, 2e-3, 0.99999, names);
  const json& dog = Reference()["texts"][0];
  ExpectEmbeddings(model->EmbedPrompts({dog["text"]}), {dog["embedding"]}, 2e-3, 0.99999, {dog["text"]});
}

TEST_F(ZooClipTest, OfflineLoadSaysWhatToDownloadAndWhere) {
  WriteManifest("http://127.0.0.1:9/ViT-B-32.pt");  // discard port: nothing listens
  try {
    LoadModel("clip-vit-base32-torch");
    ADD_FAILURE() << "no error offline";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable) << e.what();
    EXPECT_THAT(e.what(), HasSubstr(ZooModelPath("clip-vit-base32-torch", "ViT-B-32.pt").string()));
    EXPECT_THAT(e.what(), HasSubstr("fo zoo models download clip-vit-base32-torch"));
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(ZooModelPath("clip-vit-base32-torch", "ViT-B-32.pt")));
}

}  // namespace
}  // namespace fo
