import Support
/// Every response shape reel accepts, in one place. The API page documents no response
/// format, so decoding is tolerant: these tables list the keys and words tried, in order.
/// The simulator answers in shapes drawn from the same tables.
public enum ResponseShapes {
    /// Keys that may hold the task id, at the top level or inside `data`.
    public static let taskIDKeys = ["id", "task_id"]
    /// Objects a response may wrap its payload in.
    public static let envelopeKeys = ["data"]
    /// Keys that may hold the status word.
    public static let statusKeys = ["status", "state", "task_status"]
    /// Keys that may hold progress: an integer or a string such as "50%".
    public static let progressKeys = ["progress", "percent"]
    /// Paths to the result URL, first match wins (also tried inside `data`).
    public static let resultURLPaths: [[String]] = [
        ["video_url"], ["result", "video_url"], ["result", "outputs", "0"], ["url"], ["metadata", "url"],
        ["result_url"], ["content_url"],
    ]
    /// Paths to a failure reason.
    public static let failureReasonPaths: [[String]] = [
        ["error", "message"], ["error"], ["fail_reason"], ["failure_reason"], ["message"],
    ]
    /// Status words, lower-cased, by meaning. The first of each list is the OpenAI-style word
    /// and the last the wrapped-gateway word (upper-cased there): the simulator answers with them.
    public static let statusWords: [(TaskStatus, [String])] = [
        (.queued, ["queued", "pending", "submitted", "not_start"]),
        (.running, ["in_progress", "processing", "running"]),
        (.succeeded, ["completed", "complete", "done", "finished", "succeeded", "success"]),
        (.failed, ["failed", "error", "cancelled", "canceled", "expired", "rejected", "aborted", "timeout", "timed_out", "failure"]),
    ]

    /// The keys a gateway of each style answers with — the simulator speaks both, so every
    /// shape it sends is one this table decodes. OpenAI style: the first of each list, at the
    /// top level. Wrapped style: inside the `data` envelope, the last task-id key and the
    /// `result_url` and `fail_reason` paths.
    public struct Style: Sendable {
        public let envelope: String?
        public let taskID: String
        public let status: String
        public let progress: String
        public let resultURL: [String]
        public let failureReason: [String]

        public static let openAI = Style(envelope: nil, taskID: taskIDKeys.first!, status: statusKeys.first!, progress: progressKeys.first!,
                                         resultURL: resultURLPaths.first!, failureReason: failureReasonPaths.first!)
        public static let wrapped = Style(envelope: envelopeKeys.first!, taskID: taskIDKeys.last!, status: statusKeys.first!,
                                          progress: progressKeys.first!, resultURL: resultURLPaths.first { $0 == ["result_url"] }!,
                                          failureReason: failureReasonPaths.first { $0 == ["fail_reason"] }!)
    }

    /// The words a gateway of each style uses for `status`.
    public static func word(for status: TaskStatus, wrapped: Bool) -> String {
        guard let words = statusWords.first(where: { $0.0 == status })?.1 else { return status.description }
        return wrapped ? words.last!.uppercased() : words.first!
    }
}

/// A task's state as reel understands it.
public enum TaskStatus: Sendable, Hashable, CustomStringConvertible {
    case queued, running, succeeded, failed
    /// A word no table knows: treated as running until the deadline, with a warning.
    case unrecognized(String)

    public init(word: String) {
        let lower = word.lowercased()
        for (status, words) in ResponseShapes.statusWords where words.contains(lower) {
            self = status
            return
        }
        self = .unrecognized(word)
    }

    public var isFinished: Bool { self == .succeeded || self == .failed }

    public var description: String {
        switch self {
        case .queued: "queued"
        case .running: "running"
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .unrecognized(let word): word
        }
    }
}

/// One reading of a task, decoded tolerantly from any accepted shape.
public struct TaskSnapshot: Sendable, Equatable {
    public var id: String?
    public var status: TaskStatus?
    /// 0…100.
    public var progress: Int?
    public var resultURL: String?
    public var failureReason: String?

