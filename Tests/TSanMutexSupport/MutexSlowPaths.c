// Tells ThreadSanitizer about the slow paths of Synchronization.Mutex on Linux.
//
// Mutex's fast paths (an atomic compare-exchange) are inlined into our code, so TSan sees them.
// Under contention, lock and unlock go to _MutexHandle._lockSlow / _unlockSlow in the Swift
// runtime, which is not instrumented and hands the lock over in the kernel (FUTEX_LOCK_PI):
// TSan then sees no synchronisation and reports every contended Mutex as a race on the value it
// guards. These definitions, linked into the test executable only in a TSan build, take the
// place of the runtime's, call the runtime's own (the next definition, dlsym RTLD_NEXT) and
// record the acquire / release on the handle's address, the address the fast paths use.
// Nothing else changes: a Mutex that is really misused still shows up.

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

// The Swift signatures: `borrowing func _lockSlow(_ selfId: UInt32)`, `_tryLockSlow() -> Bool`,
// `_unlockSlow()`; the handle (address-only) is passed by address as the Swift self, which
// goes in the register clang calls the Swift context (LLVM `swiftself`).
typedef __attribute__((swiftcall)) void (*LockSlow)(uint32_t selfId, void *handle __attribute__((swift_context)));
typedef __attribute__((swiftcall)) bool (*TryLockSlow)(void *handle __attribute__((swift_context)));
typedef __attribute__((swiftcall)) void (*UnlockSlow)(void *handle __attribute__((swift_context)));

static LockSlow runtimeLockSlow;
static TryLockSlow runtimeTryLockSlow;
static UnlockSlow runtimeUnlockSlow;

static void *runtimeSymbol(const char *name) {
    void *symbol = dlsym(RTLD_NEXT, name);
    if (symbol == NULL) {
        fprintf(stderr, "TSanMutexSupport: %s not found in the Swift runtime\n", name);
        abort();
    }
    return symbol;
}

__attribute__((constructor)) static void findRuntimeSlowPaths(void) {
    runtimeLockSlow = (LockSlow)runtimeSymbol(LOCK_SLOW);
    runtimeTryLockSlow = (TryLockSlow)runtimeSymbol(TRY_LOCK_SLOW);
    runtimeUnlockSlow = (UnlockSlow)runtimeSymbol(UNLOCK_SLOW);
}

__attribute__((swiftcall)) void lockSlow(uint32_t selfId, void *handle __attribute__((swift_context)))
    __asm__(LOCK_SLOW);
__attribute__((swiftcall)) void lockSlow(uint32_t selfId, void *handle __attribute__((swift_context))) {
    runtimeLockSlow(selfId, handle);
    __tsan_acquire(handle);
}

__attribute__((swiftcall)) bool tryLockSlow(void *handle __attribute__((swift_context))) __asm__(TRY_LOCK_SLOW);
__attribute__((swiftcall)) bool tryLockSlow(void *handle __attribute__((swift_context))) {
    bool locked = runtimeTryLockSlow(handle);
    if (locked) __tsan_acquire(handle);
    return locked;
}

__attribute__((swiftcall)) void unlockSlow(void *handle __attribute__((swift_context))) __asm__(UNLOCK_SLOW);
__attribute__((swiftcall)) void unlockSlow(void *handle __attribute__((swift_context))) {
    __tsan_release(handle);
    runtimeUnlockSlow(handle);
}

#endif
#endif
