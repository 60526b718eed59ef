/// A prompt with named placeholders `{{name}}` (names `[a-z_][a-z0-9_]*`), rendered strictly: a
/// placeholder without a value and a value without a placeholder are both errors naming it. Values
/// are inserted verbatim and never re-scanned, so a headline containing `{{x}}` stays text.
/// Loading the file is the caller's job; this type does no I/O.
public struct PromptTemplate: Sendable, Equatable {
    enum Segment: Sendable, Equatable {
        case text(String)
        case placeholder(String)
    }

    /// The template's name in errors (usually its file name).
    public let name: String
    /// The placeholder names, each once, in order of first use.
    public let placeholders: [String]
    let segments: [Segment]

    /// Parses `text`; throws `malformedPlaceholder` on an unclosed `{{` or a bad name.
    public init(name: String, text: String) throws(PromptTemplateError) {
        self.name = name
        var segments: [Segment] = []
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { segments.append(.text(String(rest[..<open.lowerBound]))) }
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else {
                throw .malformedPlaceholder(template: name, text: String(rest[open.lowerBound...].prefix(40)))
            }
            let placeholder = String(afterOpen[..<close.lowerBound])
            guard Self.isValidName(placeholder) else {
                throw .malformedPlaceholder(template: name, text: "{{" + placeholder.prefix(40) + "}}")
            }
            segments.append(.placeholder(placeholder))
            if !names.contains(placeholder) { names.append(placeholder) }
            rest = afterOpen[close.upperBound...]
        }
        if !rest.isEmpty { segments.append(.text(String(rest))) }
        self.segments = segments
        self.placeholders = names
    }

    /// Parses `text` as the template of `task` and checks it uses exactly the task's placeholders.
    public init(task: LLMTask, text: String) throws(PromptTemplateError) {
        try self.init(name: task.templateFileName, text: text)
        let used = Set(placeholders)
        if used != task.placeholders {
            throw .wrongPlaceholders(
                template: name, missing: task.placeholders.subtracting(used).sorted(),
                unknown: used.subtracting(task.placeholders).sorted())
        }
    }

    /// The prompt with every placeholder replaced by its value. Throws `missingValue` or
    /// `unusedValue` (the first such name in sorted order, so the error is stable).
    public func render(_ values: [String: String]) throws(PromptTemplateError) -> String {
        if let missing = placeholders.filter({ values[$0] == nil }).min() {
            throw .missingValue(template: name, placeholder: missing)
        }
        if let unused = values.keys.filter({ !placeholders.contains($0) }).min() {
            throw .unusedValue(template: name, name: unused)
        }
        var out = ""
        for segment in segments {
            switch segment {
            case .text(let text): out += text
            case .placeholder(let key): out += values[key]!
            }
        }
        return out
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }
}
