// CLIP models in the whole workflow: compute_embeddings (images, patches,
// workers, failures), compute_similarity with a TorchScript model, text
// prompt queries on the sklearn and qdrant backends, and the CLI commands.
// Uses the tiny CLIP archive and the test images of ../shared/clip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/embeddings.h"
#include "fo/error.h"
#include "fo/import.h"
#include "fo/model.h"
#include "test_support.h"

namespace fo {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::HasSubstr;

std::string Clip(const std::string& name) { return testing::SharedDir() + "/clip/" + name; }
std::string TinyClip() { return Clip("tiny_clip_vit.pt"); }
json TinyKwargs() { return {{"tokenizer_path", Clip("bpe_simple_vocab_16e6.txt.gz")}}; }

double CosineDistance(std::span<const float> a, std::span<const float> b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += a[i] * b[i], na += a[i] * a[i], nb += b[i] * b[i];
  return 1 - dot / std::sqrt(na * nb);
}

// Ids of `rows` of `base` nearest to `query` by cosine, nearest first.
std::vector<std::string> Nearest(const Matrix& base, const std::vector<std::string>& ids, std::span<const float> query) {
  std::vector<size_t> order(base.rows());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return CosineDistance(base.row(a), query) < CosineDistance(base.row(b), query);
  });
  std::vector<std::string> out;
  for (size_t i : order) out.push_back(ids[i]);
  return out;
}

class ClipWorkflowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::IsolateBrainConfig(dir_);
    std::vector<std::string> skipped;
    std::vector<Sample> samples = ScanImageDirectory(Clip("images"), &skipped);
    ASSERT_EQ(samples.size(), 7u);
    for (Sample& s : samples) {
      Detection whole, corner;
      whole.label = "whole";
      whole.bounding_box = {0.1, 0.1, 0.8, 0.8};
      corner.label = "corner";
      corner.bounding_box = {0, 0, 0.5, 0.4};
      s.label_fields["objects"].detections = {whole, corner};
    }
    dataset_ = std::make_unique<Dataset>(Dataset::Create(store_.db, "clip"));
    ids_ = dataset_->AddSamples(samples);
    model_ = LoadModel(TinyClip(), TinyKwargs());
  }

  // Image embeddings computed straight from the model, one image at a time:
  // the reference the pipeline's results are checked against.
  Matrix DirectEmbeddings() {
    Matrix m;
    for (const Sample& s : dataset_->view().Samples()) m.AppendRow(model_->EmbedImages({LoadImage(s.filepath)}).row(0));
    return m;
  }

  testing::TempDir dir_;
  testing::TempStore store_;
  std::unique_ptr<Dataset> dataset_;
  std::vector<std::string> ids_;
  std::unique_ptr<Model> model_;
};

TEST_F(ClipWorkflowTest, ComputeEmbeddingsEqualsDirectCallsForAnyWorkersAndBatch) {
  Matrix direct = DirectEmbeddings();
  for (size_t workers : {1, 3}) {
    for (size_t batch : {1, 3, 32}) {
      ComputeEmbeddingsOptions o;
      o.num_workers = workers;
      o.batch_size = batch;
      o.progress = false;
      EmbeddingsResult r = ComputeEmbeddings(dataset_->view(), *model_, o);
      ASSERT_EQ(r.embeddings.rows(), 7u);
      EXPECT_EQ(r.sample_ids, ids_);
      for (size_t i = 0; i < 7; ++i)
        for (size_t c = 0; c < direct.cols(); ++c)
          ASSERT_NEAR(r.embeddings.row(i)[c], direct.row(i)[c], 1e-5) << workers << " workers, batch " << batch;
    }
  }
}

TEST_F(ClipWorkflowTest, PatchEmbeddingsAreStoredOnDetections) {
  ComputeEmbeddingsOptions o;
  o.embeddings_field = "clip";
  o.patches_field = "objects";
  o.force_square = true;
  o.alpha = 0.1;
  o.progress = false;
  EmbeddingsResult r = ComputeEmbeddings(dataset_->view(), *model_, o);
  ASSERT_EQ(r.embeddings.rows(), 14u);
  Sample first = dataset_->view().Samples()[0];
  const Detection& corner = first.label_fields.at("objects").detections[1];
  Image crop = CropPatch(LoadImage(first.filepath), corner.bounding_box, true, 0.1);
  Matrix want = model_->EmbedImages({crop});
  const FloatVector& stored = corner.attributes.at("clip").as<FloatVector>();
  ASSERT_EQ(stored.size(), 32u);
  for (size_t c = 0; c < 32; ++c) EXPECT_NEAR(stored[c], want.row(0)[c], 1e-5);
}

