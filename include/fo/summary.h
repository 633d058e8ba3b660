// The text FiftyOne prints for a dataset or a view (Dataset.summary() and
// DatasetView.summary() in fiftyone/core/dataset.py and view.py): what
// print(dataset), print(view) and `fo datasets info` show, from this one
// formatter.
#ifndef FO_SUMMARY_H_
#define FO_SUMMARY_H_

#include <string>

#include "fo/dataset.h"
#include "fo/view.h"

namespace fo {

// FiftyOne's printed type of a field of Dataset::Fields(), e.g.
// "fiftyone.core.fields.StringField",
// "fiftyone.core.fields.EmbeddedDocumentField(fiftyone.core.labels.Detections)".
std::string FiftyOneFieldType(const FieldInfo& field);

// "Name:", "Media type:", "Num samples:", "Persistent:", "Tags:" (headings
// padded to one width), then "Sample fields:" with one indented
// "name: type" line per field. Counts the samples (one SQL count).
std::string DatasetSummary(const Dataset& dataset);

// "Dataset:", "Media type:", "Num samples:", "Sample fields:" as above,
// then "View stages:" with "    1. <stage>" per stage ("    ---" for none).
// Counts the view's samples (evaluates it once).
std::string ViewSummary(const View& view);

}  // namespace fo

#endif  // FO_SUMMARY_H_
