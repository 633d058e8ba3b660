#include "output.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace fo::cli {

std::string OneLine(const std::string& message) {
  std::string out;
  out.reserve(message.size());
  for (char c : message) {
    if (c == '\n') {
      out += "; ";
    } else if (c != '\r') {
      out += c;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

void PrintJson(const nlohmann::ordered_json& j) {
  std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
}

void Warn(const std::string& message) { std::cerr << "warning: " << OneLine(message) << '\n'; }

void PrintAligned(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line = indent;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << '\n';
  }
}

namespace {

std::string ConfigString(const BrainInfo& info, const char* name) {
  auto it = info.config.find(name);
  return it != info.config.end() && it->is_string() ? it->get<std::string>() : "";
}

nlohmann::ordered_json DetectionToJson(const Detection& d) {
  nlohmann::ordered_json j = {{"id", d.id}, {"label", d.label}, {"bounding_box", d.bounding_box}};
  if (d.confidence) j["confidence"] = *d.confidence;
  for (const auto& [name, value] : d.attributes) j[name] = value.ToJson();
  return j;
}

std::string SummariseValue(const Value& value) {
  if (value.is_vector()) return "vector[" + std::to_string(value.as<FloatVector>().size()) + "]";
  std::string text = value.ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  constexpr size_t kMaxChars = 72;
  if (text.size() > kMaxChars) text = text.substr(0, kMaxChars) + "...";
  return text;
}

std::string SummariseDetections(const Detections& detections) {
  std::string text = std::to_string(detections.detections.size()) + " detections";
  std::string labels;
  for (const Detection& d : detections.detections) labels += (labels.empty() ? "" : ", ") + d.label;
  return labels.empty() ? text : text + " (" + labels + ")";
}

}  // namespace

nlohmann::ordered_json SampleToJson(const Sample& sample) {
  nlohmann::ordered_json j = {{"id", sample.id}, {"filepath", sample.filepath}, {"tags", sample.tags}};
  if (sample.width && sample.height) {
    j["metadata"] = {{"width", *sample.width}, {"height", *sample.height}};
    if (sample.size_bytes) j["metadata"]["size_bytes"] = *sample.size_bytes;
    if (sample.mime_type) j["metadata"]["mime_type"] = *sample.mime_type;
    if (sample.num_channels) j["metadata"]["num_channels"] = *sample.num_channels;
  } else {
    j["metadata"] = nullptr;
  }
  for (const auto& [name, value] : sample.fields) j[name] = value.ToJson();
  for (const auto& [name, detections] : sample.label_fields) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const Detection& d : detections.detections) list.push_back(DetectionToJson(d));
    j[name] = {{"detections", std::move(list)}};
  }
  return j;
}

std::string DescribeSample(const Sample& sample) {
  std::ostringstream out;
  out << "id:        " << sample.id << '\n' << "filepath:  " << sample.filepath << '\n';
  out << "tags:      " << nlohmann::json(sample.tags).dump() << '\n';
  if (sample.width && sample.height) out << "metadata:  " << *sample.width << " x " << *sample.height << '\n';
  for (const auto& [name, value] : sample.fields) out << name << ": " << SummariseValue(value) << '\n';
  for (const auto& [name, detections] : sample.label_fields) {
    out << name << ": " << SummariseDetections(detections) << '\n';
  }
  return out.str();
}

std::string BackendOf(const BrainInfo& info) {
  std::string method = ConfigString(info, "method");
  return method.empty() ? ConfigString(info, "backend") : method;
}

std::string PatchesFieldOf(const BrainInfo& info) { return ConfigString(info, "patches_field"); }

std::string FormatDistance(double distance) {
  // Rounding noise around an exact match would otherwise print as -0.000000.
  if (std::abs(distance) < 5e-7) distance = 0.0;
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6f", distance);
  return buffer;
}

std::string FormatSeconds(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2f s", seconds);
  return buffer;
}

}  // namespace fo::cli