TEST_F(ClipWorkflowTest, UnreadableImageIsSkippedOnlyWhenAsked) {
  std::string broken = dir_.File("broken.jpg");
  testing::WriteFile(broken, "not a jpeg");
  Sample s;
  s.filepath = broken;
  std::string broken_id = dataset_->AddSamples({s})[0];
  ComputeEmbeddingsOptions o;
  o.progress = false;
  try {
    ComputeEmbeddings(dataset_->view(), *model_, o);
    ADD_FAILURE() << "no error for an unreadable image";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("broken.jpg"));
    EXPECT_THAT(e.what(), HasSubstr("skip_failures"));
  }
  o.skip_failures = true;
  ::testing::internal::CaptureStderr();
  EmbeddingsResult r = ComputeEmbeddings(dataset_->view(), *model_, o);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.embeddings.rows(), 7u);
  EXPECT_EQ(std::count(r.sample_ids.begin(), r.sample_ids.end(), broken_id), 0);
  EXPECT_THAT(err, HasSubstr("warning: skipping sample " + broken_id));
}

TEST_F(ClipWorkflowTest, ProgressBarOnlyWhenAsked) {
  ComputeEmbeddingsOptions o;
  o.progress = true;
  ::testing::internal::CaptureStderr();
  ComputeEmbeddings(dataset_->view(), *model_, o);
  std::string shown = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(shown, HasSubstr("7/7"));
  o.progress = false;
  ::testing::internal::CaptureStderr();
  ComputeEmbeddings(dataset_->view(), *model_, o);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

ComputeSimilarityOptions ClipRun(const std::string& key) {
  ComputeSimilarityOptions o;
  o.brain_key = key;
  o.model = TinyClip();
  o.model_kwargs = TinyKwargs();
  o.progress = false;
  return o;
}

void ExpectTextQueryMatchesBruteForce(const View& view, const std::string& key, Model& model, const Matrix& images,
                                      const std::vector<std::string>& ids, SortBySimilarityOptions sort) {
  for (const std::string text : {"a photo of a dog", "a red circle on a white background"}) {
    sort.brain_key = key;
    sort.k = 5;
    std::vector<ViewRow> rows = SortBySimilarity(view, SimilarityQuery::ByText(text), sort).Rows();
    Matrix prompt = model.EmbedPrompts({text});
    std::vector<std::string> want = Nearest(images, ids, prompt.row(0));
    ASSERT_EQ(rows.size(), 5u) << text;
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(rows[i].sample_id, want[i]) << text << " rank " << i;
      size_t row = std::find(ids.begin(), ids.end(), rows[i].sample_id) - ids.begin();
      EXPECT_NEAR(*rows[i].distance, CosineDistance(images.row(row), prompt.row(0)), 1e-4);
    }
  }
}

TEST_F(ClipWorkflowTest, TextQueriesOnSklearnRankByPromptEmbedding) {
  auto index = ComputeSimilarity(dataset_->view(), ClipRun("clip"));
  BrainInfo info = GetBrainInfo(*dataset_, "clip");
  EXPECT_EQ(info.config["model"], TinyClip());
  EXPECT_EQ(info.config["model_kwargs"], TinyKwargs());
  EXPECT_EQ(info.config["supports_prompts"], true);
  BrainRunFilter prompts;
  prompts.config["supports_prompts"] = true;
  EXPECT_EQ(ListBrainRuns(*dataset_, prompts), std::vector<std::string>{"clip"});
  ExpectTextQueryMatchesBruteForce(dataset_->view(), "clip", *model_, DirectEmbeddings(), ids_, {});
}

TEST_F(ClipWorkflowTest, TextQueryOnPatchRunRanksPatches) {
  auto o = ClipRun("clip_patches");
  o.patches_field = "objects";
  ComputeSimilarity(dataset_->view(), o);
  SortBySimilarityOptions sort;
  sort.brain_key = "clip_patches";
  sort.k = 3;
  auto rows = SortBySimilarity(dataset_->view(), SimilarityQuery::ByText("a red circle"), sort).Rows();
  ASSERT_FALSE(rows.empty());
  EXPECT_FALSE(rows[0].patches.empty());
}

TEST_F(ClipWorkflowTest, TextQueryOnRunWithoutPromptsIsClearError) {
  ComputeSimilarityOptions o;
  o.brain_key = "gradients";  // the built-in descriptor: no prompts
  ComputeSimilarity(dataset_->view(), o);
  SortBySimilarityOptions sort;
  sort.brain_key = "gradients";
  try {
    SortBySimilarity(dataset_->view(), SimilarityQuery::ByText("a dog"), sort).Rows();
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("gradients"));
    EXPECT_THAT(e.what(), HasSubstr("prompt"));
  }
}

TEST_F(ClipWorkflowTest, TextQueriesOnQdrantRankByPromptEmbedding) {
  testing::QdrantServer server;
  auto o = ClipRun("clip_qdrant");
  o.backend = "qdrant";
  o.params["url"] = server.url();
  if (!server.api_key().empty()) o.params["api_key"] = server.api_key();
  auto index = ComputeSimilarity(dataset_->view(), o);
  SortBySimilarityOptions sort;
  sort.credentials["url"] = server.url();
  if (!server.api_key().empty()) sort.credentials["api_key"] = server.api_key();
  ExpectTextQueryMatchesBruteForce(dataset_->view(), "clip_qdrant", *model_, DirectEmbeddings(), ids_, sort);
  index->Cleanup();
}

