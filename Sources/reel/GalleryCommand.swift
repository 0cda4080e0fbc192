import ArgumentParser
import Foundation
import Gallery
import Workflow

/// `reel gallery`: one self-contained HTML page of a run's takes (or every run's).
struct GalleryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gallery",
        _superCommandName: "reel",
        abstract: "Write an HTML page of a run's takes, to look at and compare them.",
        discussion: """
            The page works from file:// and loads nothing from the network: videos play from their files and posters show from the journal's folder (by relative path); a poster is made once per video, at most 24 new per page. Takes from one call site form a grid of the parameters that vary (prompt × seed, say); chains (generate → extend, last-frame shots) are one row in order; films show with their seam sheets. Filter by text, status and model; pick two takes to compare them side by side with synced playback. Every `reel run` that generated or reused anything refreshes --out/gallery.html itself.

            Examples:
              reel gallery                      # the latest run, to out/gallery.html
              reel gallery --run 3 -o run3.html
              reel gallery --all -o all.html
            """
    )

    @OptionGroup var state: StateOptions

    @Option(help: ArgumentHelp("The run to show (see reel history); the latest by default.", valueName: "n"))
    var run: Int64?

    @Flag(help: "Show every run's takes.")
    var all = false

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Where to write the page (default: out/gallery.html in the project's folder, as a run writes it).", valueName: "file"))
    var explicitOutput: String?

    /// `-o`, else the page a run writes: `gallery.html` in the project's `out`.
    var output: String { explicitOutput ?? (OutputOptions.defaultDirectory as NSString).appendingPathComponent("gallery.html") }

    func validate() throws {
        if all && run != nil { throw ValidationError("give --run N or --all, not both") }
    }

    func run() async throws {
        guard state.journalExists else {
            printError("reel gallery: no runs yet: the journal (\(state.journalPath)) is empty; run a script first")
            throw ExitCode(ReelExit.usage)
        }
        let journal: Journal
        do { journal = try state.openJournal() } catch {
            printError("reel gallery: cannot read the journal in \(state.directory): \(error)")
            throw ExitCode(ReelExit.usage)
        }
        if let run, try journal.runs(limit: 100_000).contains(where: { $0.id == run }) == false {
            printError("reel gallery: there is no run \(run) in \(state.journalPath) (reel history lists them)")
            throw ExitCode(ReelExit.usage)
        }
        let selection: Gallery.Selection = all ? .all : run.map { .run($0) } ?? .latestRun
        do {
            let takes = try await Gallery(journal: journal, stateDirectory: state.directory).write(selection, to: output)
            print("\(output): \(takes) take\(takes == 1 ? "" : "s")")
        } catch {
            printError("reel gallery: cannot write \(output): \(error)")
            throw ExitCode(ReelExit.usage)
        }
    }
}