    public init(id: String? = nil, status: TaskStatus? = nil, progress: Int? = nil, resultURL: String? = nil, failureReason: String? = nil) {
        self.id = id
        self.status = status
        self.progress = progress
        self.resultURL = resultURL
        self.failureReason = failureReason
    }

    /// The status to act on. A word no table knows is taken as finished when the reply says
    /// so by itself — a result URL means the video is there, an `error` object or a failure
    /// reason with no progress below 100 means it failed — so an unexpected final word does
    /// not leave reel polling until --timeout.
    public var settledStatus: TaskStatus? {
        guard case .unrecognized = status else { return status }
        if resultURL != nil { return .succeeded }
        if failureReason != nil && (progress ?? 100) >= 100 { return .failed }
        return status
    }

    /// The reading as fields for people and tools (`reel task`, `video:info()`): id, status,
    /// and progress, url and failure_reason when known.
    public func fields(id: String) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = [("id", .string(id)), ("status", .string(status?.description ?? "unknown"))]
        if let progress { fields.append(("progress", .int(Int64(progress)))) }
        if let resultURL { fields.append(("url", .string(resultURL))) }
        if let failureReason { fields.append(("failure_reason", .string(failureReason))) }
        return fields
    }

    /// Reads `json` by the tables above. Fields it cannot find stay nil.
    public init(decoding json: JSONValue) {
        let scopes = [json] + ResponseShapes.envelopeKeys.compactMap { key -> JSONValue? in
            guard let inner = json[key], case .object = inner else { return nil }
            return inner
        }
        func first<T>(_ read: (JSONValue) -> T?) -> T? {
            for scope in scopes { if let v = read(scope) { return v } }
            return nil
        }
        id = first { scope in
            ResponseShapes.taskIDKeys.lazy.compactMap { key -> String? in
                switch scope[key] {
                case .string(let s) where !s.isEmpty: s
                case .int(let i): String(i)
                default: nil
                }
            }.first
        }
        status = first { scope in
            ResponseShapes.statusKeys.lazy.compactMap { scope[$0]?.stringValue }.first.map(TaskStatus.init(word:))
        }
        progress = first { scope in
            ResponseShapes.progressKeys.lazy.compactMap { key -> Int? in
                switch scope[key] {
                case .int(let i): Int(clamping: i)
                case .double(let d) where d.isFinite: Int(d.rounded())
                case .string(let s): Int(s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "%", with: ""))
                default: nil
                }
            }.first.map { min(max($0, 0), 100) }
        }
        resultURL = first { scope in
            ResponseShapes.resultURLPaths.lazy.compactMap { path in
                scope.value(at: path)?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            }.first
        }
        failureReason = first { scope in
            ResponseShapes.failureReasonPaths.lazy.compactMap { path in
                scope.value(at: path)?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            }.first
        }
    }
}

/// An error body in either dialect: `{"error":{"message","type","code"}}` or `{"code","message","data"}`.
public struct APIErrorBody: Sendable, Equatable {
    public var message: String?
    public var type: String?
    public var code: String?

    public init(decoding json: JSONValue) {
        if case .object = json["error"] {
            message = json.value(at: ["error", "message"])?.stringValue
            type = json.value(at: ["error", "type"])?.stringValue
            code = json.value(at: ["error", "code"]).flatMap(Self.text)
        } else {
            message = json["error"]?.stringValue ?? json["message"]?.stringValue
            code = json["code"].flatMap(Self.text)
        }
    }

    private static func text(_ v: JSONValue) -> String? {
        switch v {
        case .string(let s): s
        case .int(let i): String(i)
        default: nil
        }
    }
}

extension JSONValue {
    /// The value at a path of object keys and list indices ("0").
    public func value(at path: [String]) -> JSONValue? {
        var current = self
        for key in path {
            switch current {
            case .object:
                guard let next = current[key] else { return nil }
                current = next
            case .array(let items):
                guard let i = Int(key), items.indices.contains(i) else { return nil }
                current = items[i]
            default:
                return nil
            }
        }
        return current
    }
}
