import Hummingbird
import Support
import VideoAPI

extension SimulatorServer {
    func makeRouter() -> Router<SimulatorContext> {
        let router = Router(context: SimulatorContext.self)
        let handlers = Handlers(configuration: configuration, state: state)
        router.post("/v1/video/generations") { request, context in
            try await handlers.faulted(request, context, submission: true) { try await handlers.submit(request, context) }
        }
        router.get("/v1/videos/:id") { request, context in
            try await handlers.faulted(request, context) { try await handlers.poll(request, context, route: .videosOnly) }
        }
        router.get("/v1/video/generations/:id") { request, context in
            try await handlers.faulted(request, context) { try await handlers.poll(request, context, route: .generationsOnly) }
        }
        router.get("/v1/videos/:id/content") { request, context in
            try await handlers.faulted(request, context, json: false) { try await handlers.content(context, viaResultURL: false) }
        }
        router.get("/files/:id") { request, context in
            try await handlers.faulted(request, context, json: false) {
                if await handlers.state.faults.redirectDownloads { return handlers.redirectToCDN(request, context) }
                return try await handlers.content(context, viaResultURL: true)
            }
        }
        // Another origin (a CDN): no key needed, and it notes whether one arrived anyway.
        router.get("/cdn/:id") { request, context in
            await handlers.state.cdnDownload(withAuthorization: request.headers[.authorization] != nil)
            return try await handlers.content(context, viaResultURL: true)
        }
        router.get("/__simulator/polls") { _, _ in
            let log = await handlers.state.pollLog()
            return Handlers.json(.ok, .array(log.map { entry in
                .object([("id", .string(entry.id)), ("polls", .array(entry.pollOffsets.map(JSONValue.double))),
                         ("detected_at", entry.detectedAt.map(JSONValue.double) ?? .null)])
            }))
        }
        router.get("/__simulator/stats") { _, _ in
            let s = await handlers.state.stats
            return Handlers.json(.ok, .object([
                ("submissions", .int(Int64(s.submissions))), ("duplicate_submissions", .int(Int64(s.duplicateSubmissions))),
                ("polls", .int(Int64(s.polls))), ("downloads", .int(Int64(s.downloads))),
                ("open_tasks", .int(Int64(s.openTasks))), ("peak_open_tasks", .int(Int64(s.peakOpenTasks))),
                ("faults_injected", .int(Int64(s.faultsInjected))), ("rejected", .int(Int64(s.rejected))),
                ("dropped_submissions", .int(Int64(s.droppedSubmissions))), ("replayed_submissions", .int(Int64(s.replayedSubmissions))),
                ("cdn_downloads", .int(Int64(s.cdnDownloads))), ("cdn_downloads_with_authorization", .int(Int64(s.cdnDownloadsWithAuthorization))),
            ]))
        }
        return router
    }
}
