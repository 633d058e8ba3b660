// The App's HTTP API (src/app, `fo app launch`): every endpoint over real HTTP
// against an in-process AppServer on a free loopback port, a shapes dataset
// with an image and a patch similarity run, and the CLI command in a child
// process. Rankings are checked against View::SortBySimilarity.
#include <gtest/gtest.h>

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "app/api.h"
#include "fo/app.h"
#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/demo.h"
#include "fo/error.h"
#include "fo/image.h"
#include "test_support.h"

namespace fo {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::TempDir;

constexpr const char* kDataset = "shapes";
constexpr const char* kImageKey = "img_sim";
constexpr const char* kPatchKey = "patch_sim";
constexpr const char* kField = "ground_truth";
constexpr size_t kNumImages = 24;
constexpr const char* kUnknownId = "0123456789abcdef01234567";

// One store, dataset, runs and server for the whole suite: generating images
// and computing embeddings is the slow part, and no test writes to them.
class AppApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    // Keep the user's brain config and env out of the runs.
    setenv("FIFTYONE_BRAIN_CONFIG_PATH", (dir_->path() + "/no_brain_config.json").c_str(), 1);
    unsetenv("FIFTYONE_BRAIN_DEFAULT_SIMILARITY_BACKEND");
    db_ = new std::shared_ptr<Database>(Database::Open(dir_->File("fo.db")));
    ShapesOptions shapes;
    shapes.num_images = kNumImages;  // 320 x 240: larger than a thumbnail
    Dataset dataset = Dataset::Create(*db_, kDataset);
    dataset.AddSamples(GenerateShapes(dir_->File("media"), shapes));
    Dataset::Create(*db_, "other");
    for (const auto& [key, field] : {std::pair{kImageKey, ""}, std::pair{kPatchKey, kField}}) {
      ComputeSimilarityOptions options;
      options.brain_key = key;
      options.backend = "sklearn";
      options.patches_field = field;
      options.progress = false;
      ComputeSimilarity(dataset.view(), options);
    }
    AppOptions app;
    app.port = 0;
    app.dataset = kDataset;
    app.thumbnail_dir = dir_->File("thumbnails");
    server_ = new AppServer(*db_, app);
    server_->Start();
  }

  static void TearDownTestSuite() {
    delete server_;
    delete db_;
    delete dir_;
  }

  static Dataset LoadDataset() { return Dataset::Load(*db_, kDataset); }

  static httplib::Client Client() {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_read_timeout(60, 0);
    return client;
  }

  static httplib::Result Get(const std::string& path) { return Client().Get(path.c_str()); }

  static httplib::Result Post(const std::string& path, const std::string& body) {
    return Client().Post(path.c_str(), body, "application/json");
  }

  static json SortRequest(const std::string& key, const std::vector<std::string>& ids, json k = 5, bool reverse = false) {
    return {{"brain_key", key}, {"query_ids", ids}, {"k", k}, {"reverse", reverse}};
  }

  static httplib::Result Sort(const json& body) {
    return Post(std::string("/api/datasets/") + kDataset + "/sort_by_similarity", body.dump());
  }

  static std::string ThumbnailPath(const std::string& sample_id, const std::string& label_id = "") {
    return std::string("/api/datasets/") + kDataset + "/thumbnails/" + sample_id +
           (label_id.empty() ? "" : "?label_id=" + label_id);
  }

  static inline TempDir* dir_ = nullptr;
  static inline std::shared_ptr<Database>* db_ = nullptr;
  static inline AppServer* server_ = nullptr;
};

// The response is a JSON error with this status and a one-line message.
void ExpectError(const httplib::Result& res, int status, const std::string& contains = "") {
  ASSERT_TRUE(res) << "no response";
  EXPECT_EQ(res->status, status) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  json body = json::parse(res->body);
  ASSERT_TRUE(body.contains("error")) << res->body;
  std::string message = body["error"].get<std::string>();
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_NE(message.find(contains), std::string::npos) << message;
}

json ExpectJson(const httplib::Result& res) {
  EXPECT_TRUE(res) << "no response";
  if (!res) return json();
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  return json::parse(res->body);
}

