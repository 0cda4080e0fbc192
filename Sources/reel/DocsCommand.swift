import ArgumentParser
import Foundation
import Workflow

struct DocsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docs",
        abstract: "Write the editor definitions (LuaLS), the Lua reference and a luacheck config.",
        discussion: """
            Writes reel.lua (for lua-language-server: completion, hover docs and type
            checks in VS Code, Neovim and other editors), reference.md, and .luacheckrc
            (reel's globals for luacheck: `reel docs --out myscripts`, then `luacheck
            myscripts`), all generated from the tables the validator reads. The
            repository keeps copies in docs/.
            """
    )

    @Option(help: ArgumentHelp("The folder to write them into.", valueName: "dir"))
    var out: String = "docs"

    @Flag(help: "Write nothing; exit 1 if the files in --out are not what reel would write.")
    var check = false

    func run() throws {
        let files = GeneratedDocs.all()
        if check {
            let stale = files.filter { name, text in
                (try? String(contentsOfFile: (out as NSString).appendingPathComponent(name), encoding: .utf8)) != text
            }
            for (name, _) in stale { printError("docs: \(out)/\(name) is out of date; run `reel docs --out \(out)`") }
            if !stale.isEmpty { throw ExitCode(ReelExit.scriptError) }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for (name, text) in files {
                let path = (out as NSString).appendingPathComponent(name)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                print("wrote \(path)")
            }
        } catch {
            printError("reel docs: cannot write into \(out): \(error.localizedDescription)")
            throw ExitCode(ReelExit.usage)
        }
    }
}
