import Testing
@testable import reel

/// `--each rows.csv`: the file read into rows, and what a bad one is told.
@Suite struct CSVTableTests {
    @Test func csvQuotingAndLineEndings() throws {
        let table = try CSVTable(text: "\u{FEFF}name,quote\r\n\"Smith, J.\",\"she said \"\"hi\"\"\"\r\nplain,\"two\nlines\"\n\n")
        #expect(table.header == ["name", "quote"])
        #expect(table.rows == [["name": "Smith, J.", "quote": "she said \"hi\""], ["name": "plain", "quote": "two\nlines"]])
    }

    @Test(arguments: [
        ("", "the CSV is empty"),
        ("a,b\n", "the CSV has a header but no rows"),
        ("a,a\n1,2\n", "the CSV:1: the header names 'a' twice"),
        ("a,\n1,2\n", "the CSV:1: column 2 of the header has no name"),
        ("a,b\n1,2,3\n", "the CSV:2: 3 fields, but the header has 2"),
        ("a\n\"open\n", "the CSV:2: a quoted field is never closed"),
    ])
    func csvErrorsSayWhereAndWhat(text: String, message: String) {
        #expect(throws: CSVTable.ParseError.self) { try CSVTable(text: text) }
        do { _ = try CSVTable(text: text) } catch { #expect(error.description.hasPrefix(message), "\(error.description)") }
    }
}
