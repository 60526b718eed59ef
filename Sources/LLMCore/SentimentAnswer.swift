import JSONCodec
import TradingCore

/// A model's sentiment answer, parsed strictly (SPEC §12): anything else is a failure, never a guess.
///
/// Accepted forms:
/// - one line `WORD: reason`, WORD exactly `POSITIVE`, `NEUTRAL` or `NEGATIVE` in upper case (the
///   prompt asks for upper case; `positive` is refused, not repaired), spaces around the word and
///   the reason trimmed, at most one trailing newline;
/// - the JSON object `{"sentiment": WORD, "reason": "..."}` with exactly those two string members
///   (`response_format` `json_object`), with the same rules for the word and the reason.
///
/// The reason is one line of 1 to `maxReasonLength` characters with no control characters.
public struct SentimentAnswer: Sendable, Equatable {
    /// The longest reason accepted, in characters; a longer one is refused rather than cut.
    public static let maxReasonLength = 500

    /// The model's verdict.
    public let sentiment: LLMSentiment
    /// Its one-line reason, trimmed.
    public let reason: String

    /// An answer (as parsed, or built by tests and the gateway).
    public init(sentiment: LLMSentiment, reason: String) {
        self.sentiment = sentiment
        self.reason = reason
    }

    /// Parses a model's answer text; see the type's documentation for what is accepted.
    public static func parse(_ text: String) -> Result<SentimentAnswer, SentimentParseFailure> {
        var body = Substring(text)
        // The JSON object may be laid out over several lines (pretty-printed); its reason may not.
        let blank: (Character) -> Bool = { $0.isNewline || $0 == " " || $0 == "\t" }
        if let first = body.firstIndex(where: { !blank($0) }), body[first] == "{" {
            return parseObject(String(body[first...body.lastIndex(where: { !blank($0) })!]))
        }
        if body.last == "\n" || body.last == "\r\n" { body = body.dropLast() }  // "\r\n" is one Character
        if body.contains(where: \.isNewline) { return .failure(.multipleLines) }
        let line = trimmed(body)
        if line.isEmpty { return .failure(.empty) }
        if line.first == "{" { return parseObject(String(line)) }
        guard let colon = line.firstIndex(of: ":") else { return .failure(.missingReason) }
        return make(word: trimmed(line[..<colon]), reason: trimmed(line[line.index(after: colon)...]))
    }

    static func parseObject(_ text: String) -> Result<SentimentAnswer, SentimentParseFailure> {
        guard let value = try? JSONCodec.parse(text) else { return .failure(.invalidJSON) }
        guard let object = value.objectValue else { return .failure(.invalidJSON) }
        let keys = Set(object.keys)
        guard keys == ["sentiment", "reason"], object.count == 2 else {
            return .failure(.wrongMembers(object.keys.sorted()))
        }
        guard let word = object["sentiment"]?.stringValue, let reason = object["reason"]?.stringValue else {
            return .failure(.memberNotString)
        }
        if reason.contains(where: \.isNewline) { return .failure(.multipleLines) }
        return make(word: trimmed(Substring(word)), reason: trimmed(Substring(reason)))
    }

    static func make(word: Substring, reason: Substring) -> Result<SentimentAnswer, SentimentParseFailure> {
        guard let sentiment = LLMSentiment(rawValue: String(word)) else {
            if LLMSentiment(rawValue: word.uppercased()) != nil { return .failure(.notUpperCase(String(word))) }
            return .failure(.unknownWord(String(word.prefix(40))))
        }
        if reason.isEmpty { return .failure(.missingReason) }
        if reason.count > maxReasonLength { return .failure(.reasonTooLong(reason.count)) }
        if reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return .failure(.controlCharacter)
        }
        return .success(SentimentAnswer(sentiment: sentiment, reason: String(reason)))
    }

    static func trimmed(_ text: Substring) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = text.firstIndex(where: { !isSpace($0) }) else { return text[text.endIndex...] }
        let end = text.lastIndex(where: { !isSpace($0) })!
        return text[start...end]
    }
}

/// Why a sentiment answer was refused. The description quotes at most 40 characters of the
/// model's word, never the whole answer.
public enum SentimentParseFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing but spaces.
    case empty
    /// More than one line (code fences, a preamble, a second sentence on its own line).
    case multipleLines
    /// No `:` and reason, or an empty reason.
    case missingReason
    /// The word is not one of the three (`MOSTLY POSITIVE`, `BULLISH`, a quoted word).
    case unknownWord(String)
    /// One of the three words, but not in upper case.
    case notUpperCase(String)
    /// The reason is longer than `SentimentAnswer.maxReasonLength` characters.
    case reasonTooLong(Int)
    /// The reason holds a control character.
    case controlCharacter
    /// Starts with `{` but is not a JSON object.
    case invalidJSON
    /// A JSON object whose members are not exactly `sentiment` and `reason` (the members found).
    case wrongMembers([String])
    /// `sentiment` or `reason` is not a string.
    case memberNotString

    /// One line for logs.
    public var description: String {
        switch self {
        case .empty: return "empty answer"
        case .multipleLines: return "more than one line"
        case .missingReason: return "no reason after the word"
        case .unknownWord(let word): return "unknown sentiment word \"\(word)\""
        case .notUpperCase(let word): return "sentiment word \"\(word)\" not in upper case"
        case .reasonTooLong(let count): return "reason of \(count) characters (at most \(SentimentAnswer.maxReasonLength))"
        case .controlCharacter: return "control character in the reason"
        case .invalidJSON: return "not a JSON object"
        case .wrongMembers(let keys): return "JSON members \(keys), expected [reason, sentiment]"
        case .memberNotString: return "sentiment or reason is not a string"
        }
    }
}