void ExpectSampleShape(const json& s) {
  for (const char* key : {"id", "filepath", "width", "height", "tags", "detections", "thumbnail_url", "media_url"})
    EXPECT_TRUE(s.contains(key)) << key << " missing in " << s.dump();
  EXPECT_EQ(s["thumbnail_url"], "/api/datasets/shapes/thumbnails/" + s["id"].get<std::string>());
  EXPECT_EQ(s["media_url"], "/api/datasets/shapes/media/" + s["id"].get<std::string>());
  for (const auto& [field, list] : s["detections"].items()) {
    for (const json& d : list) {
      for (const char* key : {"id", "label", "bounding_box", "confidence"}) EXPECT_TRUE(d.contains(key)) << key;
      EXPECT_EQ(d["bounding_box"].size(), 4u);
    }
  }
}

void ExpectPatchShape(const json& p) {
  for (const char* key : {"sample_id", "label_id", "label", "bounding_box", "confidence", "thumbnail_url", "filepath"})
    EXPECT_TRUE(p.contains(key)) << key << " missing in " << p.dump();
  EXPECT_EQ(p["thumbnail_url"], "/api/datasets/shapes/thumbnails/" + p["sample_id"].get<std::string>() +
                                    "?label_id=" + p["label_id"].get<std::string>());
}

std::pair<int, int> JpegSize(const std::string& bytes, const TempDir& dir, const std::string& name) {
  std::string path = dir.File(name + ".jpg");
  testing::WriteFile(path, bytes);
  return ReadImageSize(path);
}

std::vector<fs::path> CachedFiles(const std::string& dir) {
  std::vector<fs::path> files;
  if (!fs::exists(dir)) return files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  return files;
}

// --- datasets ---

TEST_F(AppApiTest, ListsDatasetsWithCounts) {
  json j = ExpectJson(Get("/api/datasets"));
  ASSERT_TRUE(j.is_array());
  std::map<std::string, int> counts;
  for (const json& d : j) counts[d["name"]] = d["count"];
  EXPECT_EQ(counts["shapes"], static_cast<int>(kNumImages));
  EXPECT_EQ(counts["other"], 0);
  EXPECT_EQ(counts.size(), Dataset::List(*db_).size());
}

TEST_F(AppApiTest, DescribesADataset) {
  json j = ExpectJson(Get("/api/datasets/shapes"));
  EXPECT_EQ(j["name"], "shapes");
  EXPECT_EQ(j["count"], kNumImages);
  EXPECT_EQ(j["label_fields"], json::array({kField}));
  EXPECT_EQ(j["default"], true);
  EXPECT_EQ(ExpectJson(Get("/api/datasets/other"))["default"], false);
  ExpectError(Get("/api/datasets/nope"), 404, "nope");
}

// --- samples ---

TEST_F(AppApiTest, PagesSamplesInDatasetOrder) {
  std::vector<std::string> ids = LoadDataset().Ids();
  json first = ExpectJson(Get("/api/datasets/shapes/samples"));
  EXPECT_EQ(first["total"], kNumImages);
  EXPECT_EQ(first["offset"], 0);
  EXPECT_EQ(first["limit"], 100);
  ASSERT_EQ(first["samples"].size(), kNumImages);

  json page = ExpectJson(Get("/api/datasets/shapes/samples?offset=5&limit=7"));
  EXPECT_EQ(page["offset"], 5);
  EXPECT_EQ(page["limit"], 7);
  ASSERT_EQ(page["samples"].size(), 7u);
  Sample expected = LoadDataset().GetSample(ids[5]);
  const json& s = page["samples"][0];
  ExpectSampleShape(s);
  EXPECT_EQ(s["id"], ids[5]);
  EXPECT_EQ(s["filepath"], expected.filepath);
  EXPECT_EQ(s["width"], 320);
  EXPECT_EQ(s["height"], 240);
  EXPECT_EQ(s["tags"], json::array());
  ASSERT_EQ(s["detections"][kField].size(), expected.label_fields[kField].detections.size());
  const Detection& d = expected.label_fields[kField].detections[0];
  EXPECT_EQ(s["detections"][kField][0]["id"], d.id);
  EXPECT_EQ(s["detections"][kField][0]["label"], d.label);
  EXPECT_EQ(s["detections"][kField][0]["bounding_box"].get<std::vector<double>>(),
            std::vector<double>(d.bounding_box.begin(), d.bounding_box.end()));
  EXPECT_TRUE(s["detections"][kField][0]["confidence"].is_null());
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(page["samples"][i]["id"], ids[5 + i]);

  json tail = ExpectJson(Get("/api/datasets/shapes/samples?offset=20&limit=10"));
  EXPECT_EQ(tail["samples"].size(), kNumImages - 20);
  EXPECT_EQ(ExpectJson(Get("/api/datasets/shapes/samples?offset=1000"))["samples"].size(), 0u);
}

