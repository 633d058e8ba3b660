// The "qdrant" similarity backend's public extras. The backend itself is
// chosen by name (backend = "qdrant"); its parameters are FiftyOne's:
// collection_name, metric, replication_factor, shard_number,
// write_consistency_factor, hnsw_config, optimizers_config, wal_config, url,
// api_key (see README).
#ifndef FO_QDRANT_BACKEND_H_
#define FO_QDRANT_BACKEND_H_

#include "fo/qdrant_client.h"
#include "fo/similarity.h"

namespace fo {

// The client of a qdrant index, like `qdrant_index.client` in FiftyOne.
// Throws kInvalidArgument if the index uses another backend. The client is
// owned by the index.
QdrantClient& QdrantClientOf(SimilarityIndex& index);

// The Qdrant collection of a qdrant index.
std::string QdrantCollectionOf(SimilarityIndex& index);

}  // namespace fo

#endif  // FO_QDRANT_BACKEND_H_
