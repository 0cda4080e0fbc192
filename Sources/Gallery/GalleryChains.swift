import Foundation
import Support
import VideoAPI
import Workflow

extension Gallery {
    /// Takes made from another take — its video (extend) or a last frame of it — followed
    /// from each chain's first take, shown as one row in order.
    struct Chains {
        /// Each take's file (absolute), and the take of each file.
        let pathOf: [Int64: String]
        let byPath: [String: Int64]
        /// Each chain's takes, in order.
        let chains: [[Int64]]

        var members: Set<Int64> { Set(chains.joined()) }

        init(_ tasks: [Journal.Use], media: [MediaRecord], requests typed: [Int64: GenerationRequest]) {
            let byResultURL = Dictionary(tasks.compactMap { use in use.task.resultURL.map { ($0, use.task.id) } }, uniquingKeysWith: { a, _ in a })
            pathOf = Dictionary(tasks.compactMap { use in use.task.path.map { (use.task.id, ReelPaths.absolute($0)) } }, uniquingKeysWith: { a, _ in a })
            let byPath = Dictionary(pathOf.map { ($0.value, $0.key) }, uniquingKeysWith: min)
            self.byPath = byPath
            let lastFrameSource = Dictionary(media.filter { $0.operation == "last_frame" || $0.operation == "frame" }
                .compactMap { record in record.inputPaths.first.flatMap { byPath[ReelPaths.absolute($0)] }.map { (ReelPaths.absolute(record.path), $0) } }, uniquingKeysWith: { a, _ in a })
            var parent: [Int64: Int64] = [:]
            for use in tasks {
                let request = typed[use.task.id]
                if case .url(let url)? = request?.video, let source = byResultURL[url] { parent[use.task.id] = source }
                if case .localFile(let file, _, _)? = request?.image, let source = lastFrameSource[file] {
                    parent[use.task.id] = source
                }
            }
            var firstChild: [Int64: Int64] = [:]
            for (child, source) in parent.sorted(by: { $0.key < $1.key }) where firstChild[source] == nil { firstChild[source] = child }
            var chains: [[Int64]] = []
            for use in tasks where parent[use.task.id] == nil && firstChild[use.task.id] != nil {
                var chain = [use.task.id]
                while let next = firstChild[chain.last!], !chain.contains(next) { chain.append(next) }
                chains.append(chain)
            }
            self.chains = chains
        }

        /// A section per chain, with its seam sheet if one was made of its takes.
        func sections(cards: [Int64: Card], requests: [Int64: [(String, JSONValue)]], media: [MediaRecord], pageFolder: String) -> [Section] {
            chains.map { chain in
                let steps = chain.compactMap { requests[$0] }.map { Gallery.mode(of: $0) }.joined(separator: " → ")
                // Its seam sheet: a seams step whose clips are all takes of this chain.
                let paths = Set(chain.compactMap { pathOf[$0] })
                let sheet = media.last { $0.operation == "seams" && !$0.inputPaths.isEmpty && Set($0.inputPaths.map(ReelPaths.absolute)).isSubset(of: paths) }
                return Section(title: "Chain from \(cards[chain[0]]?.label ?? "")", note: steps, columns: [],
                               rows: [Row(header: "", cells: chain.map { Cell(card: cards[$0]) })], kind: "chain",
                               sheet: sheet.map { Gallery.relative($0.path, from: pageFolder) } ?? "")
            }
        }
    }
}
