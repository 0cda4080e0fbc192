import ArgumentParser
import Foundation
import Workflow

struct DocsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docs",
        _superCommandName: "reel",
        abstract: "Write the editor definitions (LuaLS), the Lua reference and a luacheck config.",
        discussion: """
            Writes reel.lua (for lua-language-server: completion, hover docs and type checks in VS Code, Neovim and other editors), reference.md, and .luacheckrc (reel's globals for luacheck: `reel docs --out myscripts`, then `luacheck myscripts`), all generated from the tables the validator reads. The repository keeps copies in docs/.
            """
    )

    @Option(help: ArgumentHelp("The folder to write them into.", valueName: "dir"))
    var out: String = "docs"

    @Flag(help: "Write nothing; exit 1 if the files in --out (and --readme) are not what reel would write.")
    var check = false

    @Option(help: ArgumentHelp("Also rewrite the generated sections (<!-- generated:NAME -->) of this README.", valueName: "file"))
    var readme: String?

    func run() throws {
        var files = GeneratedDocs.all().map { (path: (out as NSString).appendingPathComponent($0.name), text: $0.text) }
        if let readme {
            guard let text = try? String(contentsOfFile: readme, encoding: .utf8) else {
                printError("reel docs: cannot read \(readme)")
                throw ExitCode(ReelExit.usage)
            }
            files.append((readme, GeneratedDocs.updating(readme: text)))
        }
        if check {
            let stale = files.filter { path, text in (try? String(contentsOfFile: path, encoding: .utf8)) != text }
            for (path, _) in stale { printError("docs: \(path) is out of date; run `reel docs --out \(out)\(readme.map { " --readme \($0)" } ?? "")`") }
            if !stale.isEmpty { throw ExitCode(ReelExit.scriptError) }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for (path, text) in files {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                print("wrote \(path)")
            }
        } catch {
            printError("reel docs: cannot write into \(out): \(error.localizedDescription)")
            throw ExitCode(ReelExit.usage)
        }
    }
}
