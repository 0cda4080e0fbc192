import Console
import Foundation
import VideoAPI
import Workflow

/// Whether a run may take the journal's word on what it holds. A journal that SQLite opens can
/// still know less than it should, and then the run pays again for what it does not know.
enum JournalTrust {
    /// Mends a damaged index (saying so on `display`), refuses a damaged table, and refuses a
    /// journal that knows no takes while `--out` holds videos — unless `acceptingNewJournal`.
    /// `billed`: the run's requests cost money (not the built-in simulator, not `--fresh`).
    static func check(_ journal: Journal, outputDirectory: String, billed: Bool, acceptingNewJournal: Bool,
                      display: ProgressDisplay) throws {
        do {
            if let notice = try journal.verify() { display.log(notice) }
        } catch let damaged as Journal.Damaged {
            throw VideoAPIError(.journal, "\(damaged). \(startingElsewhere)")
        }
        guard billed, !acceptingNewJournal, try journal.knowsNoTakes, let video = firstVideo(in: outputDirectory) else { return }
        throw VideoAPIError(.journal, """
            the journal \(journal.path) knows no takes (it is new, or was emptied), but \(video) is in --out: an earlier journal \
            knew what is there, and without it every take the script asks for would be generated, and paid for, again. If the \
            journal was moved or deleted, put it back (or point --state at it). To run anyway, paying again for what it does not \
            know, add --new-journal.
            """)
    }

    /// Said wherever another journal folder might look like a way out.
    static let startingElsewhere = "--state ANOTHER_FOLDER would start an empty journal, and every take this one knew would be generated, and paid for, again"

    /// The first video file under `folder`, if any (walked lazily: the usual answer is the first file).
    static func firstVideo(in folder: String) -> String? {
        guard let walk = FileManager.default.enumerator(atPath: folder) else { return nil }
        for case let name as String in walk {
            let ext = (name as NSString).pathExtension.lowercased()
            if ext == "mp4" || ext == "webm" || ext == "mov" { return (folder as NSString).appendingPathComponent(name) }
        }
        return nil
    }
}
