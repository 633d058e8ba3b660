#include "qdrant/request_bodies.h"

#include "fo/error.h"
#include "qdrant/json_writer.h"

namespace fo::internal {
namespace {

using nlohmann::json;

// Where the list entry for row `first_row` is, in a list aligned either with
// the whole matrix or with the `rows` rows written.
size_t AlignedBase(size_t list_size, size_t matrix_rows, size_t first_row, size_t rows, const char* what) {
  if (list_size == matrix_rows) return first_row;
  if (list_size == rows) return 0;
  throw InvalidArgument("Qdrant upsert: " + std::to_string(list_size) + " " + what + " for rows [" +
                        std::to_string(first_row) + ", " + std::to_string(first_row + rows) + ") of a " +
                        std::to_string(matrix_rows) + "-row matrix");
}

// One template for writing and for sizing, so the size is exact by
// construction.
template <typename Writer>
void WriteUpsertBody(Writer& w, const Matrix& vectors, size_t first_row, size_t rows,
                     const std::vector<std::string>& ids, const std::vector<json>& payloads) {
  if (first_row > vectors.rows() || rows > vectors.rows() - first_row) {
    throw InvalidArgument("Qdrant upsert: rows [" + std::to_string(first_row) + ", " +
                          std::to_string(first_row + rows) + ") outside a " + std::to_string(vectors.rows()) +
                          "-row matrix");
  }
  const size_t id_base = AlignedBase(ids.size(), vectors.rows(), first_row, rows, "ids");
  const size_t payload_base =
      payloads.empty() ? 0 : AlignedBase(payloads.size(), vectors.rows(), first_row, rows, "payloads");

  w.Raw(R"({"batch":{"ids":[)");
  for (size_t i = 0; i < rows; ++i) {
    if (i > 0) w.Char(',');
    w.PointId(ids[id_base + i]);
  }
  w.Raw(R"(],"vectors":[)");
  if (rows > 0) {
    if (auto bad = w.FloatRows(vectors.row(first_row).data(), rows, vectors.cols())) {
      throw InvalidArgument("Qdrant upsert: row " + std::to_string(first_row + *bad) +
                            " of the vectors has a NaN or infinite value");
    }
  }
  w.Char(']');
  if (!payloads.empty()) {
    w.Raw(R"(,"payloads":[)");
    for (size_t i = 0; i < rows; ++i) {
      if (i > 0) w.Char(',');
      const json& payload = payloads[payload_base + i];
      if (!payload.is_object() && !payload.is_null()) {
        throw InvalidArgument("Qdrant upsert: the payload of row " + std::to_string(first_row + i) +
                              " must be an object or null");
      }
      try {
        w.Json(payload);
      } catch (const json::exception& e) {
        throw InvalidArgument("Qdrant upsert: cannot encode the payload of row " + std::to_string(first_row + i) +
                              ": " + e.what());
      }
    }
    w.Char(']');
  }
  w.Raw("}}");
}

}  // namespace

std::string UpsertBatchBody(const Matrix& vectors, size_t first_row, size_t rows, const std::vector<std::string>& ids,
                            const std::vector<json>& payloads) {
  // Room for the longest floats, so the vectors never need a reallocation
  // (typical embeddings take ~12 of the 16 bytes per value); ~80 bytes per
  // row for the id and a small payload.
  JsonWriter w(rows * (vectors.cols() * (kMaxFloatChars + 1) + 80) + 64);
  WriteUpsertBody(w, vectors, first_row, rows, ids, payloads);
  return w.Take();
}

size_t UpsertBatchBodySize(const Matrix& vectors, size_t first_row, size_t rows, const std::vector<std::string>& ids,
                           const std::vector<json>& payloads) {
  JsonSizeCounter counter;
  WriteUpsertBody(counter, vectors, first_row, rows, ids, payloads);
  return counter.size();
}

}  // namespace fo::internal
