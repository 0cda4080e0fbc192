import VideoAPI

/// Receives task events; `begin` returns the number the task is shown under.
public protocol ProgressSink: Sendable {
    /// `callSite`: `script.lua:LINE` of the call, for the take's label; `sequence`: the call's
    /// place in the run (1, 2, …), the number the take is shown under.
    func begin(_ request: GenerationRequest, callSite: String?, sequence: Int?) -> Int
    func update(_ task: Int, _ event: TaskEvent)
    /// Something the user must see even when nothing fails (a task id the journal refused).
    func warning(_ line: String)
    /// A media step finished (made now, or found in the journal).
    func made(_ output: MediaOutput, seconds: Double)
}

extension ProgressSink {
    public func made(_ output: MediaOutput, seconds: Double) {}
}
