import ArgumentParser
import Foundation
import Workflow

/// Where the journal lives: shared by every command that reads or writes it.
struct StateOptions: ParsableArguments {
    @Option(name: .customLong("state"), help: ArgumentHelp("Folder of the journal that makes re-runs free (default: .reel in the project's folder, the nearest at or above the script's folder or this one that holds .reel or reel.json).", valueName: "dir"))
    var explicitDirectory: String?

    /// `--state`, else the project's `.reel` (see `Project`).
    var directory: String { explicitDirectory ?? Project.current.path(".reel") }

    /// The journal file inside the folder.
    var journalPath: String { (directory as NSString).appendingPathComponent(Journal.fileName) }

    /// Said when a command has to wait for another program's lock on the journal.
    var lockWaitNotice: String {
        "reel: the journal \(journalPath) is locked by another program (another reel run, a backup, a sqlite3 shell); waiting for it, up to \(Int(Journal.defaultPatience)) s"
    }

    /// Opens the journal for a command that reads it, saying so on stderr if it must wait for a lock.
    func openJournal() throws -> Journal {
        if let folderProblem { throw ValidationError(folderProblem) }
        let notice = lockWaitNotice
        return try Journal(directory: directory, onLockWait: { printError(notice) })
    }

    /// Whether a journal exists yet (reading commands say "no runs yet" rather than create one).
    /// A file where the folder should be counts, so that opening it says what is wrong.
    var journalExists: Bool { FileManager.default.fileExists(atPath: journalPath) || folderProblem != nil }

    /// What is wrong with the journal's folder, or nil: something that is not a folder stands
    /// where it should be (a `.reel` file), which would otherwise surface as a raw Foundation error.
    var folderProblem: String? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), !isFolder.boolValue else { return nil }
        return "'\(directory)' is a file, not the journal's folder: move it aside (mv \(directory) \(directory).old) or choose another folder with --state"
    }
}
