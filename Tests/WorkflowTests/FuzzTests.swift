import Foundation
import Simulator
@testable import Support
import Testing
import VideoAPI
@testable import Workflow

/// Bad input of every kind: random option tables, random and truncated replies, oversize
/// bodies. Nothing crashes; everything is a clear, typed error.
@Suite struct FuzzTests {
    @Test func randomLuaTablesOnlyEverFailValidation() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let reporter = try await h.run("""
            math.randomseed(20261125)
            local names = { "model", "prompt", "image", "images", "last_image", "video", "size", "aspect_ratio",
                            "duration", "extra_body", "generate_audio", "negative_prompt", "seed", "fresh", "bogus", "Prompt", "" }
            local models = { "veo3.1-video-720p", "veo3.1-fast-video-4k", "veo9", "" }
            local function value(depth)
              local r = math.random(12)
              if r == 1 then return math.random(-10, 10) end
              if r == 2 then return math.random() * 20 end
              if r == 3 then return math.random(2) == 1 end
              if r == 4 then return models[math.random(#models)] end
              if r == 5 then return ({ "16:9", "9:16", "720p", "4k", "https://x/a.png", "frame.png", "data:image/png;base64,AA==", "" })[math.random(8)] end
              if r == 6 then return ("x"):rep(math.random(0, 3)) end
              if r == 7 and depth < 3 then
                local t = {}
                for i = 1, math.random(0, 4) do t[i] = value(depth + 1) end
                return t
              end
              if r == 8 and depth < 3 then
                local t = {}
                for _ = 1, math.random(0, 3) do t[names[math.random(#names)]] = value(depth + 1) end
                return t
              end
              if r == 9 then return print end
              if r == 10 then return math.huge end
              if r == 11 then return 0/0 end
              return "a prompt"
            end
            local fns = { text_to_video, image_to_video, frames_to_video, reference_to_video, generate }
            local names_of = { [text_to_video] = "text_to_video", [image_to_video] = "image_to_video", [frames_to_video] = "frames_to_video",
                               [reference_to_video] = "reference_to_video", [generate] = "generate" }
            local refused, accepted, other, unnamed = 0, 0, {}, {}
            for n = 1, 4000 do
              -- Half start from a valid text request and change a few fields; half are noise.
              local t = n % 2 == 0 and { prompt = "a valid prompt", duration = 8 } or {}
              for _ = 1, math.random(0, n % 2 == 0 and 2 or 6) do t[names[math.random(#names)]] = value(0) end
              if math.random(10) == 1 then t[1] = value(0) end
              local fn = n % 2 == 0 and ({ text_to_video, generate })[math.random(2)] or fns[math.random(#fns)]
              local ok, err = pcall(fn, t)
              if ok then accepted = accepted + 1
              elseif type(err) == "table" and err.code == "invalid_request" then
                refused = refused + 1
                -- A refusal says which call and which field: "fn: 'field' …" or the list item.
                local message = tostring(err.message)
                local named = message:find("'[^']*'") or message:find("got a list item at %d+")
                if message:sub(1, #names_of[fn] + 2) ~= names_of[fn] .. ": " or not named then unnamed[#unnamed + 1] = message end
              else other[#other + 1] = tostring(err) end
            end
            log(refused, accepted, #other, tostring(other[1]), #unnamed, tostring(unnamed[1]))
            """)
        let fields = reporter.logs.first!.dropFirst("[log] ".count).split(separator: "\t")
        try #require(fields.count == 6, "\(reporter.logs)")
        print("fuzz: 4000 random option tables → \(fields[0]) refused as invalid_request, \(fields[1]) accepted, \(fields[2]) other")
        #expect(fields[2] == "0", "\(reporter.logs)")
        #expect(fields[4] == "0", "a refusal that names no call or field: \(reporter.logs)")
        #expect(Int(fields[0])! > 1000 && Int(fields[1])! > 10)
    }

    @Test func randomAndTruncatedRepliesNeverCrashTheDecoder() throws {
        var rng = SystemRandomNumberGenerator()
        // Each sample with what a careful reader must take from it.
        let samples: [(reply: String, snapshot: TaskSnapshot, message: String?, code: String?)] = [
            (#"{"id":"t1","status":"completed","progress":100,"video_url":"https://x/v.mp4"}"#,
             TaskSnapshot(id: "t1", status: .succeeded, progress: 100, resultURL: "https://x/v.mp4"), nil, nil),
            (#"{"code":"success","data":{"task_id":"t2","status":"SUCCESS","progress":"100%","result_url":"https://x"}}"#,
             TaskSnapshot(id: "t2", status: .succeeded, progress: 100, resultURL: "https://x"), nil, "success"),
            (#"{"error":{"message":"bad","type":"invalid_request_error","code":"invalid_request"}}"#,
             TaskSnapshot(failureReason: "bad"), "bad", "invalid_request"),
            (#"{"code":"fail","message":"nope","data":null}"#,
             TaskSnapshot(failureReason: "nope"), "nope", "fail"),
        ]
        // Intact samples read as expected; every proper prefix of one is refused (a cut
        // reply must never pass for a shorter valid one).
        for sample in samples {
            let json = try JSONValue.parse(Data(sample.reply.utf8))
            #expect(TaskSnapshot(decoding: json) == sample.snapshot, "\(sample.reply)")
            let error = APIErrorBody(decoding: json)
            #expect(error.message == sample.message && error.code == sample.code, "\(sample.reply)")
            let bytes = Array(sample.reply.utf8)
            for length in 0..<bytes.count {
                #expect(throws: JSONValue.ParseError.self, "prefix \(length) of \(sample.reply)") {
                    try JSONValue.parse(Data(bytes.prefix(length)))
                }
            }
        }
        var decoded = 0, refused = 0
        for _ in 0..<3000 {
            let base = Array(samples.randomElement(using: &rng)!.reply.utf8)
            var bytes = Array(base.prefix(Int.random(in: 0...base.count, using: &rng)))
            for _ in 0..<Int.random(in: 0...3, using: &rng) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) { bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
            do {
                let json = try JSONValue.parse(Data(bytes))
                let snapshot = TaskSnapshot(decoding: json)
                _ = APIErrorBody(decoding: json)
                // What the decoder promises of any reply it accepts.
                if let progress = snapshot.progress { #expect((0...100).contains(progress), "\(bytes)") }
                #expect(snapshot.id?.isEmpty != true && snapshot.resultURL?.isEmpty != true, "\(bytes)")
                decoded += 1
            } catch {
                #expect(!error.description.isEmpty)
                refused += 1
            }
        }
        print("fuzz: 3000 random/truncated replies → \(decoded) decoded tolerantly, \(refused) refused as not JSON, 0 crashes")
        // Intact samples come up about one time in ten, random noise is almost never JSON:
        // both outcomes must occur, or the mutation above stopped doing anything.
        #expect(decoded > 0 && refused > 1000, "decoded \(decoded), refused \(refused)")
    }

    @Test func wellFormedRepliesOfEveryShapeAndTypeDecodeTolerantly() {
        var rng = SystemRandomNumberGenerator()
        let keys = ResponseShapes.taskIDKeys + ResponseShapes.statusKeys + ResponseShapes.progressKeys
            + ResponseShapes.resultURLPaths.flatMap { $0 } + ResponseShapes.failureReasonPaths.flatMap { $0 }
            + ResponseShapes.envelopeKeys + ["error", "data", "x"]
        let distinctKeys = Array(Set(keys)).sorted()
        let words = ResponseShapes.statusWords.flatMap(\.1) + ["WEIRD", "", "50%", "https://x/v.mp4"]
        func value(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: return .null
            case 1: return .bool(.random(using: &rng))
            case 2: return .int(Int64.random(in: -1000...1000, using: &rng))
            case 3: return .double(Double.random(in: -1e6...1e6, using: &rng))
            case 4, 5: return .string(words.randomElement(using: &rng)!)
            case 6 where depth < 4: return .array((0..<Int.random(in: 0...3, using: &rng)).map { _ in value(depth + 1) })
            default:
                guard depth < 4 else { return .string("leaf") }
                var fields: [(String, JSONValue)] = []
                for key in distinctKeys.shuffled(using: &rng).prefix(Int.random(in: 0...5, using: &rng)) { fields.append((key, value(depth + 1))) }
                return .object(fields)
            }
        }
        var withStatus = 0
        for _ in 0..<5000 {
            let json = value(0)
            let snapshot = TaskSnapshot(decoding: json)
            if let progress = snapshot.progress { #expect((0...100).contains(progress)) }
            if snapshot.status != nil { withStatus += 1 }
            _ = APIErrorBody(decoding: json)
            // What reel encodes, it reads back the same.
            let back = try? JSONValue.parse(Data(json.encoded().utf8))
            #expect(back == json, "\(json.encoded()) came back as \(back.map { $0.encoded() } ?? "an error")")
        }
        print("fuzz: 5000 well-formed replies of random shape → \(withStatus) carried a status reel read, 0 crashes")
    }

    @Test func deeplyNestedRepliesAreRefusedNotFatal() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Data(deep.utf8)) }
    }

    @Test func anOversizeReplyIsCapped() async throws {
        try await LiveHarness.with(client: { $0.maxResponseBytes = 64 }) { live in
            let failure = try await live.failure("text_to_video 'x'")
            #expect(failure.code == "api_error")
            #expect(failure.message.contains("larger than"))
        }
    }

    @Test func anOversizeDownloadIsCappedAndLeavesNoFile() async throws {
        try await LiveHarness.with({ $0.resultBytes = 64 << 10 }, client: { $0.maxDownloadBytes = 16 << 10 }) { live in
            let failure = try await live.failure("text_to_video 'x'")
            #expect(failure.code == "api_error")
            #expect(failure.message.contains("limit"))
            #expect(live.outputFiles.isEmpty)
        }
    }
}
