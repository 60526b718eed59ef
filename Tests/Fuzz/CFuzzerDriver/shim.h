// libFuzzer's driver, for a main() of our own: SwiftPM gives every executable its own `main`
// (an alias of `<Module>_main`), so libFuzzer's `main` is never linked; the targets call this.
// Defined by the fuzzer runtime that `-sanitize=fuzzer` links.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
