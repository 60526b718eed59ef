import FuzzDriver
import Logging

// Session errors are logged at info: keep them out of the fuzzer's output (and its time).
LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }

/// libFuzzer's entry point. The fuzzer runtime's own `main` needs the symbol to link; SwiftPM's
/// `main` (this file) runs, and hands the same function to libFuzzer's driver.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzSession(fuzzInput(data, size))
    return 0
}

// The gateway's service threads have 1 MiB stacks (Gateway.swift): so does the fuzzer's, so a
// frame nested deep enough to overflow one is a finding here too.
runFuzzer(fuzzOne, stackSize: 1 << 20)
