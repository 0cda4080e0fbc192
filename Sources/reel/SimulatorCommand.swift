import ArgumentParser
import Console
import Foundation
import Simulator
import Workflow

struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulator",
        _superCommandName: "reel",
        abstract: "Serve the built-in API simulator on loopback.",
        discussion: """
            Speaks the gateway's API (POST /v1/video/generations, GET /v1/videos/{id}, GET /v1/video/generations/{id}, GET /v1/videos/{id}/content) with simulated tasks whose videos are real MP4s showing their prompt, seed and model over a colour of their own (drawn by ffmpeg; --sample-videos serves one small sample instead). Point reel at it with REEL_BASE_URL. Faults can be injected to see how a workflow copes; GET /__simulator/stats shows the counters.

            Example:
              reel simulator --port 8089 --rate-limit-rate 0.1 --drop-rate 0.05 &
              export REEL_BASE_URL=http://127.0.0.1:8089 REEL_API_KEY=test
              reel run scripts/prompt_sweep.lua
            """
    )

    @Option(help: ArgumentHelp("Port on 127.0.0.1 (0 picks a free one).", valueName: "n"))
    var port: Int = 8089

    @Option(name: .customLong("require-key"), help: ArgumentHelp("Refuse requests without this Bearer key.", valueName: "key"))
    var requireKey: String?

    @OptionGroup(title: "Simulation") var simulation: SimulatorOptions

    func run() async throws {
        let server = SimulatorServer(configuration: try simulation.configuration(port: port, requiredKey: requireKey))
        let (stop, stopContinuation) = AsyncStream.makeStream(of: Void.self)
        let signals = SignalWatcher { _ in stopContinuation.yield() }
        defer { signals.cancel() }
        let serving = Task {
            try await server.run { url in
                // Written unbuffered: scripts wait for this line to know the port.
                StandardStream.output.writeLine("reel simulator listening on \(url) (Ctrl-C to stop)")
            }
        }
        for await _ in stop { break }
        serving.cancel()
        _ = try? await serving.value
    }
}
