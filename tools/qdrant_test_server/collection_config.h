// The body of PUT /collections/{name} (CreateCollection): checked against the
// spec's types and ranges and turned into the config that
// GET /collections/{name} echoes, with the server's defaults filled in.
#ifndef FO_TOOLS_QDRANT_TEST_SERVER_COLLECTION_CONFIG_H_
#define FO_TOOLS_QDRANT_TEST_SERVER_COLLECTION_CONFIG_H_

#include <nlohmann/json.hpp>
#include <string>

#include "collection.h"

namespace qdrant_test_server {

// Throws 400 for a wrong type or enum value, 422 for a value out of range
// (all range errors in one message) and 400 for what this server lacks
// (named vectors, multi-vectors).
Collection NewCollection(const nlohmann::json& body);

// Throws 422 if name breaks Qdrant's rule: 1..255 characters, none of
// < > : " / \ | ? * NUL or 0x1F.
void ValidateCollectionName(const std::string& name);

}  // namespace qdrant_test_server

#endif  // FO_TOOLS_QDRANT_TEST_SERVER_COLLECTION_CONFIG_H_