TEST_F(AppApiTest, RejectsBadPagination) {
  for (const char* query : {"limit=0", "limit=1001", "limit=-1", "limit=abc", "offset=-1", "offset=1e3", "limit="})
    ExpectError(Get(std::string("/api/datasets/shapes/samples?") + query), 400);
  ExpectJson(Get("/api/datasets/shapes/samples?limit=1000"));
  ExpectError(Get("/api/datasets/nope/samples"), 404);
}

// --- patches ---

TEST_F(AppApiTest, PagesPatchesAcrossSamples) {
  std::vector<std::pair<std::string, Detection>> all;
  for (const Sample& s : LoadDataset().view().Samples())
    for (const Detection& d : s.label_fields.at(kField).detections) all.push_back({s.id, d});

  json j = ExpectJson(Get("/api/datasets/shapes/patches?field=ground_truth&offset=3&limit=5"));
  EXPECT_EQ(j["total"], all.size());
  EXPECT_EQ(j["offset"], 3);
  EXPECT_EQ(j["limit"], 5);
  ASSERT_EQ(j["patches"].size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const json& p = j["patches"][i];
    ExpectPatchShape(p);
    EXPECT_EQ(p["sample_id"], all[3 + i].first);
    EXPECT_EQ(p["label_id"], all[3 + i].second.id);
    EXPECT_EQ(p["label"], all[3 + i].second.label);
  }
  ExpectError(Get("/api/datasets/shapes/patches"), 400, "field");
  ExpectError(Get("/api/datasets/shapes/patches?field=nope"), 404, "nope");
  ExpectError(Get("/api/datasets/shapes/patches?field=ground_truth&limit=0"), 400);
}

// --- brain runs ---

std::vector<std::string> Keys(const json& runs) {
  std::vector<std::string> keys;
  for (const json& r : runs) keys.push_back(r["key"]);
  return keys;
}

TEST_F(AppApiTest, ListsAndFiltersBrainRuns) {
  json all = ExpectJson(Get("/api/datasets/shapes/brain_runs"));
  EXPECT_EQ(Keys(all), (std::vector<std::string>{kImageKey, kPatchKey}));
  const json& image = all[0];
  EXPECT_EQ(image["type"], "similarity");
  EXPECT_EQ(image["backend"], "sklearn");
  EXPECT_EQ(image["metric"], "cosine");
  EXPECT_EQ(image["model"], "color-gradient-descriptor");
  EXPECT_TRUE(image["patches_field"].is_null());
  EXPECT_EQ(image["supports_prompts"], false);
  EXPECT_EQ(image["supports_least_similarity"], true);
  EXPECT_EQ(all[1]["patches_field"], kField);

  EXPECT_EQ(Keys(ExpectJson(Get("/api/datasets/shapes/brain_runs?type=similarity"))).size(), 2u);
  EXPECT_EQ(Keys(ExpectJson(Get("/api/datasets/shapes/brain_runs?type=other"))).size(), 0u);
  EXPECT_EQ(Keys(ExpectJson(Get("/api/datasets/shapes/brain_runs?patches_field=ground_truth"))),
            std::vector<std::string>{kPatchKey});
  EXPECT_EQ(Keys(ExpectJson(Get("/api/datasets/shapes/brain_runs?supports_prompts=true"))).size(), 0u);
  // The same filter through the library gives the same keys.
  BrainRunFilter filter;
  filter.config["patches_field"] = kField;
  EXPECT_EQ(ListBrainRuns(LoadDataset(), filter), std::vector<std::string>{kPatchKey});
  ExpectError(Get("/api/datasets/shapes/brain_runs?supports_prompts=maybe"), 400);
  ExpectError(Get("/api/datasets/nope/brain_runs"), 404);
}

// --- sort by similarity ---

