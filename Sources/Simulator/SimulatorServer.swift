import Foundation
import Logging
import HTTPTypes
import Hummingbird
import NIOCore
import Support
import VideoAPI

/// reel's own stand-in for a gateway: submit, poll and fetch over real HTTP on loopback,
/// validating with the same `RequestParser` as the client, in either response dialect, with
/// injectable faults. `reel run` uses it when no gateway is configured; the tests use it for
/// everything.
public struct SimulatorServer: Sendable {
    public let configuration: SimulatorConfiguration
    public let state: SimulatorState

    public init(configuration: SimulatorConfiguration = SimulatorConfiguration()) {
        self.configuration = configuration
        state = SimulatorState(configuration: configuration)
    }

    /// Starts serving on 127.0.0.1 (`configuration.port`, 0 for any free port) and returns
    /// once it accepts connections.
    public func start() async throws -> RunningSimulator {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname("127.0.0.1", port: configuration.port), serverName: "reel-simulator"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: Logger(label: "reel.simulator", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let serving = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            serving.cancel()
            _ = try await serving.value
            throw SimulatorError(message: "the simulator could not listen on 127.0.0.1:\(configuration.port)")
        }
        return RunningSimulator(baseURL: "http://127.0.0.1:\(port)", port: port, state: state, serving: serving)
    }

    /// Serves until the task is cancelled (for `reel simulator`).
    public func run(onStart: @escaping @Sendable (String) -> Void) async throws {
        let running = try await start()
        onStart(running.baseURL)
        try await withTaskCancellationHandler {
            _ = try await running.serving.value
        } onCancel: {
            running.serving.cancel()
        }
    }
}

/// A simulator serving in this process.
public struct RunningSimulator: Sendable {
    public let baseURL: String
    public let port: Int
    public let state: SimulatorState
    let serving: Task<Void, any Error>

    public func stop() async {
        serving.cancel()
        _ = try? await serving.value
    }
}

public struct SimulatorError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The request context keeps the channel, so a fault can drop the connection.
struct SimulatorContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    var maxUploadSize: Int { 64 << 20 }
}

