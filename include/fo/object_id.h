// ObjectIds: the 24-lowercase-hex identifiers FiftyOne (MongoDB) gives to
// samples and labels: 4-byte big-endian seconds, 5 random bytes, 3-byte counter.
#ifndef FO_OBJECT_ID_H_
#define FO_OBJECT_ID_H_

#include <string>
#include <string_view>

namespace fo {

// Returns a fresh id. Thread-safe; ids from one process never repeat.
std::string NewObjectId();

// True for exactly 24 hex digits (either case, as FiftyOne accepts).
bool IsObjectId(std::string_view s);

}  // namespace fo

#endif  // FO_OBJECT_ID_H_
