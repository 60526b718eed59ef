import JSONCodec

/// A model's answer, read strictly from a chat-completions response: `choices[0].message.content`
/// must be a string; everything else is optional.
public struct ChatCompletion: Sendable, Equatable {
    /// Token counts the server reported (`usage`).
    public struct Usage: Sendable, Equatable {
        /// `prompt_tokens`.
        public var promptTokens: Int64
        /// `completion_tokens`.
        public var completionTokens: Int64
        /// `total_tokens`.
        public var totalTokens: Int64
    }

    /// The answer's text (`choices[0].message.content`), as sent.
    public var content: String
    /// `choices[0].finish_reason` (`stop`; `length` means the text was cut), when sent.
    public var finishReason: String?
    /// The model that answered (`model`), when sent.
    public var model: String?
    /// Token counts, when the server sent all three as integers.
    public var usage: Usage?

    /// Reads a response body. Throws `.malformed` naming what is wrong: not JSON, not an object,
    /// no `choices`, an empty one, no `message`, or a `content` that is not a string (a refusal or
    /// tool call comes as `null`).
    static func parse(_ body: [UInt8], host: String) throws(LLMClientError) -> ChatCompletion {
        let value: JSONValue
        do {
            value = try JSONCodec.parse(body)
        } catch {
            throw .malformed("\(host): the answer is not JSON")
        }
        guard case .object = value else { throw .malformed("\(host): the answer is not a JSON object") }
        guard let choices = value["choices"]?.arrayValue else {
            throw .malformed("\(host): the answer has no choices array")
        }
        guard let first = choices.first else { throw .malformed("\(host): the answer's choices are empty") }
        guard let message = first["message"], case .object = message else {
            throw .malformed("\(host): choices[0] has no message object")
        }
        guard let content = message["content"]?.stringValue else {
            throw .malformed("\(host): choices[0].message.content is not a string")
        }
        var usage: Usage?
        if let prompt = value["usage"]?["prompt_tokens"]?.intValue,
            let completion = value["usage"]?["completion_tokens"]?.intValue,
            let total = value["usage"]?["total_tokens"]?.intValue
        {
            usage = Usage(promptTokens: prompt, completionTokens: completion, totalTokens: total)
        }
        return ChatCompletion(
            content: content, finishReason: first["finish_reason"]?.stringValue, model: value["model"]?.stringValue,
            usage: usage)
    }
}
