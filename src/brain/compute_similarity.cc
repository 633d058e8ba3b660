#include <iostream>
#include <optional>
#include <unordered_map>

#include "brain/run_store.h"
#include "fo/brain.h"
#include "fo/brain_config.h"
#include "fo/database.h"
#include "fo/embeddings.h"
#include "fo/error.h"
#include "fo/model.h"
#include "fo/object_id.h"
#include "models/embeddings_field.h"
#include "store/sample_store.h"
#include "store/sqlite.h"
#include "store/view_keys.h"

namespace fo {

using nlohmann::json;

namespace {

// Explicit params win over env and file (a shallow update, as FiftyOne's
// dict.update).
json MergedParams(const std::string& backend, const json& explicit_params) {
  json params = BrainConfig::Load().SimilarityBackendParams(backend);
  for (const auto& [k, v] : explicit_params.items()) params[k] = v;
  return params;
}

std::string MetricOf(const json& params) {
  auto it = params.find("metric");
  if (it == params.end() || it->is_null()) return "cosine";
  if (!it->is_string()) throw InvalidArgument("metric must be a string such as \"cosine\"");
  return it->get<std::string>();
}

void CheckMetric(const std::string& backend, const std::string& metric) {
  auto caps = SimilarityBackendCapabilities(backend);
  for (const auto& m : caps.metrics)
    if (m == metric) return;
  std::string names;
  for (const auto& m : caps.metrics) names += (names.empty() ? "" : ", ") + m;
  throw InvalidArgument("unsupported metric '" + metric + "' for backend '" + backend + "'; supported metrics are [" + names + "]");
}

void CheckPatchesField(const Dataset& dataset, const std::string& field) {
  if (field.empty()) return;
  for (const auto& f : dataset.Fields()) {
    if (f.name != field) continue;
    if (f.type != "detections") throw InvalidArgument("patches_field '" + field + "' holds " + f.type + " values, not detections");
    return;
  }
  throw NotFound("dataset '" + dataset.name() + "' has no field '" + field + "' to take patches from");
}

// The vectors stored in `field` (sample field, or detection attribute when
// patches_field is set) for the samples of the view; samples without one
// are left out.
EmbeddingsResult VectorsFromField(const View& view, const std::string& field, const std::string& patches_field) {
  EmbeddingsResult out;
  std::string attr = internal::LabelAttribute(field, patches_field);
  bool found_any = false;
  for (const Sample& s : view.Samples()) {
    if (patches_field.empty()) {
      auto it = s.fields.find(field);
      if (it == s.fields.end() || it->second.is_null()) continue;
      if (!it->second.is_vector()) throw InvalidArgument("field '" + field + "' does not hold vectors");
      out.embeddings.AppendRow(it->second.as<FloatVector>());
      out.sample_ids.push_back(s.id);
      found_any = true;
      continue;
    }
    auto lf = s.label_fields.find(patches_field);
    if (lf == s.label_fields.end()) continue;
    for (const auto& d : lf->second.detections) {
      auto it = d.attributes.find(attr);
      if (it == d.attributes.end() || it->second.is_null()) continue;
      if (!it->second.is_vector()) throw InvalidArgument("attribute '" + attr + "' does not hold vectors");
      if (!out.embeddings.empty() && it->second.as<FloatVector>().size() != out.embeddings.cols())
        throw InvalidArgument("attribute '" + attr + "' holds vectors of different dimensions");
      out.embeddings.AppendRow(it->second.as<FloatVector>());
      out.sample_ids.push_back(s.id);
      out.label_ids.push_back(d.id);
      found_any = true;
    }
  }
  if (!found_any) throw InvalidArgument("no vectors found in field '" + field + "' of the samples given");
  return out;
}

// The ids a user matrix's rows are taken to follow when none are given:
// the view's samples, or each sample's patches_field labels in order.
std::vector<std::string> ItemIdsInViewOrder(const View& samples, const std::string& patches_field) {
  if (patches_field.empty()) return samples.Ids();
  std::vector<std::string> ids;
  for (const auto& per_sample : samples.Values(patches_field + ".detections.id"))
    if (per_sample.is<ValueList>())
      for (const auto& id : per_sample.as<ValueList>()) ids.push_back(id.as<std::string>());
  return ids;
}

// The ids of a user matrix's rows, checked against the dataset: sample ids,
// or label ids of patches_field (whose sample ids are looked up). The rows
// are checked but not copied: `embeddings` of the result stays empty.
EmbeddingsResult IdsOfMatrixRows(const Dataset& dataset, MatrixView m, const std::vector<std::string>& ids,
                                 const std::string& patches_field) {
  if (m.rows() != ids.size())
    throw InvalidArgument("got " + std::to_string(m.rows()) + " embeddings but " + std::to_string(ids.size()) + " ids; give one id per row");
  if (m.rows() > 0 && m.cols() == 0) throw InvalidArgument("embeddings have dimension 0");
  m.CheckFinite("embeddings");
  EmbeddingsResult out;
  auto& db = dataset.database()->sqlite();
  std::lock_guard lock(db.mutex());
  if (patches_field.empty()) {
    for (const auto& id : ids)
      if (!IsObjectId(id)) throw InvalidArgument("id '" + id + "' is not a 24-hex ObjectId");
    // Batched lookups: one query per chunk of ids, not one per id.
    std::vector<int64_t> keys = internal::SampleKeysOfIds(dataset.view(), ids);
    for (size_t i = 0; i < ids.size(); ++i)
      if (keys[i] == 0) throw NotFound("sample '" + ids[i] + "' is not in dataset '" + dataset.name() + "'");
    out.sample_ids = ids;
  } else {
    auto q = db.Prepare(
        "SELECT s.id FROM labels l JOIN samples s ON l.sample_seq = s.seq WHERE l.id = ? AND l.field = ? AND s.dataset_id = ?");
    for (const auto& id : ids) {
      if (!IsObjectId(id)) throw InvalidArgument("id '" + id + "' is not a 24-hex ObjectId");
      q.Bind(1, id).Bind(2, patches_field).Bind(3, dataset.id());
      if (!q.Step()) throw NotFound("label '" + id + "' is not in field '" + patches_field + "' of dataset '" + dataset.name() + "'");
      out.sample_ids.push_back(q.Text(0));
      q.Reset();
    }
    out.label_ids = ids;
  }
  return out;
}

// FiftyOne's register_run(overwrite=True): a similarity run under the key
// is replaced (returned here, to delete in the new run's transaction); a run
// of another type is an error.
std::optional<internal::RunRecord> ReplaceableRun(const Dataset& dataset, const std::string& key) {
  if (key.empty()) return std::nullopt;
  auto& db = dataset.database()->sqlite();
  std::lock_guard lock(db.mutex());
  std::optional<internal::RunRecord> run = internal::FindRun(db, dataset.id(), key);
  if (run && run->type != "similarity")
    throw AlreadyExists("brain run '" + key + "' on dataset '" + dataset.name() + "' is a " + run->type +
                        " run, which a similarity run cannot replace; delete it first or choose another key");
  return run;
}

// As FiftyOne, compute_similarity does not clean up the run it replaces: an
// index kept outside the store (a Qdrant collection) stays where it was.
void NoteReplaced(const Dataset& dataset, const internal::RunRecord& old) {
  std::cerr << "notice: brain run '" << old.key << "' on dataset '" << dataset.name()
            << "' replaced the previous run of that key";
  const json params = old.config.value("params", json::object());
  bool external = false;
  try {
    external = !SimilarityBackendCapabilities(old.method).writes_with_store;
  } catch (const Error&) {
    // A backend this build does not have: say nothing about its index.
  }
  if (external)
    std::cerr << "; its " << old.method << " index (" << params.dump()
              << ") was left in place: call cleanup() on a run's index before replacing it to delete that too";
  std::cerr << '\n';
}

}  // namespace

std::unique_ptr<SimilarityIndex> ComputeSimilarity(const View& samples, ComputeSimilarityOptions o) {
  Dataset dataset = Dataset::Load(samples.database(), samples.dataset_name());
  if (!o.brain_key.empty()) internal::CheckBrainKey(o.brain_key);
  std::string backend = o.backend.empty() ? BrainConfig::Load().default_similarity_backend() : o.backend;
  SimilarityBackendCapabilities(backend);  // Throws for an unknown backend.
  json params = MergedParams(backend, o.params);
  std::string metric = MetricOf(params);
  CheckMetric(backend, metric);
  CheckPatchesField(dataset, o.patches_field);

  if (o.embeddings && o.embeddings_view) throw InvalidArgument("give embeddings or embeddings_view, not both");
  // The user's rows, owned or borrowed; either way they are indexed in place.
  std::optional<Matrix> owned = std::move(o.embeddings);
  std::optional<MatrixView> given = owned ? std::optional<MatrixView>(*owned) : o.embeddings_view;
  int sources = given.has_value() + (!o.embeddings_field.empty() && o.model.empty()) + o.no_embeddings;
  if (sources > 1) throw InvalidArgument("give only one of embeddings, embeddings_field or no_embeddings");
  if (!o.ids.empty() && !given) throw InvalidArgument("ids were given without an embeddings matrix");
  if (o.model_instance && o.model.empty()) o.model = o.model_instance->name();
  if (o.model.empty() && sources == 0) o.model = kColorGradientDescriptor;
  std::shared_ptr<Model> model = o.model_instance;
  if (!model && !o.model.empty()) model = LoadModel(o.model, o.model_kwargs);
  if (given && o.ids.empty()) o.ids = ItemIdsInViewOrder(samples, o.patches_field);
  ReplaceableRun(dataset, o.brain_key);  // fails before any work on a run of another type

  SimilarityConfig config;
  config.backend = backend;
  config.metric = metric;
  config.patches_field = o.patches_field;
  config.model = o.model;
  config.model_kwargs = o.model_kwargs;
  if (model) config.supports_prompts = model->supports_prompts();
  config.params = params;
  config.params.erase("metric");
  if (!given) config.embeddings_field = o.embeddings_field;

  BackendContext ctx;
  ctx.db = dataset.database();
  ctx.dataset_name = dataset.name();
  ctx.metric = metric;
  ctx.patches = !o.patches_field.empty();
  ctx.params = config.params;
  // The backend is created first: a remote one checks its connection here,
  // before any work, and may already hold vectors (an existing collection).
  auto index = std::make_unique<SimilarityIndex>(dataset.view(), o.brain_key, config, ctx);
  bool connect_existing = index->total_index_size() > 0;

  // Compute or read the vectors before anything is written.
  std::optional<EmbeddingsResult> vectors;
  if (connect_existing || o.no_embeddings) {
    // As FiftyOne: nothing is added to an index that already has vectors.
  } else if (given) {
    vectors = IdsOfMatrixRows(dataset, *given, o.ids, o.patches_field);
  } else if (!o.embeddings_field.empty() && o.model.empty()) {
    vectors = VectorsFromField(samples, o.embeddings_field, o.patches_field);
  } else {
    if (samples.Count() == 0) throw FailedPrecondition("dataset '" + dataset.name() + "' has no samples to embed; add samples or pass no_embeddings");
    ComputeEmbeddingsOptions eo;
    eo.patches_field = o.patches_field;
    eo.batch_size = o.batch_size;
    eo.num_workers = o.num_workers;
    eo.progress = o.progress;
    eo.skip_failures = o.skip_failures;
    eo.force_square = o.force_square;
    eo.alpha = o.alpha;
    vectors = ComputeEmbeddings(samples, *model, eo);
  }

  auto& db = dataset.database()->sqlite();
  internal::Transaction txn(db);
  int64_t run_id = 0;
  std::optional<internal::RunRecord> replaced = ReplaceableRun(dataset, o.brain_key);
  if (replaced) internal::DeleteRun(db, replaced->run_id);
  if (!o.brain_key.empty()) {
    internal::RunRecord run{0, o.brain_key, "similarity", backend, Version(), internal::UtcTimestamp(), json()};
    run.config = config.ToJson();
    run.config["type"] = "similarity";
    run_id = internal::InsertRun(db, dataset.id(), run);
    index->AttachToRun(run_id);
  }
  MatrixView rows = given && vectors ? *given : vectors ? MatrixView(vectors->embeddings) : MatrixView(nullptr, 0, 0);
  if (rows.rows() > 0) {
    if (model && !o.embeddings_field.empty()) internal::StoreEmbeddings(dataset, *vectors, o.embeddings_field, o.patches_field);
    index->AddToIndex(rows, vectors->sample_ids, vectors->label_ids);
  }
  if (run_id != 0) {
    // The backend may have chosen parameters (e.g. a collection name) to keep.
    json stored = config.ToJson();
    stored["type"] = "similarity";
    json chosen = index->backend().PersistentParams();
    for (const auto& [k, v] : chosen.items()) stored["params"][k] = v;
    internal::UpdateRunConfig(db, run_id, stored);
  }
  txn.Commit();
  if (replaced) NoteReplaced(dataset, *replaced);
  return index;
}

}  // namespace fo
