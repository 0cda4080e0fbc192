/// Runs work on a task of its own, cancelled with the caller. A task keeps every stack slab it
/// ever allocated until it ends, and `async let` puts its child's task object in the parent's
/// slabs: a deep or large frame (an HTTP exchange, a journal claim) would stay allocated under
/// a generation for the minutes it then waits. A task started here lives on the heap and is
/// gone when its work ends (README, Performance).
public enum FreshStack {
    public static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () async throws(E) -> T) async throws(E) -> T {
        let task = Task { () async -> Result<T, E> in
            do throws(E) {
                return .success(try await body())
            } catch {
                return .failure(error)
            }
        }
        return try await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }.get()
    }
}
