// Registration of the backends compiled into the library. The registry calls
// RegisterBuiltinBackends() once on first use: self-registering statics would
// be dropped by the linker from a static library.
#ifndef FO_SIMILARITY_BUILTIN_BACKENDS_H_
#define FO_SIMILARITY_BUILTIN_BACKENDS_H_

namespace fo::internal {

void RegisterBuiltinBackends();
void RegisterSklearnBackend();
void RegisterQdrantBackend();

}  // namespace fo::internal

#endif  // FO_SIMILARITY_BUILTIN_BACKENDS_H_
