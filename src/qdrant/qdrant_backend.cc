// The "qdrant" backend: the index lives in a Qdrant collection, reached over
// REST through QdrantClient. Point ids and payloads are those FiftyOne's
// Python integration writes (ObjectId + "00000000" as a UUID; payload
// {"sample_id": ...}), so collections are interchangeable with FiftyOne's.
//
// Distances reported (smaller is closer, as every fo backend): Cosine
// 1 - score, Dot -score, Euclid score (Qdrant's own distance).
#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "fo/error.h"
#include "fo/qdrant_backend.h"
#include "fo/qdrant_client.h"
#include "fo/similarity_backend.h"
#include "similarity/builtin_backends.h"

namespace fo {
namespace {

using nlohmann::json;

// Qdrant's default request limit is 32 MiB; stay well below it.
constexpr size_t kMaxBodyBytes = 24u << 20;
// Ids per retrieve / delete / filter request: ~40 bytes each.
constexpr size_t kIdsPerRequest = 20000;
constexpr size_t kScrollPage = 1000;

std::string DistanceName(const std::string& metric) {
  if (metric == "cosine") return "Cosine";
  if (metric == "dotproduct") return "Dot";
  if (metric == "euclidean") return "Euclid";
  throw InvalidArgument("unsupported metric '" + metric + "' for backend 'qdrant'; supported metrics are [cosine, dotproduct, euclidean]");
}

// Drops nulls recursively: FiftyOne leaves unset parameters out of requests.
json WithoutNulls(const json& j) {
  if (!j.is_object()) return j;
  json out = json::object();
  for (const auto& [k, v] : j.items())
    if (!v.is_null()) out[k] = WithoutNulls(v);
  return out;
}

std::string Slug(const std::string& name) {
  std::string s;
  for (char c : name) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::isalnum(static_cast<unsigned char>(l))) {
      s += l;
    } else if (!s.empty() && s.back() != '-') {
      s += '-';
    }
  }
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s.empty() ? "dataset" : s;
}

std::string RandomSuffix(size_t n) {
  static const char* kChars = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string s;
  for (size_t i = 0; i < n; ++i) s += kChars[rd() % 36];
  return s;
}

QdrantClientOptions ClientOptions(const json& params) {
  QdrantClientOptions o;
  if (params.contains("url") && params["url"].is_string() && !params["url"].get<std::string>().empty())
    o.url = params["url"].get<std::string>();
  if (params.contains("api_key") && params["api_key"].is_string()) o.api_key = params["api_key"].get<std::string>();
  if (params.contains("timeout") && params["timeout"].is_number()) o.timeout_s = params["timeout"].get<double>();
  return o;
}

template <typename F>
void ForChunks(const std::vector<std::string>& ids, size_t chunk, F fn) {
  for (size_t i = 0; i < ids.size(); i += chunk)
    fn(std::vector<std::string>(ids.begin() + static_cast<std::ptrdiff_t>(i),
                                ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + chunk))));
}

std::vector<std::string> ToPointIds(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.push_back(ObjectIdToPointId(id));
  return out;
}

