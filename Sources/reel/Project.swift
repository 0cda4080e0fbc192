import Foundation
import Synchronization

/// The project a command works in, found the way git and npm find theirs: the nearest folder,
/// from the script's folder (or, for a command without a script, the current folder) up to
/// `/`, that holds `.reel` (the journal) or `reel.json` (the prices); the nearer wins. Without
/// one, the current folder, as before. Its `.reel`, `reel.json` and `out` are the defaults of
/// `--state`, `--config` and `--out`, so a script's takes are reused, not bought again,
/// whichever folder it is run from.
struct Project: Sendable {
    /// The project's folder as a user would type it from here: "." for the current folder, a
    /// relative path below it, else an absolute path.
    let root: String

    static let markers = [".reel", "reel.json"]

    /// Where the search starts: a command that runs a script sets the script's folder here
    /// before it reads any default; other commands search from the current folder.
    nonisolated(unsafe) static var searchStart = "."

    /// Searches from the folder of `script` (a path as given on the command line).
    static func search(fromScript script: String) {
        let folder = (script as NSString).deletingLastPathComponent
        searchStart = folder.isEmpty ? "." : folder
    }

    /// The project for this command, searched once per start. (A run's first write may make
    /// the current folder's `.reel`, which changes nothing: without a marker the current
    /// folder was the project already.)
    static var current: Project {
        let start = searchStart
        return memo.withLock { memo in
            if let found = memo, found.start == start { return found.project }
            let project = find(from: start)
            memo = (start, project)
            return project
        }
    }
    private static let memo = Mutex<(start: String, project: Project)?>(nil)

    static func find(from start: String) -> Project {
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true).resolvingSymlinksInPath().path
        var folder = URL(fileURLWithPath: start, relativeTo: URL(fileURLWithPath: here, isDirectory: true))
            .standardizedFileURL.resolvingSymlinksInPath().path
        while true {
            // `.reel` of any kind counts: a file there is reported (`StateOptions`), not passed over.
            if markers.contains(where: { FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent($0)) }) {
                if folder == here { return Project(root: ".") }
                if folder.hasPrefix(here == "/" ? "/" : here + "/") { return Project(root: String(folder.dropFirst(here == "/" ? 1 : here.count + 1))) }
                return Project(root: folder)
            }
            if folder == "/" || folder.isEmpty { return Project(root: ".") }  // none: the current folder
            folder = (folder as NSString).deletingLastPathComponent
        }
    }

    /// `name` inside the project's folder.
    func path(_ name: String) -> String { root == "." ? name : (root as NSString).appendingPathComponent(name) }

    /// One line naming the project when it is not the current folder, with the defaults taken
    /// from it (the ones not given on the command line); nil when nothing differs from here.
    static func notice(state: String?, out: String?) -> String? {
        let project = current
        guard project.root != "." else { return nil }
        let parts = [state == nil ? "journal \(project.path(".reel"))" : nil, out == nil ? "videos in \(OutputOptions.defaultDirectory)" : nil].compactMap { $0 }
        guard !parts.isEmpty else { return nil }
        return "reel: using the project in \(project.root) (the nearest folder at or above \(searchStart == "." ? "this one" : searchStart) with .reel or reel.json): \(parts.joined(separator: ", "))"
    }
}