TEST_F(AppApiTest, SortsSamplesAsTheLibraryDoes) {
  Dataset dataset = LoadDataset();
  std::vector<std::string> ids = dataset.Ids();
  for (bool reverse : {false, true}) {
    for (const auto& query : {std::vector<std::string>{ids[3]}, std::vector<std::string>{ids[0], ids[7]}}) {
      json j = ExpectJson(Sort(SortRequest(kImageKey, query, 6, reverse)));
      EXPECT_EQ(j["brain_key"], kImageKey);
      EXPECT_EQ(j["patches"], false);
      SortBySimilarityOptions options;
      options.brain_key = kImageKey;
      options.k = 6;
      options.reverse = reverse;
      std::vector<ViewRow> rows = SortBySimilarity(dataset.view(), SimilarityQuery::ByIds(query), options).Rows();
      ASSERT_EQ(j["results"].size(), rows.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        const json& r = j["results"][i];
        ExpectSampleShape(r["sample"]);
        EXPECT_EQ(r["sample"]["id"], rows[i].sample_id) << "rank " << i;
        EXPECT_DOUBLE_EQ(r["distance"].get<double>(), *rows[i].distance);
      }
    }
  }
  // k defaults to 100, more than the dataset holds.
  json all = ExpectJson(Sort({{"brain_key", kImageKey}, {"query_ids", {ids[0]}}}));
  EXPECT_EQ(all["results"].size(), kNumImages);
  EXPECT_EQ(all["results"][0]["sample"]["id"], ids[0]);
}

TEST_F(AppApiTest, SortsPatchesOneResultPerPatch) {
  Dataset dataset = LoadDataset();
  Sample first = dataset.First();
  std::string label_id = first.label_fields.at(kField).detections.at(0).id;
  for (bool reverse : {false, true}) {
    json j = ExpectJson(Sort(SortRequest(kPatchKey, {label_id}, 8, reverse)));
    EXPECT_EQ(j["patches"], true);
    SortBySimilarityOptions options;
    options.brain_key = kPatchKey;
    options.k = 8;
    options.reverse = reverse;
    std::vector<ViewRow> rows = SortBySimilarity(dataset.view(), SimilarityQuery::ById(label_id), options).Rows();
    // FiftyOne's semantics: each matched patch is a result, ranked by its distance.
    std::vector<std::pair<double, std::string>> expected;
    for (const ViewRow& row : rows)
      for (const PatchMatch& p : row.patches) expected.push_back({p.distance, p.label_id});
    std::stable_sort(expected.begin(), expected.end(), [&](const auto& a, const auto& b) {
      return reverse ? a.first > b.first : a.first < b.first;
    });
    ASSERT_EQ(j["results"].size(), expected.size());
    ASSERT_EQ(expected.size(), 8u);
    for (size_t i = 0; i < expected.size(); ++i) {
      const json& r = j["results"][i];
      ExpectPatchShape(r["patch"]);
      EXPECT_DOUBLE_EQ(r["distance"].get<double>(), expected[i].first) << "rank " << i;
      if (i == 0 || expected[i].first != expected[i - 1].first) {  // ties may come in either order
        EXPECT_EQ(r["patch"]["label_id"], expected[i].second) << "rank " << i;
      }
    }
    if (!reverse) {
      EXPECT_EQ(j["results"][0]["patch"]["label_id"], label_id);
    }
  }
}

