import Support
import VideoAPI

/// How one generation call wants to be carried out.
public struct GenerationOptions: Sendable {
    /// Generate anew even if the journal holds this request (`--fresh`, `fresh = true`).
    public var fresh: Bool
    /// URLs of videos this run made, mapped to their journal keys: an input that is an
    /// earlier step's output is keyed by that step, not by its (expiring) URL.
    public var inputKeys: [String: String]
    /// `script.lua:LINE` of the call, kept in the journal so an unknown outcome can be
    /// reported by the line that made it.
    public var callSite: String?
    /// The call's place among the run's generation calls (1, 2, …), counted when the script
    /// makes it, so takes are numbered in script order.
    public var sequence: Int?
    /// The script's arguments as the take's record shows them: `row 3: animal=fox place=dunes`
    /// for an `--each` row, `subject=lighthouse` for key=value pairs; nil without any.
    public var arguments: String?
    /// The video's file name under --out, when a template was given; nil: `<task id>.mp4`.
    public var fileName: FileName?
    /// Which script's count `sequence` belongs to (each `--each` row counts its own calls).
    public var script = 0

    public init(fresh: Bool = false, inputKeys: [String: String] = [:], callSite: String? = nil, sequence: Int? = nil, arguments: String? = nil,
                fileName: FileName? = nil) {
        self.fileName = fileName
        self.fresh = fresh
        self.inputKeys = inputKeys
        self.callSite = callSite
        self.sequence = sequence
        self.arguments = arguments
    }
}

/// What carries out a validated request. The dry run only records it; the live generator
/// submits it, waits for the task and downloads the result.
public protocol VideoGenerator: Sendable {
    /// Submits `request` (or takes it from the journal) and waits until its video exists.
    func generate(_ request: GenerationRequest, options: GenerationOptions) async throws -> GeneratedVideo
    /// Writes the video to `path` (atomically) and returns the path.
    func save(_ video: GeneratedVideo, to path: String) async throws -> String
    /// The task's current state as the server reports it.
    func info(_ video: GeneratedVideo) async throws -> [(String, JSONValue)]
    /// Carries out a media step (last_frame, concat, seams, …) on this machine, or in a dry
    /// run plans it and returns a stand-in.
    func media(_ step: MediaStep) async throws -> MediaOutput
}
