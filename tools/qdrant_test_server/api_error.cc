#include "api_error.h"

#include "json_io.h"

namespace qdrant_test_server {

// Messages follow Qdrant's describe_error for the validator crate's "range"
// code: "value 0 invalid, must be 1 or larger".
void Validation::Min(const std::string& field, double value, double min) {
  if (value < min) {
    Fail(field, "value " + FormatNumber(value) + " invalid, must be " + FormatNumber(min) + " or larger");
  }
}

void Validation::Between(const std::string& field, double value, double min, double max) {
  if (value < min || value > max) {
    Fail(field, "value " + FormatNumber(value) + " invalid, must be from " + FormatNumber(min) + " to " +
                    FormatNumber(max));
  }
}

void Validation::ThrowIfFailed(const std::string& where) const {
  if (errors_.empty()) return;
  std::string message = "Validation error in " + where + ": [";
  for (size_t i = 0; i < errors_.size(); ++i) {
    if (i > 0) message += "; ";
    message += errors_[i];
  }
  throw ApiError(422, message + "]");
}

}  // namespace qdrant_test_server