// The CLI names the issue lists, on one store.
class ClipCliTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_.File("home")); }
  std::vector<std::string> Env() const {
    return {"FO_DATABASE_PATH=" + dir_.File("fo.db"), "FIFTYONE_BRAIN_CONFIG_PATH=" + dir_.File("brain_config.json"),
            "HOME=" + dir_.File("home")};
  }
  testing::CommandResult Run(const std::vector<std::string>& args) const { return testing::RunCli(args, Env()); }
  std::vector<std::string> ModelArgs() const {
    return {"--model", TinyClip(), "--model-kwarg", "tokenizer_path=" + Clip("bpe_simple_vocab_16e6.txt.gz")};
  }
  std::vector<std::string> With(std::vector<std::string> args, const std::vector<std::string>& more) const {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
  testing::TempDir dir_;
};

TEST_F(ClipCliTest, EmbeddingsTextGivesReferenceTokensAndEmbedding) {
  json reference = json::parse(testing::ReadFile(Clip("reference.json")));
  const json& dog = reference["texts"][0];
  auto tokens = Run(With({"embeddings", "text", "--text", dog["text"], "--tokens", "--json"}, ModelArgs()));
  ASSERT_EQ(tokens.exit_code, 0) << tokens.err;
  EXPECT_EQ(json::parse(tokens.out)[0]["tokens"], dog["tokens"]);
  auto embedding = Run(With({"embeddings", "text", "--text", dog["text"], "--json"}, ModelArgs()));
  ASSERT_EQ(embedding.exit_code, 0) << embedding.err;
  json got = json::parse(embedding.out)[0]["embedding"];
  ASSERT_EQ(got.size(), 32u);
  for (size_t i = 0; i < 32; ++i) EXPECT_NEAR(got[i].get<double>(), dog["embedding"][i].get<double>(), 1e-4);
}

TEST_F(ClipCliTest, ComputeSimilarityAndSortByText) {
  ASSERT_EQ(Run({"datasets", "create", "clip", "--images", Clip("images")}).exit_code, 0);
  auto computed = Run(With({"brain", "compute-similarity", "clip", "--brain-key", "k"}, ModelArgs()));
  ASSERT_EQ(computed.exit_code, 0) << computed.err;
  auto info = Run({"brain", "info", "clip", "k", "--json"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_EQ(json::parse(info.out)["config"]["model_kwargs"]["tokenizer_path"], Clip("bpe_simple_vocab_16e6.txt.gz"));
  auto sorted = Run({"brain", "sort-by-similarity", "clip", "--brain-key", "k", "--text", "a photo of a dog", "--k", "3",
                     "--json"});
  ASSERT_EQ(sorted.exit_code, 0) << sorted.err;
  json results = json::parse(sorted.out);
  ASSERT_EQ(results.size(), 3u);
  // Same order as the library's.
  auto db = Database::Open(dir_.File("fo.db"));
  SortBySimilarityOptions sort;
  sort.brain_key = "k";
  sort.k = 3;
  auto rows = SortBySimilarity(Dataset::Load(db, "clip").view(), SimilarityQuery::ByText("a photo of a dog"), sort).Rows();
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(results[i]["id"], rows[i].sample_id);
}

TEST_F(ClipCliTest, EmbeddingsComputeStoresVectorsShownByHead) {
  ASSERT_EQ(Run({"datasets", "create", "clip", "--images", Clip("images")}).exit_code, 0);
  auto computed = Run(With({"embeddings", "compute", "clip", "--field", "clip_embedding"}, ModelArgs()));
  ASSERT_EQ(computed.exit_code, 0) << computed.err;
  EXPECT_THAT(computed.out, HasSubstr("Stored 7 embeddings of dimension 32"));
  auto head = Run({"datasets", "head", "clip", "--json"});
  ASSERT_EQ(head.exit_code, 0) << head.err;
  json first = json::parse(head.out)[0];
  ASSERT_TRUE(first.contains("clip_embedding")) << first.dump();
  EXPECT_EQ(first["clip_embedding"].size(), 32u);
}

TEST_F(ClipCliTest, BadModelKwargIsOneLineError) {
  auto r = Run({"embeddings", "text", "--model", TinyClip(), "--model-kwarg", "image_size=-3", "--text", "x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("model kwarg 'image_size'"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(ClipCliTest, TextQueryNeedsPromptModel) {
  ASSERT_EQ(Run({"datasets", "create", "clip", "--images", Clip("images")}).exit_code, 0);
  ASSERT_EQ(Run({"brain", "compute-similarity", "clip", "--brain-key", "plain"}).exit_code, 0);
  auto r = Run({"brain", "sort-by-similarity", "clip", "--brain-key", "plain", "--text", "a dog"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("prompt"));
}

}  // namespace
}  // namespace fo
