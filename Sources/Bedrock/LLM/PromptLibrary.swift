import Foundation
import LLMCore

/// The four prompt templates of `llm.prompts_dir` (`sentiment.txt`, `explanation.txt`,
/// `journal.txt`, `review.txt`), read and checked once at start: a missing file, an unreadable
/// one, or a template that does not use exactly its task's placeholders stops the gateway with
/// an error naming the file, rather than failing on the first call.
public struct PromptLibrary: Sendable {
    private let templates: [LLMTask: PromptTemplate]

    /// Loads every task's template from `directory`.
    public init(directory: String) throws(GatewayStartError) {
        var loaded: [LLMTask: PromptTemplate] = [:]
        for task in LLMTask.allCases {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(task.templateFileName).path
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw GatewayStartError("llm.prompts_dir: cannot read \(path) (the \(task.rawValue) prompt)")
            }
            do {
                loaded[task] = try PromptTemplate(task: task, text: text)
            } catch {
                throw GatewayStartError("llm.prompts_dir: \(path): \(error)")
            }
        }
        templates = loaded
    }

    /// `task`'s prompt with `values` filled in; throws when a value is missing or unknown (a bug in
    /// the gateway: the templates were checked at start).
    public func render(_ task: LLMTask, _ values: [String: String]) throws(PromptTemplateError) -> String {
        try templates[task]!.render(values)
    }
}
