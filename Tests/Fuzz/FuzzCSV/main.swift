import FuzzDriver

/// libFuzzer's entry point. The fuzzer runtime's own `main` needs the symbol to link; SwiftPM's
/// `main` (this file) runs, and hands the same function to libFuzzer's driver.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzCSV(fuzzInput(data, size))
    return 0
}

runFuzzer(fuzzOne)
