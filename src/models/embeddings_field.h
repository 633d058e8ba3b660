// Writing embeddings to a dataset field, shared by compute_embeddings and
// compute_similarity.
#ifndef FO_MODELS_EMBEDDINGS_FIELD_H_
#define FO_MODELS_EMBEDDINGS_FIELD_H_

#include <string>

#include "fo/dataset.h"
#include "fo/embeddings.h"

namespace fo::internal {

// The detection attribute a field names: FiftyOne accepts both "emb" and
// the full path "<patches_field>.detections.emb".
std::string LabelAttribute(const std::string& field, const std::string& patches_field);

// Stores each row in `field` of its sample, or with patches_field in that
// attribute of its detection; one transaction.
void StoreEmbeddings(Dataset dataset, const EmbeddingsResult& result, const std::string& field,
                     const std::string& patches_field);

}  // namespace fo::internal

#endif  // FO_MODELS_EMBEDDINGS_FIELD_H_
