import Foundation
import Mustache
import VideoAPI
import Workflow

/// What the page shows, as the templates read it.
extension Gallery {
    struct Page {
        var title: String
        var subtitle: String
        var count: Int
        var models: [String]
        var sections: [Section]
        var films: [Film]
        // Mustache reads stored properties only (through Mirror): the flags are stored.
        var hasFilms: Bool
        var isEmpty: Bool
    }

    struct Section {
        var title: String
        var note: String
        /// Column headers of a grid (empty for a chain or a list).
        var columns: [String]
        var rows: [Row]
        var kind: String
        var hasColumns: Bool
        /// A chain's seam sheet (relative path), when a `seams` step was made of its clips.
        var sheet: String
        var hasSheet: Bool

        init(title: String, note: String, columns: [String], rows: [Row], kind: String, sheet: String = "") {
            (self.title, self.note, self.columns, self.rows, self.kind, self.sheet) = (title, note, columns, rows, kind, sheet)
            hasColumns = !columns.isEmpty
            hasSheet = !sheet.isEmpty
        }
    }

    struct Row {
        var header: String
        var cells: [Cell]
    }

    struct Cell {
        var card: Card?
        var empty: Bool
        init(card: Card?) {
            self.card = card
            empty = card == nil
        }
    }

    struct Card {
        var dom: String
        var number: Int
        var label: String
        var prompt: String
        var model: String
        var seed: String
        var duration: String
        var arguments: String
        var status: String
        var isFailed: Bool
        var reason: String
        var origin: String
        var call: String
        var video: String
        var hasVideo: Bool
        var poster: String
        var searchText: String
        var varying: [Detail] { didSet { hasVarying = !varying.isEmpty } }
        var hasVarying = false
        var details: [Detail]
    }

    struct Detail {
        var name: String
        var value: String
        var highlight: Bool
    }

    struct Film {
        var title: String
        var video: String
        var poster: String
        var duration: String
        var sheet: String
        var hasSheet: Bool
        var clips: String
    }
}

// The page's model read by name, without Mirror: Mustache's reflection walked every field of
// a value for each name it looked up, most of the time of writing a page of thousands of takes.
// A name not listed reads as missing (and Mustache looks further up), as with reflection.
extension Gallery.Page: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "subtitle": subtitle
        case "count": count
        case "models": models
        case "sections": sections
        case "films": films
        case "hasFilms": hasFilms
        case "isEmpty": isEmpty
        default: nil
        }
    }
}

extension Gallery.Section: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "note": note
        case "columns": columns
        case "rows": rows
        case "kind": kind
        case "hasColumns": hasColumns
        case "sheet": sheet
        case "hasSheet": hasSheet
        default: nil
        }
    }
}

extension Gallery.Row: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "header": header
        case "cells": cells
        default: nil
        }
    }
}

extension Gallery.Cell: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "card": card
        case "empty": empty
        default: nil
        }
    }
}

extension Gallery.Card: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "dom": dom
        case "number": number
        case "label": label
        case "prompt": prompt
        case "model": model
        case "seed": seed
        case "duration": duration
        case "arguments": arguments
        case "status": status
        case "isFailed": isFailed
        case "reason": reason
        case "origin": origin
        case "call": call
        case "video": video
        case "hasVideo": hasVideo
        case "poster": poster
        case "searchText": searchText
        case "varying": varying
        case "hasVarying": hasVarying
        case "details": details
        default: nil
        }
    }
}

extension Gallery.Detail: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "value": value
        case "highlight": highlight
        default: nil
        }
    }
}

extension Gallery.Film: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "video": video
        case "poster": poster
        case "duration": duration
        case "sheet": sheet
        case "hasSheet": hasSheet
        case "clips": clips
        default: nil
        }
    }
}
