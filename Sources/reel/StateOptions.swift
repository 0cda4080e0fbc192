import ArgumentParser
import Foundation
import Workflow

/// Where the journal lives: shared by every command that reads or writes it.
struct StateOptions: ParsableArguments {
    @Option(name: .customLong("state"), help: ArgumentHelp("Folder of the journal that makes re-runs free.", valueName: "dir"))
    var directory: String = ".reel"

    /// The journal file inside the folder.
    var journalPath: String { (directory as NSString).appendingPathComponent(Journal.fileName) }

    /// Whether a journal exists yet (reading commands say "no runs yet" rather than create one).
    var journalExists: Bool { FileManager.default.fileExists(atPath: journalPath) }
}
