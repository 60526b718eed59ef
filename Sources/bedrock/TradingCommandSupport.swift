import ArgumentParser
import Foundation
import TradingCore

/// Shared wiring of `bedrock backtest` and `bedrock optimize`: messages on stderr, exit codes
/// (2 for a bad argument, 1 for a runtime failure), parameter parsing and data loading.
enum TradingCLI {
    /// Writes one `bedrock: ...` line on stderr (the same prefix as argument-parsing errors).
    static func complain(_ message: String) {
        FileHandle.standardError.write(Data(("bedrock: " + message + "\n").utf8))
    }

    /// A bad argument: message on stderr, exit 2.
    static func usageError(_ message: String) -> ExitCode {
        complain(message)
        return ExitCode(2)
    }

    /// A runtime failure: message on stderr, exit 1.
    static func failure(_ message: String) -> ExitCode {
        complain(message)
        return ExitCode(1)
    }

    /// Writes `text` to stdout as is.
    static func output(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Writes bytes to stdout without copying them (a report comes in megabyte pieces).
    static func output(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        FileHandle.standardOutput.write(
            Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none))
    }

    /// The strategy descriptor, or exit 2 listing the registered strategies.
    static func strategy(_ name: String) throws -> StrategyDescriptor {
        do { return try StrategyRegistry.descriptor(named: name) } catch {
            throw usageError(String(describing: error))
        }
    }

    /// `k=v` arguments as a dictionary; exit 2 on a malformed pair, a non-number or a repeat.
    static func parameters(_ pairs: [String], option: String = "--param") throws -> [String: Double] {
        var out = [String: Double]()
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let v = Double(parts[1]), v.isFinite else {
                throw usageError("bad \(option) '\(pair)': expected name=number")
            }
            guard out[String(parts[0])] == nil else {
                throw usageError("\(option) '\(parts[0])' is given more than once")
            }
            out[String(parts[0])] = v
        }
        return out
    }

    /// Validates parameters against the strategy (unknown name, range, whole number, invalid
    /// combination such as fast ≥ slow) and returns the strategy's warm-up length; exit 2 with
    /// the valid parameters listed otherwise.
    static func validate(_ parameters: [String: Double], for descriptor: StrategyDescriptor) throws -> Int {
        do { return try descriptor.make(parameters).warmupBars } catch {
            throw usageError(String(describing: error))
        }
    }

    /// Loads the bars of `path`; exit 1 with the file (and line) named on any problem.
    static func load(_ path: String) throws -> BarSeries {
        do { return try MarketData.load(path: path) } catch {
            throw failure(String(describing: error))
        }
    }

    /// Exit 1 unless `series` has at least `warmup` bars plus one to trade on.
    static func requireBars(
        _ series: BarSeries, warmup: Int, path: String, strategy: String,
        what: String = ""
    ) throws {
        guard series.count > warmup else {
            throw failure(
                "\(path) has \(series.count) bars\(what); \(strategy) needs more than "
                    + "\(warmup) bars to warm up its indicators before it can trade")
        }
    }

    /// The backtest settings from the command line; exit 2 on negative or non-finite values.
    static func config(
        balance: Double, commission: Double, slippage: Double,
        riskGuard: Bool = true, arbiter: Bool = true
    ) throws -> BacktestConfig {
        guard balance.isFinite, balance > 0 else { throw usageError("--balance must be a positive number") }
        guard commission.isFinite, (0..<1).contains(commission) else {
            throw usageError("--commission must be a rate in [0, 1), e.g. 0.001 for 0.1 %")
        }
        guard slippage.isFinite, (0..<1).contains(slippage) else {
            throw usageError("--slippage must be a rate in [0, 1), e.g. 0.0005 for 0.05 %")
        }
        var config = BacktestConfig(initialBalance: balance, commissionRate: commission, slippageRate: slippage)
        if !riskGuard { config.risk = nil }
        config.arbiter = arbiter ? .default : nil
        return config
    }
}

/// Output formats of `bedrock backtest`.
enum BacktestFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, csv
}

/// Output formats of `bedrock optimize`.
enum OptimizeFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Search methods of `bedrock optimize`.
enum OptimizeMethod: String, ExpressibleByArgument, CaseIterable {
    case grid, random
}
