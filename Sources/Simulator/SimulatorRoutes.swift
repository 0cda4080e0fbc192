import Hummingbird
import Support
import VideoAPI

extension SimulatorServer {
    /// The gateway's routes behind its key check and the injected faults, the CDN that needs no
    /// key, and the look-ups tests make into the simulator's own state.
    func makeRouter() -> Router<SimulatorContext> {
        let router = Router(context: SimulatorContext.self)
        let endpoints = GatewayEndpoints(configuration: configuration, state: state)
        let replies = endpoints.replies
        /// The gateway's own routes: the key checked first, then the faults for what they answer.
        func gateway(_ exchange: FaultMiddleware.Exchange) -> RouterGroup<SimulatorContext> {
            router.group()
                .add(middleware: APIKeyMiddleware(requiredKey: configuration.requiredKey, state: state, replies: replies))
                .add(middleware: FaultMiddleware(exchange: exchange, state: state, replies: replies))
        }
        gateway(.submission).post("/v1/video/generations") { request, context in
            try await endpoints.submit(request, context)
        }
        gateway(.reply)
            .get("/v1/videos/:id") { request, context in try await endpoints.poll(request, context, route: .videosOnly) }
            .get("/v1/video/generations/:id") { request, context in try await endpoints.poll(request, context, route: .generationsOnly) }
        gateway(.download)
            .get("/v1/videos/:id/content") { _, context in try await endpoints.content(context, viaResultURL: false) }
            .get("/files/:id") { request, context in
                if await endpoints.state.faults.redirectDownloads { return endpoints.redirectToCDN(request, context) }
                return try await endpoints.content(context, viaResultURL: true)
            }
        // Another origin (a CDN): no key needed, and it notes whether one arrived anyway.
        router.get("/cdn/:id") { request, context in
            await endpoints.state.cdnDownload(withAuthorization: request.headers[.authorization] != nil)
            return try await endpoints.content(context, viaResultURL: true)
        }
        // The simulator's own look-ups, for tests: no key, no faults.
        router.get("/__simulator/polls") { _, _ in
            let log = await endpoints.state.pollLog()
            return GatewayReplies.json(.ok, .array(log.map { entry in
                .object([("id", .string(entry.id)), ("polls", .array(entry.pollOffsets.map(JSONValue.double))),
                         ("detected_at", entry.detectedAt.map(JSONValue.double) ?? .null)])
            }))
        }
        router.get("/__simulator/stats") { _, _ in
            let s = await endpoints.state.stats
            return GatewayReplies.json(.ok, .object([
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
