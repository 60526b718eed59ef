import Foundation
import JSONCodec
import TradingCore

/// Shared wiring of `bedrock predict` and `bedrock train`: reading features and model files,
/// writing outputs, each failure as one `bedrock: ...` line and exit 1.
enum ModelCLI {
    /// The text of `path`, or exit 1 saying why it cannot be read.
    static func read(_ path: String, what: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TradingCLI.failure("cannot read \(what) \(path): \((error as NSError).localizedDescription)")
        }
    }

    /// The rows of a features CSV, or exit 1 naming the file and line.
    static func features(_ path: String) throws -> [FeatureCSVRow] {
        let text = try read(path, what: "features file")
        do { return try FeatureCSV.parse(text) } catch { throw TradingCLI.failure("\(path): \(error)") }
    }

    /// Writes `text` to `path`, or to stdout when `path` is nil or "-".
    static func write(_ text: String, to path: String?) throws {
        guard let path, path != "-" else { return TradingCLI.output(text) }
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw TradingCLI.failure("cannot write \(path): \((error as NSError).localizedDescription)")
        }
    }
}
