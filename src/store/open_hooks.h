// Work other layers ask to run whenever a store is opened, without the store
// knowing what it is: the similarity layer removes index files that no
// committed run references (left by a crash, a deleted run or a replaced
// generation), so that they go when the store is opened, as they should.
#ifndef FO_STORE_OPEN_HOOKS_H_
#define FO_STORE_OPEN_HOOKS_H_

namespace fo {
class Database;
namespace internal {

using StoreOpenHook = void (*)(Database&);

// Call from a static initializer; hooks run in registration order. A hook
// must not throw for anything but a bug: opening must not fail for cleanup.
void AddStoreOpenHook(StoreOpenHook hook);
void RunStoreOpenHooks(Database& db);

}  // namespace internal
}  // namespace fo

#endif  // FO_STORE_OPEN_HOOKS_H_