TEST_F(AppApiTest, SortReportsBadInput) {
  std::string id = LoadDataset().First().id;
  // A prompt on a model without prompts: the library's own message.
  std::string message;
  try {
    SortBySimilarityOptions options;
    options.brain_key = kImageKey;
    SortBySimilarity(LoadDataset().view(), SimilarityQuery::ByText("a red circle"), options).Rows();
  } catch (const Error& e) {
    message = e.what();
  }
  ASSERT_FALSE(message.empty());
  auto res = Sort({{"brain_key", kImageKey}, {"text", "a red circle"}, {"k", 3}});
  ExpectError(res, 400);
  EXPECT_EQ(json::parse(res->body)["error"], message);

  ExpectError(Sort(SortRequest("nope", {id})), 404, "nope");
  ExpectError(Post("/api/datasets/nope/sort_by_similarity", SortRequest(kImageKey, {id}).dump()), 404);
  ExpectError(Sort(SortRequest(kImageKey, {kUnknownId})), 404, kUnknownId);
  ExpectError(Sort(SortRequest(kImageKey, {"../../etc/passwd"})), 400, "malformed");
  ExpectError(Sort(SortRequest(kImageKey, {"ABCDEF0123456789ABCDEF01"})), 400, "malformed");
  for (json k : {json(0), json(-1), json(1.5), json("3"), json(10001), json(true)})
    ExpectError(Sort(SortRequest(kImageKey, {id}, k)), 400, "'k'");
  ExpectError(Sort({{"query_ids", {id}}}), 400, "brain_key");
  ExpectError(Sort({{"brain_key", kImageKey}}), 400, "exactly one");
  ExpectError(Sort({{"brain_key", kImageKey}, {"query_ids", {id}}, {"text", "x"}}), 400, "exactly one");
  ExpectError(Sort({{"brain_key", kImageKey}, {"query_ids", json::array()}}), 400, "query_ids");
  ExpectError(Sort({{"brain_key", kImageKey}, {"query_ids", {id}}, {"reverse", "yes"}}), 400, "reverse");
  ExpectError(Post("/api/datasets/shapes/sort_by_similarity", "{not json"), 400, "JSON");
  ExpectError(Post("/api/datasets/shapes/sort_by_similarity", "[1, 2]"), 400, "object");
  ExpectError(Post("/api/datasets/shapes/sort_by_similarity", ""), 400);
  ExpectError(Get("/api/datasets/shapes/sort_by_similarity"), 404);  // POST only
}

// The handlers are plain functions: the same answers without HTTP.
TEST_F(AppApiTest, HandlersAnswerWithoutHttp) {
  internal::AppApi api(*db_, kDataset, dir_->File("thumbnails_direct"));
  internal::ApiResponse page = api.ListSamples(kDataset, {{"limit", "2"}});
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.Json()["samples"].size(), 2u);
  EXPECT_EQ(page.body, Get("/api/datasets/shapes/samples?limit=2")->body);
  EXPECT_EQ(api.SortBySimilarity(kDataset, R"({"brain_key": "img_sim", "query_ids": ["zz"]})").status, 400);
}

// --- thumbnails ---

TEST_F(AppApiTest, ThumbnailsAreBoundedJpegsCachedOnDisk) {
  TempDir scratch;
  Sample sample = LoadDataset().view().Page(1, 1).at(0);
  std::string cache_dir = dir_->File("thumbnails");
  size_t cached_before = CachedFiles(cache_dir).size();

  auto res = Get(ThumbnailPath(sample.id));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_NE(res->get_header_value("Cache-Control").find("max-age="), std::string::npos);
  std::string etag = res->get_header_value("ETag");
  EXPECT_FALSE(etag.empty());
  auto [w, h] = JpegSize(res->body, scratch, "whole");
  EXPECT_EQ(std::max(w, h), 256);  // 320 x 240 fits as 256 x 192
  EXPECT_EQ(h, 192);

  std::vector<fs::path> cached = CachedFiles(cache_dir);
  ASSERT_EQ(cached.size(), cached_before + 1);
  fs::path file;
  for (const fs::path& p : cached)
    if (testing::ReadFile(p.string()) == res->body) file = p;
  ASSERT_FALSE(file.empty()) << "the served thumbnail is not in the cache";
  auto mtime = fs::last_write_time(file);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));

  auto again = Get(ThumbnailPath(sample.id));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(again->body, res->body);
  EXPECT_EQ(fs::last_write_time(file), mtime) << "the second request regenerated the thumbnail";
  EXPECT_EQ(CachedFiles(cache_dir).size(), cached_before + 1);

  // A browser revalidating with the ETag gets 304 and no body.
  httplib::Headers headers = {{"If-None-Match", etag}};
  auto revalidated = Client().Get(ThumbnailPath(sample.id).c_str(), headers);
  ASSERT_TRUE(revalidated);
  EXPECT_EQ(revalidated->status, 304);
  EXPECT_TRUE(revalidated->body.empty());
}

