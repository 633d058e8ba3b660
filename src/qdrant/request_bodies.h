// The request bodies that carry vectors, written without a JSON tree (see
// json_writer.h). Separate from the client so tests and benchmarks can time
// and inspect them without a server.
#ifndef FO_QDRANT_REQUEST_BODIES_H_
#define FO_QDRANT_REQUEST_BODIES_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fo/matrix.h"

namespace fo::internal {

// {"batch":{"ids":[...],"vectors":[[...],...],"payloads":[...]}} for rows
// [first_row, first_row + rows) of `vectors`. `ids` (and `payloads`, unless
// empty, in which case the key is left out) are aligned either with the
// whole matrix or with just those rows. Ids in canonical decimal form are
// written as numbers, others as strings. Throws kInvalidArgument for a range
// outside the matrix, misaligned lists, a NaN/infinite value, or a payload
// that is neither an object nor null (or holds invalid UTF-8).
std::string UpsertBatchBody(const Matrix& vectors, size_t first_row, size_t rows, const std::vector<std::string>& ids,
                            const std::vector<nlohmann::json>& payloads);
// Exactly UpsertBatchBody(...).size(), computed without building the body
// (each float is still formatted, into a scratch buffer). Same errors.
size_t UpsertBatchBodySize(const Matrix& vectors, size_t first_row, size_t rows, const std::vector<std::string>& ids,
                           const std::vector<nlohmann::json>& payloads);

}  // namespace fo::internal

#endif  // FO_QDRANT_REQUEST_BODIES_H_
