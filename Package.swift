// swift-tools-version:6.0
import Foundation
import PackageDescription

// The data path is visible in the targets: Lua (CLua, CLuaShim, LuaRuntime) and the API
// (VideoAPI) meet only in Workflow; the command line (reel, drawing through Console) and the
// simulator sit on top; Support is under them all.
let package = Package(
    name: "reel",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "reel", targets: ["reel"]),
        .library(name: "Workflow", targets: ["Workflow"]),
        .library(name: "VideoAPI", targets: ["VideoAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.70.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        // The one place that calls lua_error / lua_yieldk: Swift returns a status, C raises.
        .target(name: "CLuaShim", dependencies: ["CLua"]),
        // Sets the Swift runtime's global-enqueue hook, so Swift concurrency can run on NIO's
        // event loops (Support/EventLoopExecutor.swift).
        .target(name: "CExecutorHook"),
        // Stop signals (Ctrl-C, SIGTERM, SIGHUP) forwarded through a pipe: none is lost.
        .target(name: "CStopSignals"),
        // The REPL's line editing, history and completion: libedit (editline(3)); the shim
        // makes its variadic el_set/history calls, which Swift cannot.
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .target(name: "CEditLineShim", dependencies: ["CEditLine"]),
        .target(
            name: "LuaRuntime",
            dependencies: ["CLua", "CLuaShim"],
            // reel's own Lua, kept as .lua files (linted by luacheck) and compiled in.
            resources: [.embedInCode("Lua/prelude.lua"), .embedInCode("Lua/sandbox.lua"), .embedInCode("Lua/preview.lua")]
        ),
        // Writing files whole: the one temporary-file convention (and its sweep of abandoned
        // ones) and the guarded final rename, for downloads, `:save()` and the media steps alike.
        .target(name: "SafeFiles"),
        // What every module may need and none is about: JSON that keeps integers and key order,
        // the one time limit, the executors and timers, redaction and terminal-safe text.
        .target(
            name: "Support",
            dependencies: [
                "CExecutorHook",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "VideoAPI",
            dependencies: [
                "Support", "SafeFiles",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // ffmpeg and ffprobe, run through swift-subprocess: the media steps and the simulator's footage
        // (bounded in time by Support's `withTimeout`, the one time limit).
        .target(name: "Footage", dependencies: ["SafeFiles", "Support", .product(name: "Subprocess", package: "swift-subprocess")]),
        .target(
            name: "Simulator",
            dependencies: [
                "VideoAPI", "Support",
                .product(name: "Hummingbird", package: "hummingbird"),
                // ffmpeg draws each simulated video: its prompt and seed, over its own colour.
                "Footage",
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .target(
            name: "Workflow",
            dependencies: [
                "LuaRuntime", "VideoAPI", "Support", "SafeFiles",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                // ffmpeg and ffprobe for the media steps (last_frame, concat, seams, …).
                "Footage",
            ]
        ),
        // What a run shows on the terminal: the live view of takes in flight, the plain lines
        // and the summary, written to standard output and error so a closed pipe ends no run.
        .target(name: "Console", dependencies: ["Workflow", "VideoAPI", "Support"]),
        // `reel gallery`: the journal's takes as one self-contained HTML page (Mustache template).
        .target(
            name: "Gallery",
            dependencies: ["Workflow", "VideoAPI", "Support", "Footage", "SafeFiles", .product(name: "Mustache", package: "swift-mustache")],
            resources: [.embedInCode("gallery.mustache"), .embedInCode("card.mustache")]
        ),
        .executableTarget(
            name: "reel",
            dependencies: [
                "Workflow", "VideoAPI", "Support", "Console", "Simulator", "Gallery", "CStopSignals", "CEditLine", "CEditLineShim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // Prices: the project's reel.json, the environment and --price, layered.
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            exclude: ["Linker"],
            // Start-up and memory (README, Performance): exports nothing (Linker/exports.map).
            // The release build carries the Swift runtime and Foundation inside (no libraries
            // to load and bind, and it runs where no Swift toolchain is installed) and is not
            // position-independent, so the loader relocates nothing at start.
            linkerSettings: [
                .unsafeFlags(["-Xlinker", "--version-script=\(packageRoot)/Sources/reel/Linker/exports.map"]),
                // Not with the shared Swift libraries of a debug build: their protected symbols
                // and a position-dependent executable do not mix (ld.so warns on every start).
                .unsafeFlags(["-static-stdlib", "-Xclang-linker", "-no-pie"] + staticFoundation, .when(configuration: .release)),
            ]
        ),
        // `swift run -c release reel-bench`: figures beside a Python asyncio peer (README: Performance).
        .executableTarget(
            name: "reel-bench",
            dependencies: ["LuaRuntime", "CLua", "CLuaShim", "VideoAPI", "Support", "Workflow",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "LuaRuntimeTests", dependencies: ["LuaRuntime"]),
        .testTarget(name: "SupportTests", dependencies: ["Support", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "VideoAPITests", dependencies: ["VideoAPI", "Support"]),
        .testTarget(name: "WorkflowTests", dependencies: ["Workflow", "Simulator", "VideoAPI", "Support"]),
        .testTarget(name: "ConsoleTests", dependencies: ["Console", "Workflow", "VideoAPI"]),
        .testTarget(name: "ReelCLITests", dependencies: ["reel", "Simulator"]),
    ]
)

/// The linker runs in another folder; its flags need absolute paths.
var packageRoot: String { URL(fileURLWithPath: #filePath).deletingLastPathComponent().path }

/// Foundation's static libraries and what they need, for `-static-stdlib` (SwiftPM's
/// --static-swift-stdlib would rebuild every module to find them itself).
var staticFoundation: [String] { ["-Xlinker", "--start-group"]
    + ["Foundation", "FoundationNetworking", "FoundationInternationalization", "FoundationEssentials", "CoreFoundation",
       "_FoundationICU", "_FoundationCShims", "_FoundationCollections", "_CFURLSessionInterface"].flatMap { ["-Xlinker", "-l\($0)"] }
    + ["-Xlinker", "--end-group", "-Xlinker", "-lstdc++", "-Xlinker", "-lz"] }