TEST_F(AppApiTest, EditedImageGetsANewThumbnail) {
  TempDir media;
  std::string path = media.File("edited.jpg");
  Dataset dataset = Dataset::Create(*db_, "edited");
  ShapesOptions one;
  one.num_images = 1;
  Sample sample = GenerateShapes(media.File("gen"), one).at(0);
  fs::copy_file(sample.filepath, path);
  sample.filepath = path;
  std::string id = dataset.AddSample(sample);
  std::string url = "/api/datasets/edited/thumbnails/" + id;
  auto before = Get(url);
  ASSERT_EQ(before->status, 200);
  // Rewrite the file at another size: the key (size, mtime) changes.
  SaveImage(CropPatch(LoadImage(path), {0, 0, 0.5, 1.0}), path);
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(5));
  auto after = Get(url);
  ASSERT_EQ(after->status, 200);
  EXPECT_NE(after->get_header_value("ETag"), before->get_header_value("ETag"));
  TempDir scratch;
  auto [w, h] = JpegSize(after->body, scratch, "edited");
  EXPECT_EQ(w, 160);  // the left half of 320 x 240
  EXPECT_EQ(h, 240);
  Dataset::Delete(*db_, "edited");
}

TEST_F(AppApiTest, PatchThumbnailIsTheCrop) {
  TempDir scratch;
  Sample sample = LoadDataset().First();
  for (const Detection& d : sample.label_fields.at(kField).detections) {
    auto res = Get(ThumbnailPath(sample.id, d.id));
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "image/jpeg");
    auto [w, h] = JpegSize(res->body, scratch, d.id);
    Image crop = CropPatch(LoadImage(sample.filepath), d.bounding_box);
    EXPECT_LE(std::max(w, h), 256);
    // Same aspect, up to the rounding of a downscale.
    EXPECT_NEAR(static_cast<double>(w) / h, static_cast<double>(crop.width) / crop.height,
                1.0 / std::min(w, h) + 1e-9);
    if (std::max(crop.width, crop.height) <= 256) {
      EXPECT_EQ(w, crop.width);
      EXPECT_EQ(h, crop.height);
    }
  }
  ExpectError(Get(ThumbnailPath(sample.id, kUnknownId)), 404, kUnknownId);
  ExpectError(Get(ThumbnailPath(sample.id, "nothex")), 400, "malformed");
  ExpectError(Get(ThumbnailPath(kUnknownId)), 404, kUnknownId);
  ExpectError(Get("/api/datasets/nope/thumbnails/" + sample.id), 404);
  ExpectError(Get("/api/datasets/shapes/thumbnails/xyz"), 400, "malformed");
}

// --- media ---

TEST_F(AppApiTest, MediaIsTheExactFile) {
  Sample sample = LoadDataset().First();
  auto res = Get("/api/datasets/shapes/media/" + sample.id);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(res->body, testing::ReadFile(sample.filepath));
  ExpectError(Get(std::string("/api/datasets/shapes/media/") + kUnknownId), 404);
  // A sample of another dataset is not served through this one.
  ExpectError(Get("/api/datasets/other/media/" + sample.id), 404);
}

TEST_F(AppApiTest, PathTraversalNeverReadsFiles) {
  const std::vector<std::string> attempts = {
      "/api/datasets/shapes/media/..%2F..%2Fetc%2Fpasswd",
      "/api/datasets/shapes/media/../../../../etc/passwd",
      "/api/datasets/shapes/thumbnails/../../etc/passwd",
      "/api/datasets/shapes/thumbnails/..%2F..%2F..%2Fetc%2Fpasswd",
      "/api/datasets/x/media/..%2F..%2Fetc%2Fpasswd",
      "/api/datasets/x/thumbnails/../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/../../etc/passwd",
      "/..%2F..%2Fetc%2Fpasswd",
      "/api/datasets/%2e%2e/media/" + std::string(kUnknownId),
      "/api/datasets/shapes/media/" + std::string(kUnknownId),
      "/etc/passwd",
      "/app.js/../../etc/passwd",
  };
  for (const std::string& path : attempts) {
    auto res = Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_TRUE(res->status == 400 || res->status == 404) << path << " -> " << res->status;
    EXPECT_EQ(res->body.find("root:"), std::string::npos) << path;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << path;
  }
}

// --- static files and routing ---

