import ArgumentParser
import Foundation

/// `--out`, declared once for `run`, `check` and `repl`, with the folder it defaults to.
struct OutputOptions: ParsableArguments {
    @Option(name: .customLong("out"), help: ArgumentHelp("Where :save() puts videos by default (default: out in the project's folder).", valueName: "dir"))
    var explicitDirectory: String?

    /// `--out`, else the project's `out`.
    var directory: String { explicitDirectory ?? Self.defaultDirectory }

    /// `out` in the project's folder (see `Project`): where videos, and the gallery a run
    /// writes, go when --out names no other.
    static var defaultDirectory: String { Project.current.path("out") }
}
