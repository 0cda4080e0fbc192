/// The closest name to `word` among `candidates`, if it is close enough to be a likely typo.
public func nearestName(to word: String, in candidates: [String]) -> String? {
    /// Edits from `a` to `b`, two swapped neighbours ('sede' for 'seed') counting as one.
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var beforePrevious: [Int] = []
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1]
            for (j, cb) in b.enumerated() {
                var best = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1))
                if i > 0 && j > 0 && ca == b[j - 1] && a[i - 1] == cb { best = min(best, beforePrevious[j - 1] + 1) }
                current.append(best)
            }
            beforePrevious = previous
            previous = current
        }
        return previous[b.count]
    }
    let lowerWord = word.lowercased()
    // A truncated name ('aspect' for 'aspect_ratio') is a typo too.
    if lowerWord.count >= 3, let prefixed = candidates.first(where: { $0.lowercased().hasPrefix(lowerWord) }) {
        return prefixed
    }
    let lowered = Array(lowerWord)
    let scored = candidates.map { ($0, distance(lowered, Array($0.lowercased()))) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    // Fewer edits than half the word: 'prnt' is print, 'foo' is not log.
    return best.1 <= max(2, word.count / 3) && best.1 * 2 < word.count ? best.0 : nil
}