TEST_F(AppApiTest, ServesThePageWithSecurityHeaders) {
  const std::string csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'";
  std::string web = testing::SourceDir() + "/app/web";
  for (const auto& [path, type] : {std::pair{"/", "text/html; charset=utf-8"},
                                   std::pair{"/index.html", "text/html; charset=utf-8"},
                                   std::pair{"/app.css", "text/css; charset=utf-8"},
                                   std::pair{"/app.js", "text/javascript; charset=utf-8"}}) {
    std::string file = web + (std::string(path) == "/" ? "/index.html" : path);
    if (!fs::exists(file)) continue;  // the page is written separately
    auto res = Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->get_header_value("Content-Type"), type) << path;
    EXPECT_EQ(res->get_header_value("Content-Security-Policy"), csp) << path;
    EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(res->body, testing::ReadFile(file)) << path << " is not the file in app/web (rebuild?)";
  }
  ExpectError(Get("/nope.js"), 404);
  ExpectError(Get("/api/nope"), 404, "no such route");
  ExpectError(Get("/api/datasets/shapes/nope"), 404);
  auto api = Get("/api/datasets");
  EXPECT_EQ(api->get_header_value("Content-Security-Policy"), csp);
}

TEST_F(AppApiTest, BindsToLoopbackByDefault) {
  EXPECT_EQ(AppOptions().address, "127.0.0.1");
  EXPECT_EQ(AppOptions().port, 5151);
  EXPECT_EQ(server_->url(), "http://127.0.0.1:" + std::to_string(server_->port()) + "/");
  AppOptions bad;
  bad.dataset = "nope";
  EXPECT_THROW(AppServer(*db_, bad), Error);
  // The port is taken: a readable error, not a crash.
  AppOptions taken;
  taken.port = server_->port();
  AppServer second(*db_, taken);
  try {
    second.Start();
    FAIL() << "bound a port already in use";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
  }
}

// --- a remote backend that is down ---

TEST_F(AppApiTest, QdrantDownIsA503WithAReadableMessage) {
  testing::QdrantServer qdrant;
  Dataset dataset = Dataset::Create(*db_, "remote");
  ShapesOptions few;
  few.num_images = 6;
  few.width = 96;
  few.height = 64;
  dataset.AddSamples(GenerateShapes(dir_->File("remote_media"), few));
  std::string id = dataset.First().id;
  for (const auto& [key, metric] : {std::pair{"q_cos", "cosine"}, std::pair{"q_l2", "euclidean"}}) {
    ComputeSimilarityOptions options;
    options.brain_key = key;
    options.backend = "qdrant";
    options.progress = false;
    options.params = {{"url", qdrant.url()}, {"metric", metric}};
    if (!qdrant.api_key().empty()) options.params["api_key"] = qdrant.api_key();
    ComputeSimilarity(dataset.view(), options);
  }
  json runs = ExpectJson(Get("/api/datasets/remote/brain_runs"));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0]["backend"], "qdrant");
  EXPECT_EQ(runs[0]["supports_least_similarity"], true);   // cosine
  EXPECT_EQ(runs[1]["supports_least_similarity"], false);  // euclidean

  // Up: credentials come from the environment, as in the library.
  setenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_URL", qdrant.url().c_str(), 1);
  json body = {{"brain_key", "q_cos"}, {"query_ids", {id}}, {"k", 3}};
  json up = ExpectJson(Post("/api/datasets/remote/sort_by_similarity", body.dump()));
  ASSERT_EQ(up["results"].size(), 3u);
  EXPECT_EQ(up["results"][0]["sample"]["id"], id);

  // Down: nothing listens on port 9.
  setenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_URL", "http://127.0.0.1:9", 1);
  auto down = Post("/api/datasets/remote/sort_by_similarity", body.dump());
  unsetenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_URL");
  ExpectError(down, 503, "127.0.0.1:9");
  for (const char* key : {"q_cos", "q_l2"}) {
    try {
      LoadBrainResults(dataset, key, {{"url", qdrant.url()}})->Cleanup();
    } catch (const std::exception&) {
    }
  }
  Dataset::Delete(*db_, "remote");
}

// --- the command ---

// Runs `fo app launch` in a child process; its stdout is readable from `out`.
struct LaunchedApp {
  pid_t pid = -1;
  FILE* out = nullptr;
};

LaunchedApp Launch(const std::vector<std::string>& args, const std::string& db_path) {
  // Everything the child needs is built before fork: between fork and exec
  // of a multi-threaded process only async-signal-safe calls are allowed.
  std::vector<std::string> argv_strings = {testing::CliPath(), "app", "launch"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = {"FO_DATABASE_PATH=" + db_path};
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "FO_DATABASE_PATH=", 17) != 0) env_strings.push_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  return {pid, fdopen(fds[0], "r")};
}

