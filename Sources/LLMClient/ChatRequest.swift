import JSONCodec

/// One message of a chat: who says it and what.
public struct ChatMessage: Sendable, Equatable {
    /// The speaker, as the chat-completions API names them.
    public enum Role: String, Sendable {
        case system
        case user
        case assistant
    }

    /// Who says it.
    public var role: Role
    /// The text.
    public var content: String

    /// A message.
    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }

    /// A system message (instructions).
    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: .system, content: content) }
    /// A user message (the prompt).
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: .user, content: content) }
}

/// What to ask the model: the messages and the sampling options Bedrock uses. The model name comes
/// from the client's configuration.
public struct ChatRequest: Sendable, Equatable {
    /// The conversation, in order (at least one message).
    public var messages: [ChatMessage]
    /// `temperature`, or `nil` to leave the server's default.
    public var temperature: Double?
    /// Asks for `response_format` `{"type":"json_object"}` (the answer must be a JSON object);
    /// false sends no `response_format`.
    public var jsonObject: Bool
    /// `max_tokens`, or `nil` for the server's default.
    public var maxTokens: Int?

    /// A request.
    public init(messages: [ChatMessage], temperature: Double? = nil, jsonObject: Bool = false, maxTokens: Int? = nil) {
        self.messages = messages
        self.temperature = temperature
        self.jsonObject = jsonObject
        self.maxTokens = maxTokens
    }

    /// The JSON body of `POST /chat/completions` for `model` (non-streaming).
    func body(model: String) -> [UInt8] {
        var members: [(String, JSONValue)] = [
            ("model", .string(model)),
            (
                "messages",
                .array(messages.map { .object([("role", .string($0.role.rawValue)), ("content", .string($0.content))]) })
            ),
        ]
        if let temperature { members.append(("temperature", .double(temperature))) }
        if let maxTokens { members.append(("max_tokens", .int(Int64(maxTokens)))) }
        if jsonObject { members.append(("response_format", .object([("type", "json_object")]))) }
        return JSONCodec.encode(.object(members))
    }
}
