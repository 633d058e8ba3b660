#include "fo/sample.h"

namespace fo {

Value Sample::Get(const std::string& field) const {
  if (field == "id") return id;
  if (field == "filepath") return filepath;
  if (field == "tags") {
    ValueList l;
    for (const auto& t : tags) l.emplace_back(t);
    return l;
  }
  if (field == "metadata.width") return width ? Value(*width) : Value();
  if (field == "metadata.height") return height ? Value(*height) : Value();
  if (field == "metadata.size_bytes") return size_bytes ? Value(*size_bytes) : Value();
  if (field == "metadata.mime_type") return mime_type ? Value(*mime_type) : Value();
  if (field == "metadata.num_channels") return num_channels ? Value(*num_channels) : Value();
  auto it = fields.find(field);
  return it == fields.end() ? Value() : it->second;
}

}  // namespace fo