TEST_F(AppApiTest, LaunchPrintsTheUrlAndStopsCleanlyOnSigterm) {
  for (int signal : {SIGTERM, SIGINT}) {
    LaunchedApp app = Launch({kDataset, "--port", "0", "--thumbnail-dir", dir_->File("cli_thumbnails")},
                             dir_->File("fo.db"));
    char line[256] = {0};
    ASSERT_NE(fgets(line, sizeof line, app.out), nullptr) << "no output from fo app launch";
    std::smatch m;
    std::string text = line;
    ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(^App running at http://127\.0\.0\.1:(\d+)/\n$)"))) << text;
    httplib::Client client("127.0.0.1", std::stoi(m[1]));
    auto res = client.Get("/api/datasets/shapes");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(json::parse(res->body)["default"], true);
    kill(app.pid, signal);
    int status = 0;
    ASSERT_EQ(waitpid(app.pid, &status, 0), app.pid);
    EXPECT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    EXPECT_EQ(WEXITSTATUS(status), 0);
    fclose(app.out);
  }
}

TEST_F(AppApiTest, LaunchFailsReadablyForAnUnknownDataset) {
  testing::CommandResult r =
      testing::RunCli({"app", "launch", "nope", "--port", "0"}, {"FO_DATABASE_PATH=" + dir_->File("fo.db")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
}

// The thumbnail cache deletes its least recently used entries beyond its
// limit; serving an entry counts as a use.
TEST(ThumbnailCacheTest, PrunesTheLeastRecentlyUsedBeyondItsLimit) {
  TempDir dir;
  const std::string cache_dir = dir.File("thumbs");
  auto now = fs::file_time_type::clock::now();
  // A real thumbnail, last used three hours ago (the oldest entry)...
  Image image;
  image.width = image.height = 8;
  image.rgb.assign(8 * 8 * 3, 90);
  SaveImage(image, dir.File("source.png"));
  internal::ThumbnailSource source;
  source.filepath = dir.File("source.png");
  internal::ThumbnailCache unbounded(cache_dir);
  std::string key = unbounded.Key(source);
  std::string kept = unbounded.Get(source, key);
  fs::last_write_time(kept, now - std::chrono::hours(3));
  // ... and ten 1,000-byte entries used 2h50m to 2h ago, oldest first.
  std::vector<std::string> others;
  for (int i = 0; i < 10; ++i) {
    others.push_back(cache_dir + "/zz/entry" + std::to_string(i) + ".jpg");
    fs::create_directories(cache_dir + "/zz");
    testing::WriteFile(others.back(), std::string(1000, 'x'));
    fs::last_write_time(others.back(), now - std::chrono::minutes(170 - 5 * i));
  }
  testing::WriteFile(cache_dir + "/zz/notes.txt", std::string(50000, 'y'));  // not an entry: never deleted
  const uint64_t thumb = fs::file_size(kept);

  // Serving the old thumbnail makes it the most recently used.
  EXPECT_EQ(unbounded.Get(source, key), kept);
  EXPECT_GT(fs::last_write_time(kept), now - std::chrono::minutes(1));

  // A limit of 5,000 + the thumbnail: pruned to 90% of it, oldest first.
  internal::ThumbnailCache bounded(cache_dir, 5000 + thumb);
  EXPECT_TRUE(fs::exists(kept));
  EXPECT_TRUE(fs::exists(cache_dir + "/zz/notes.txt"));
  uint64_t left = thumb;
  for (size_t i = 0; i < others.size(); ++i) {
    bool exists = fs::exists(others[i]);
    if (exists) left += 1000;
    // Entries go strictly oldest first.
    if (i > 0 && !exists) EXPECT_FALSE(fs::exists(others[i - 1])) << i;
  }
  EXPECT_LE(left, (5000 + thumb) / 10 * 9);
  EXPECT_GT(left + 1000, (5000 + thumb) / 10 * 9);  // no more than needed
  EXPECT_TRUE(fs::exists(others.back()));
  EXPECT_EQ(bounded.Prune(), 0u);  // under the limit now
  internal::ThumbnailCache no_limit(cache_dir, 0);
  EXPECT_EQ(no_limit.Prune(), 0u);
}

}  // namespace
}  // namespace fo
