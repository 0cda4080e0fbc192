import VideoAPI

/// What happens to one generation, as the live generator reports it.
public enum TaskEvent: Sendable {
    case submitted(id: String)
    /// An earlier run's task, polled again instead of submitted.
    case resumed(id: String)
    /// An earlier run's finished video, used as it is.
    case reused(id: String, path: String)
    case polled(TaskSnapshot)
    case downloading
    case saved(path: String, bytes: Int64)
    case failed(VideoAPIError)
    /// Another live reel run is generating this very request; this one waits for its file.
    case waiting(pid: Int32)
}
