// ComputeMetadata (fo/metadata.h): the samples missing metadata are listed
// with one query over the view, their headers read by a pool of threads
// (the work is file I/O, so more threads than cores help on network
// storage), and the results written with one prepared UPDATE in one
// transaction.
#include <algorithm>
#include <atomic>
#include <thread>

#include "core/progress.h"
#include "fo/database.h"
#include "fo/error.h"
#include "fo/metadata.h"
#include "store/sqlite.h"
#include "store/view_query.h"

namespace fo {

namespace {

struct Pending {
  int64_t key;
  std::string filepath;
};

std::vector<Pending> SamplesToRead(const View& view, bool overwrite) {
  internal::ViewQuery q = view.Compile();
  auto& db = view.database()->sqlite();
  std::lock_guard lock(db.mutex());
  std::string where = overwrite ? ""
                                : " WHERE s.width IS NULL OR s.height IS NULL OR s.size_bytes IS NULL OR s.mime_type IS NULL "
                                  "OR s.num_channels IS NULL";
  auto st = q.Prepare(db, "SELECT v.k, s.filepath FROM ", " AS v JOIN samples AS s ON s.seq = v.k" + where + " ORDER BY v.o");
  std::vector<Pending> out;
  while (st.Step()) out.push_back({st.Int(0), st.Text(1)});
  return out;
}

struct Outcome {
  std::optional<ImageMetadata> metadata;
  std::string error;
};

std::vector<Outcome> ReadAll(const std::vector<Pending>& pending, size_t workers, bool show_progress) {
  std::vector<Outcome> out(pending.size());
  internal::ProgressBar progress("metadata", pending.size(), show_progress);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < pending.size();) {
      try {
        out[i].metadata = ReadImageMetadata(pending[i].filepath);
      } catch (const Error& e) {
        out[i].error = e.what();
      }
      progress.Add(1);
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(workers, pending.size()); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  progress.Finish();
  return out;
}

}  // namespace

ComputeMetadataResult ComputeMetadata(const View& view, const ComputeMetadataOptions& options) {
  std::vector<Pending> pending = SamplesToRead(view, options.overwrite);
  const size_t workers = options.num_workers ? options.num_workers : std::max(1u, std::thread::hardware_concurrency());
  std::vector<Outcome> outcomes = ReadAll(pending, workers, options.progress.value_or(internal::StderrIsTerminal()));
  ComputeMetadataResult result;
  for (size_t i = 0; i < outcomes.size(); ++i)
    if (!outcomes[i].metadata) {
      if (!options.skip_failures)
        throw InvalidArgument("cannot read the metadata of " + outcomes[i].error + " (nothing was written; skip_failures=True skips such files)");
      result.failures.push_back(outcomes[i].error);
    }
  auto& db = view.database()->sqlite();
  internal::Transaction txn(db);
  auto update = db.Prepare(
      "UPDATE samples SET width = ?, height = ?, size_bytes = ?, mime_type = ?, num_channels = ? WHERE seq = ?");
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const auto& m = outcomes[i].metadata;
    if (!m) continue;
    update.Bind(1, m->width).Bind(2, m->height).Bind(3, m->size_bytes).Bind(4, m->mime_type).Bind(5, m->num_channels)
        .Bind(6, pending[i].key).Run();
    ++result.computed;
  }
  txn.Commit();
  return result;
}

}  // namespace fo
