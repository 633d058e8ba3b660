// Rendering for the CLI: JSON on stdout (and nothing else there when --json
// is given), readable text otherwise, warnings on stderr.
#ifndef FO_CLI_OUTPUT_H_
#define FO_CLI_OUTPUT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fo/brain.h"
#include "fo/sample.h"

namespace fo::cli {

// Newlines become "; " so that an error or warning stays one line, which is
// what scripts reading stderr rely on.
std::string OneLine(const std::string& message);

// Pretty-printed, with invalid UTF-8 (odd file names) replaced rather than
// thrown on. Objects built as ordered_json keep their keys in the order
// written (id first), which reads better than sorted keys.
void PrintJson(const nlohmann::ordered_json& j);

// "warning: <message>" on stderr.
void Warn(const std::string& message);

// Prints rows of cells with each column padded to its widest cell, every
// line starting with `indent`.
void PrintAligned(const std::vector<std::vector<std::string>>& rows, const std::string& indent = "");

// A sample as FiftyOne's to_dict lays it out: id, filepath, tags, metadata,
// then each field at top level; detections with their attributes inline and
// vectors as arrays of numbers.
nlohmann::ordered_json SampleToJson(const Sample& sample);

// A few readable lines for a sample; vectors and detections are summarised.
std::string DescribeSample(const Sample& sample);

// A run's backend (FiftyOne records it as the config's "method") and its
// patches field; "" when unset.
std::string BackendOf(const BrainInfo& info);
std::string PatchesFieldOf(const BrainInfo& info);

// Distances with enough digits to compare runs, but short enough for tables.
std::string FormatDistance(double distance);

// A duration for progress lines, as "1.23 s".
std::string FormatSeconds(double seconds);

}  // namespace fo::cli

#endif  // FO_CLI_OUTPUT_H_
