import ArgumentParser
import Foundation
import Workflow

/// Where the journal lives: shared by every command that reads or writes it.
struct StateOptions: ParsableArguments {
    @Option(name: .customLong("state"), help: ArgumentHelp("Folder of the journal that makes re-runs free.", valueName: "dir"))
    var directory: String = ".reel"

    /// The journal file inside the folder.
    var journalPath: String { (directory as NSString).appendingPathComponent(Journal.fileName) }

    /// Said when a command has to wait for another program's lock on the journal.
    var lockWaitNotice: String {
        "reel: the journal \(journalPath) is locked by another program (another reel run, a backup, a sqlite3 shell); waiting for it, up to \(Int(Journal.defaultPatience)) s"
    }

    /// Opens the journal for a command that reads it, saying so on stderr if it must wait for a lock.
    func openJournal() throws -> Journal {
        let notice = lockWaitNotice
        return try Journal(directory: directory, onLockWait: { printError(notice) })
    }

    /// Whether a journal exists yet (reading commands say "no runs yet" rather than create one).
    var journalExists: Bool { FileManager.default.fileExists(atPath: journalPath) }
}
