// Edits that persist, with FiftyOne's names: saving an edited sample, setting
// a field on every sample of a view, tagging samples and labels, declaring,
// deleting and renaming fields, and cloning a dataset or a view.
//
// Each call is one store transaction: it either happens whole or throws
// fo::Error and leaves the store as it was. Work over a view is set-based
// SQL over the view's compiled query (store/view_query.h), with at most one
// prepared statement stepped per row, never a sample read into C++.
#ifndef FO_EDITS_H_
#define FO_EDITS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fo/dataset.h"
#include "fo/sample.h"
#include "fo/value.h"
#include "fo/view.h"

namespace fo {

class Database;

// Writes `sample` back to its dataset, found by its id: filepath, tags,
// width/height, every user field (fields absent from `sample` are cleared)
// and every Detections field (detections keep their id and key when their id
// is the sample's; new ones get new ids, written into `sample`; missing
// ones are deleted).
// Throws kFailedPrecondition if the sample has no id (it was never added to
// a dataset), kNotFound if no sample has its id (deleted), kInvalidArgument
// (nothing written) for a value whose type conflicts with its field's.
void SaveSample(const std::shared_ptr<Database>& db, Sample& sample);

// Sets `field` of the view's samples, values[i] going to the view's i-th
// sample. `field` is a user field, "tags" (lists of strings), or a label
// path "<det_field>.detections.<attr>" (attr "label", "confidence" or a
// custom attribute) with one list per sample, as long as its detections.
// A null value clears the field. Throws kInvalidArgument (nothing written)
// if values.size() differs from the view's count, a list's length from the
// sample's detections, or the values' types from each other or the field's.
void SetValues(const View& view, const std::string& field, const std::vector<Value>& values);

// Adds each tag to every sample of the view that lacks it (appended in the
// order given), or removes it. Tags must be non-empty strings.
void TagSamples(const View& view, const std::vector<std::string>& tags);
void UntagSamples(const View& view, const std::vector<std::string>& tags);

// The same for the detections of the view's samples, in `label_fields`
// (every Detections field of the dataset when empty). A label's tags are its
// "tags" attribute, a list of strings, as FiftyOne's Label.tags. Throws
// kInvalidArgument for a field that is not a Detections field.
void TagLabels(const View& view, const std::vector<std::string>& tags,
               const std::vector<std::string>& label_fields = {});
void UntagLabels(const View& view, const std::vector<std::string>& tags,
                 const std::vector<std::string>& label_fields = {});

// Field types of FieldInfo::type: "bool", "int", "float", "string", "list",
// "vector", "detections".
// Declares a field of this type. Throws kAlreadyExists if it exists (with
// another type; the same type is a no-op, as FiftyOne), kInvalidArgument
// for a built-in name or an unknown type.
void AddSampleField(const Dataset& dataset, const std::string& name, const std::string& type);
// Deletes the field from the schema and from every sample (its detections
// too). Throws kNotFound if the dataset has no such field, kInvalidArgument
// for a built-in field.
void DeleteSampleField(const Dataset& dataset, const std::string& name);
// Throws kNotFound for an unknown field, kAlreadyExists if new_name exists,
// kInvalidArgument for built-in names.
void RenameSampleField(const Dataset& dataset, const std::string& name, const std::string& new_name);

// A new dataset `name` holding copies of the view's samples in view order,
// with new sample and label ids, their tags, fields, vectors and detections,
// and the source's field schema. Brain runs are not copied: their results
// name the source's samples, which the copies are not (new ids). Throws as
// Dataset::Create for the name.
Dataset Clone(const View& view, const std::string& name);

}  // namespace fo

#endif  // FO_EDITS_H_
