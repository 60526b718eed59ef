import ArgumentParser
import Foundation
import TradingCore

/// Where `bedrock train` takes its labelled rows from: a features CSV (`--features`), or market
/// data files and a strategy (`--data F... --strategy S [--param k=v]...`), labelled exactly as
/// `bedrock features` labels them.
struct TrainingDataOptions: ParsableArguments {
    @Option(help: "Features CSV (bedrock features), rows in time order.")
    var features: String?

    @Option(help: "Market data CSV (SPEC §9); repeat for several markets. Needs --strategy.")
    var data: [String] = []

    @Option(help: "Strategy whose signals are labelled and trained on (with --data).")
    var strategy: String?

    @Option(name: .customLong("param"), help: "Strategy parameter as name=value (repeatable, with --data).")
    var params: [String] = []

    @OptionGroup var costs: CostOptions

    /// What the rows came from, for messages.
    var source: String { features ?? data.joined(separator: ", ") }

    /// Exit 2 unless exactly one source is named, with what it needs.
    func validate() throws {
        switch (features, data.isEmpty) {
        case (nil, true): throw TradingCLI.usageError("give --features FILE.csv, or --data FILE... with --strategy")
        case (.some, false): throw TradingCLI.usageError("give --features or --data, not both")
        case (.some, true):
            if strategy != nil || !params.isEmpty { throw TradingCLI.usageError("--strategy and --param go with --data") }
        case (nil, false):
            if strategy == nil { throw TradingCLI.usageError("--data needs --strategy") }
        }
    }

    /// The labelled rows in time order. With several data files, every file's signals are
    /// labelled on that file's bars and the rows merged by time (ties keep the file order).
    func rows() throws -> LabeledRows {
        if let features { return FeatureCSV.labeledRows(try ModelCLI.features(features)) }
        let descriptor = try TradingCLI.strategy(strategy ?? "")
        let parameters = try TradingCLI.parameters(params)
        let warmup = try TradingCLI.validate(parameters, for: descriptor)
        let config = try costs.config()
        var signals: [LabeledSignal] = []
        for path in data {
            signals += try Self.signals(path, strategy: descriptor, parameters: parameters, warmup: warmup, config: config)
        }
        if data.count > 1 {
            signals = signals.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        }
        FileHandle.standardError.write(
            Data("training data: \(signals.count) labelled signals of \(descriptor.name) from \(data.count) file(s)\n".utf8))
        return SignalDataset.rows(signals)
    }

    /// The labelled signals of `strategy` over the market data file at `path`; exit 1 when the
    /// file cannot be read or holds too few bars.
    static func signals(
        _ path: String, strategy: StrategyDescriptor, parameters: [String: Double], warmup: Int, config: BacktestConfig
    ) throws -> [LabeledSignal] {
        let series = try TradingCLI.load(path)
        try TradingCLI.requireBars(series, warmup: warmup, path: path, strategy: strategy.name)
        do {
            return try SignalDataset.build(series: series, strategy: strategy.name, parameters: parameters, config: config)
        } catch {
            throw TradingCLI.failure("\(path): \(error)")
        }
    }
}
