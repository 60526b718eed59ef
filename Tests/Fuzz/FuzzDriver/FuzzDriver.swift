internal import CFuzzerDriver
import Foundation

/// Runs libFuzzer with the process's arguments (`-max_total_time=…`, corpus folders, …) over
/// `target`, which gets each input as bytes, then exits with libFuzzer's status. The input is
/// valid only during the call. A target reports a finding by crashing (`fatalError`): libFuzzer
/// then writes the input as `crash-…` and exits non-zero. With `stackSize`, the fuzzing runs on
/// a thread with a stack that small (as the code under test has in the gateway).
public func runFuzzer(_ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt, stackSize: Int? = nil) -> Never {
    guard let stackSize else { exit(drive(target)) }
    let thread = Thread { exit(drive(target)) }
    thread.stackSize = stackSize
    thread.start()
    while true { pause() }
}

private func drive(_ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    return LLVMFuzzerRunDriver(&argc, &argv, target)
}

/// The input of one run as a buffer (empty when libFuzzer passes no bytes).
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
    guard let data, size > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: data, count: size)
}
