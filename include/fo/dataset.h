// fo::Dataset: a persistent, named collection of samples in the store, like
// FiftyOne's Dataset. A Dataset object is a handle (name + store); copies
// refer to the same data. Every write is one SQLite transaction: it either
// happens whole or throws and leaves the store as it was.
#ifndef FO_DATASET_H_
#define FO_DATASET_H_

#include <map>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fo/sample.h"
#include "fo/value.h"
#include "fo/view.h"

namespace fo {

class Database;

// The declared type of a dataset field (the first value written fixes it).
struct FieldInfo {
  std::string name;
  std::string type;  // "bool", "int", "float", "string", "list", "vector", "detections"
};

// A label of a Detections field, with its sample.
struct LabelRef {
  std::string sample_id;
  std::string label_id;
};

class Dataset {
 public:
  // Throws kAlreadyExists if the name is taken, kInvalidArgument if empty.
  static Dataset Create(std::shared_ptr<Database> db, const std::string& name);
  // Creates the dataset with these samples in one transaction: afterwards it
  // either exists with every sample, or (on any error, or a crash) not at
  // all. Throws as Create and AddSamples.
  static Dataset Create(std::shared_ptr<Database> db, const std::string& name, std::vector<Sample> samples);
  // Throws kNotFound (listing the existing names) if there is no such dataset.
  static Dataset Load(std::shared_ptr<Database> db, const std::string& name);
  static std::vector<std::string> List(const std::shared_ptr<Database>& db);
  static bool Exists(const std::shared_ptr<Database>& db, const std::string& name);
  // Deletes the dataset, its samples, labels and brain run records. Throws
  // kNotFound if absent. External indexes (a Qdrant collection) are left alone.
  static void Delete(const std::shared_ptr<Database>& db, const std::string& name);

  const std::string& name() const { return name_; }
  int64_t id() const { return id_; }
  const std::shared_ptr<Database>& database() const { return db_; }

  // Throws kAlreadyExists if new_name is taken.
  void Rename(const std::string& new_name);

  // Adds the samples in one transaction and returns their ids in order.
  // Missing sample and detection ids are assigned. Throws kInvalidArgument
  // (nothing added) for a bad id, a duplicate id, a box outside [0, 1], a
  // non-finite vector or a value whose type conflicts with the field's.
  std::vector<std::string> AddSamples(std::vector<Sample> samples);
  std::string AddSample(Sample sample);
  // The same for samples produced while they are written (the Python
  // binding converts the next batch on one core while this one is inserted
  // on the other): `next_batch` fills the empty vector it is given and
  // returns false when there are no more samples. All batches go into one
  // transaction; an exception from `next_batch` rolls everything back.
  // `expected_count` (0 = unknown) sizes the progress bar drawn on a
  // terminal.
  std::vector<std::string> AddSampleBatches(const std::function<bool(std::vector<Sample>&)>& next_batch,
                                            size_t expected_count = 0);
  // Deletes these samples and their labels. Throws kNotFound (nothing
  // deleted) if any id is not a sample of this dataset.
  void DeleteSamples(const std::vector<std::string>& ids);
  // Throws kNotFound for an unknown id.
  Sample GetSample(const std::string& id) const;
  // Sets `field` on each sample id given, in one transaction. A null Value
  // clears it. Built-in fields (id, filepath, metadata) cannot be set; "tags"
  // takes a list of strings.
  void SetValues(const std::string& field, const std::map<std::string, Value>& values);
  // Sets attribute `attr` on detections of `label_field`, keyed by label id.
  void SetLabelValues(const std::string& label_field, const std::string& attr,
                      const std::map<std::string, Value>& values);
  std::vector<FieldInfo> Fields() const;
  // FiftyOne's media_type: fo datasets hold images.
  std::string media_type() const { return "image"; }
  // FiftyOne's persistent flag: a dataset stays in the store until deleted.
  bool persistent() const { return true; }

  // The number of labels in Detections field `field`, over all samples.
  size_t CountLabels(const std::string& field) const;
  // The labels [offset, offset + limit) of `field`, in sample then label order.
  std::vector<LabelRef> LabelPage(const std::string& field, size_t offset, size_t limit) const;

  // The whole dataset as a view, and its shortcuts.
  View view() const { return View(db_, id_, name_); }
  size_t Count() const { return view().Count(); }
  Sample First() const { return view().First(); }
  Sample Last() const { return view().Last(); }
  std::vector<Value> Values(const std::string& field) const { return view().Values(field); }
  std::vector<std::string> Ids() const { return view().Ids(); }

 private:
  Dataset(std::shared_ptr<Database> db, int64_t id, std::string name);

  std::shared_ptr<Database> db_;
  int64_t id_;
  std::string name_;
};

}  // namespace fo

#endif  // FO_DATASET_H_