class QdrantBackend : public SimilarityBackend {
 public:
  explicit QdrantBackend(const BackendContext& ctx)
      : params_(ctx.params), distance_(DistanceName(ctx.metric)), patches_(ctx.patches),
        client_(ClientOptions(ctx.params)) {
    std::vector<std::string> existing;
    try {
      existing = client_.ListCollections();
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kUnavailable || e.code() == ErrorCode::kUnauthenticated) throw;
      throw Error(ErrorCode::kUnavailable, "Failed to connect to Qdrant at " + client_.url() + ": " + e.what());
    }
    if (params_.contains("collection_name") && params_["collection_name"].is_string() &&
        !params_["collection_name"].get<std::string>().empty()) {
      collection_ = params_["collection_name"].get<std::string>();
    } else {
      collection_ = UniqueName("fiftyone-" + Slug(ctx.dataset_name), existing);
    }
  }

  static BackendCapabilities Capabilities() { return {std::nullopt, true, {"cosine", "dotproduct", "euclidean"}}; }
  BackendCapabilities capabilities() const override { return Capabilities(); }

  json PersistentParams() const override { return {{"collection_name", collection_}}; }

  QdrantClient& client() { return client_; }
  const std::string& collection() const { return collection_; }

  // Store keys are not sent: Qdrant points are addressed by ObjectId, as
  // FiftyOne's integration writes them, so collections stay interchangeable.
  void Upsert(const Matrix& vectors, const std::vector<std::string>& item_ids,
              const std::vector<std::string>& sample_ids, const ItemKeys&) override {
    if (vectors.rows() == 0) return;
    EnsureCollection(vectors.cols());
    std::vector<std::string> ids = ToPointIds(item_ids);
    std::vector<json> payloads;
    payloads.reserve(sample_ids.size());
    for (const auto& s : sample_ids) payloads.push_back({{"sample_id", s}});
    size_t written = 0;
    try {
      while (written < ids.size()) {
        size_t n = RowsThatFit(vectors, written, ids.size());
        Matrix part(n, vectors.cols(), std::vector<float>(vectors.data() + written * vectors.cols(),
                                                          vectors.data() + (written + n) * vectors.cols()));
        std::vector<std::string> part_ids(ids.begin() + static_cast<std::ptrdiff_t>(written),
                                          ids.begin() + static_cast<std::ptrdiff_t>(written + n));
        std::vector<json> part_payloads(payloads.begin() + static_cast<std::ptrdiff_t>(written),
                                        payloads.begin() + static_cast<std::ptrdiff_t>(written + n));
        client_.Upsert(collection_, part, part_ids, part_payloads, true);
        written += n;
      }
    } catch (const Error& e) {
      throw Error(e.code(), std::string(e.what()) + " (" + std::to_string(written) + " of " + std::to_string(ids.size()) +
                                " points of this batch were written; add_to_index again to finish: upserts are idempotent)");
    }
  }

  std::vector<bool> Contains(const std::vector<std::string>& item_ids) override {
    std::unordered_set<std::string> found;
    if (Exists()) {
      ForChunks(item_ids, kIdsPerRequest, [&](const std::vector<std::string>& chunk) {
        for (auto& p : client_.Retrieve(collection_, ToPointIds(chunk), false, false)) found.insert(PointIdToObjectId(p.id));
      });
    }
    std::vector<bool> out;
    for (const auto& id : item_ids) out.push_back(found.count(id) > 0);
    return out;
  }

  size_t Remove(const std::vector<std::string>& item_ids) override {
    std::vector<bool> exists = Contains(item_ids);
    std::vector<std::string> present;
    for (size_t i = 0; i < item_ids.size(); ++i)
      if (exists[i]) present.push_back(item_ids[i]);
    ForChunks(present, kIdsPerRequest, [&](const std::vector<std::string>& chunk) {
      client_.DeletePoints(collection_, ToPointIds(chunk), true);
    });
    return present.size();
  }

  std::vector<std::string> ItemIdsOfSamples(const std::vector<std::string>& sample_ids) override {
    std::vector<std::string> out;
    if (!Exists()) return out;
    ForChunks(sample_ids, kIdsPerRequest, [&](const std::vector<std::string>& chunk) {
      json filter = {{"must", json::array({{{"key", "sample_id"}, {"match", {{"any", chunk}}}}})}};
      ScrollAll(filter, false, [&](QdrantPoint& p) { out.push_back(PointIdToObjectId(p.id)); });
    });
    return out;
  }

  IndexedEmbeddings Get(const std::vector<std::string>& item_ids) override {
    IndexedEmbeddings out;
    if (!Exists()) return out;
    auto add = [&](QdrantPoint& p) {
      std::string id = PointIdToObjectId(p.id);
      out.embeddings.AppendRow(p.vector);
      out.sample_ids.push_back(p.payload.is_object() && p.payload.contains("sample_id") ? p.payload["sample_id"].get<std::string>() : id);
      if (patches_) out.label_ids.push_back(id);
    };
    if (item_ids.empty()) {
      ScrollAll(nullptr, true, add);
      return out;
    }
    // Retrieve returns points in server order; give them back in the order asked.
    std::unordered_map<std::string, QdrantPoint> by_id;
    ForChunks(item_ids, kIdsPerRequest / 4, [&](const std::vector<std::string>& chunk) {
      for (auto& p : client_.Retrieve(collection_, ToPointIds(chunk), true, true)) by_id[PointIdToObjectId(p.id)] = std::move(p);
    });
    for (const auto& id : item_ids) {
      auto it = by_id.find(id);
      if (it != by_id.end()) add(it->second);
    }
    return out;
  }

  std::optional<std::vector<std::string>> ItemIds() override { return std::nullopt; }

  size_t Size() override {
    if (!Exists()) return 0;
    return client_.Count(collection_);
  }

  size_t Dimension() override {
    if (dim_ == 0 && Exists()) {
      json info = client_.GetCollection(collection_);
      json vectors = info["config"]["params"]["vectors"];
      if (vectors.contains("size")) dim_ = vectors["size"].get<size_t>();
    }
    return dim_;
  }

  std::vector<std::vector<Hit>> Search(const Matrix& queries, size_t k, bool reverse, const SearchFilter& filter) override {
    if (reverse && distance_ == "Euclid")
      throw InvalidArgument("least similarity (reverse) is not supported by the qdrant backend with the euclidean metric; "
                            "use cosine or dotproduct, or the sklearn backend");
    std::vector<std::vector<Hit>> out(queries.rows());
    if (!Exists() || queries.rows() == 0) return out;
    Matrix q = queries;
    if (reverse)  // The farthest by cosine or dot are the nearest to -q.
      for (size_t i = 0; i < q.rows() * q.cols(); ++i) q.data()[i] = -q.data()[i];
    std::unordered_set<std::string> allowed;
    bool restrict = filter.mode == SearchFilter::Mode::kOnly;
    if (restrict) allowed.insert(filter.ids.begin(), filter.ids.end());
    const std::unordered_set<std::string>* keep = restrict ? &allowed : nullptr;
    // Every query vector in one batch request; a row that comes back short
    // after dropping items outside the view is asked again on its own.
    std::optional<json> server_filter = ServerFilter(filter);
    if (server_filter) {
      auto batch = client_.QueryBatch(collection_, q, k, *server_filter, true);
      for (size_t i = 0; i < q.rows(); ++i) {
        for (const auto& p : batch[i]) {
          Hit h = ToHit(p, reverse);
          if (Allowed(h, filter, keep)) out[i].push_back(std::move(h));
        }
        if (out[i].size() < k && batch[i].size() == k) out[i] = SearchOne(Row(q, i), k, reverse, filter, keep);
      }
      return out;
    }
    for (size_t i = 0; i < q.rows(); ++i) out[i] = SearchOne(Row(q, i), k, reverse, filter, keep);
    return out;
  }

  void Cleanup() override {
    client_.DeleteCollection(collection_);
    exists_ = false;
    dim_ = 0;
  }

 private:
  static Matrix Row(const Matrix& m, size_t i) {
    return Matrix(1, m.cols(), std::vector<float>(m.row(i).begin(), m.row(i).end()));
  }

  static std::string UniqueName(const std::string& base, const std::vector<std::string>& existing) {
    std::set<std::string> taken(existing.begin(), existing.end());
    if (!taken.count(base)) return base;
    for (size_t len = 6;; ++len) {
      std::string name = base + "-" + RandomSuffix(len);
      if (!taken.count(name)) return name;
    }
  }

  bool Exists() {
    if (!exists_) exists_ = client_.CollectionExists(collection_);
    return exists_;
  }

  void EnsureCollection(size_t dim) {
    if (Exists()) {
      size_t have = Dimension();
      if (have != 0 && have != dim)
        throw InvalidArgument("embeddings have dimension " + std::to_string(dim) + " but Qdrant collection '" + collection_ +
                              "' has dimension " + std::to_string(have));
      return;
    }
    json body = {{"vectors", {{"size", dim}, {"distance", distance_}}}};
    for (const char* key : {"shard_number", "replication_factor", "write_consistency_factor", "hnsw_config",
                            "optimizers_config", "wal_config"}) {
      if (params_.contains(key) && !params_[key].is_null()) body[key] = WithoutNulls(params_[key]);
    }
    client_.CreateCollection(collection_, body);
    exists_ = true;
    dim_ = dim;
  }

  // Rows per request so that the body stays under kMaxBodyBytes, from a
  // bound rather than the exact size (which costs a second serialisation):
  // a shortest-form float32 takes at most 15 characters plus a comma, and a
  // row's id and {"sample_id": ...} payload well under 128 bytes.
  static size_t RowsThatFit(const Matrix& v, size_t first, size_t total) {
    size_t row_bound = v.cols() * 16 + 128;
    return std::max<size_t>(1, std::min(total - first, kMaxBodyBytes / row_bound));
  }

  template <typename F>
  void ScrollAll(const json& filter, bool with_vector, F fn) {
    json offset = nullptr;
    do {
      QdrantScrollPage page = client_.Scroll(collection_, filter, kScrollPage, offset, with_vector, true);
      for (auto& p : page.points) fn(p);
      offset = page.next_page_offset;
    } while (!offset.is_null());
  }

  // The Qdrant filter for a view, kept small: has_id (or sample_id match)
  // on the view's ids or must_not on the complement, whichever is shorter.
  // Returns nullopt when the filter would be too large for one request.
  std::optional<json> ServerFilter(const SearchFilter& f) const {
    if (f.mode == SearchFilter::Mode::kAll) return json(nullptr);
    bool negate = f.mode == SearchFilter::Mode::kExcept;
    const std::vector<std::string>* ids = &f.ids;
    if (f.mode == SearchFilter::Mode::kOnly && f.complement && f.complement->size() < f.ids.size()) {
      ids = &*f.complement;
      negate = true;
    }
    if (negate && ids->empty()) return json(nullptr);
    if (ids->size() > kIdsPerRequest) return std::nullopt;
    json cond = f.by_sample_id ? json{{"key", "sample_id"}, {"match", {{"any", *ids}}}} : json{{"has_id", ToPointIds(*ids)}};
    return json{{negate ? "must_not" : "must", json::array({cond})}};
  }

  Hit ToHit(const QdrantScoredPoint& p, bool reverse) const {
    std::string id = PointIdToObjectId(p.id);
    std::string sample = p.payload.is_object() && p.payload.contains("sample_id") ? p.payload["sample_id"].get<std::string>() : id;
    double score = reverse ? -p.score : p.score;  // reverse queried with -q
    double dist = distance_ == "Cosine" ? 1.0 - score : distance_ == "Dot" ? -score : p.score;
    return {id, sample, dist};
  }

  bool Allowed(const Hit& h, const SearchFilter& f, const std::unordered_set<std::string>* allowed) const {
    if (!allowed) return true;
    return allowed->count(f.by_sample_id ? h.sample_id : h.item_id) > 0;
  }

  // One query vector. Results outside the view (e.g. deleted samples when
  // the filter excluded a complement) are dropped client-side, asking for
  // more until k are found or the index is exhausted.
  std::vector<Hit> SearchOne(const Matrix& q, size_t k, bool reverse, const SearchFilter& f,
                             const std::unordered_set<std::string>* allowed) {
    std::optional<json> server_filter = ServerFilter(f);
    if (!server_filter) return SearchChunked(q, k, reverse, f);
    size_t total = Size();
    for (size_t limit = k;; limit = std::min(total, limit * 2)) {
      auto batch = client_.QueryBatch(collection_, q, limit, *server_filter, true);
      std::vector<Hit> hits;
      for (const auto& p : batch.front()) {
        Hit h = ToHit(p, reverse);
        if (Allowed(h, f, allowed)) hits.push_back(std::move(h));
        if (hits.size() == k) break;
      }
      if (hits.size() == k || batch.front().size() < limit || limit >= total) return hits;
    }
  }

  // A view too large for one filter: query each chunk of its ids (one batch
  // request, the same vector with one filter per chunk) and merge the top k.
  std::vector<Hit> SearchChunked(const Matrix& q, size_t k, bool reverse, const SearchFilter& f) {
    std::vector<Hit> all;
    ForChunks(f.ids, kIdsPerRequest, [&](const std::vector<std::string>& chunk) {
      SearchFilter part = f;
      part.ids = chunk;
      part.complement.reset();
      json cond = f.by_sample_id ? json{{"key", "sample_id"}, {"match", {{"any", chunk}}}} : json{{"has_id", ToPointIds(chunk)}};
      auto batch = client_.QueryBatch(collection_, q, k, json{{"must", json::array({cond})}}, true);
      for (const auto& p : batch.front()) all.push_back(ToHit(p, reverse));
    });
    std::stable_sort(all.begin(), all.end(), [&](const Hit& a, const Hit& b) {
      return reverse ? a.distance > b.distance : a.distance < b.distance;
    });
    if (all.size() > k) all.resize(k);
    return all;
  }

  json params_;
  std::string distance_;
  bool patches_;
  QdrantClient client_;
  std::string collection_;
  bool exists_ = false;
  size_t dim_ = 0;
};

}  // namespace

namespace internal {
void RegisterQdrantBackend() {
  RegisterSimilarityBackend("qdrant", QdrantBackend::Capabilities(),
                            [](const BackendContext& ctx) { return std::make_unique<QdrantBackend>(ctx); });
}
}  // namespace internal

namespace {
QdrantBackend& QdrantBackendOf(SimilarityIndex& index) {
  auto* q = dynamic_cast<QdrantBackend*>(&index.backend());
  if (q == nullptr)
    throw InvalidArgument("brain run '" + index.brain_key() + "' uses backend '" + index.config().backend + "', not qdrant");
  return *q;
}
}  // namespace

QdrantClient& QdrantClientOf(SimilarityIndex& index) { return QdrantBackendOf(index).client(); }
std::string QdrantCollectionOf(SimilarityIndex& index) { return QdrantBackendOf(index).collection(); }

}  // namespace fo
