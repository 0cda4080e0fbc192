#!/usr/bin/env bash
# Runs the Lua runtime and workflow tests under AddressSanitizer: the check for the rule that
# no longjmp ever crosses a Swift frame. Run it after any change to CLuaShim or LuaRuntime.
set -euo pipefail
cd "$(dirname "$0")/.."
# XCTest's runner keeps its suite objects alive at exit; that is not reel's memory.
suppressions=$(mktemp)
trap 'rm -f "$suppressions"' EXIT
# + the simulator's static sample MP4, a weak reference Foundation's Process.run keeps, and the
# queue of an NIO thread pool that lives until exit (the downloads' file thread); + the Lua
# functions' declarations, a static table whose option lists sit in an enum payload (the
# pointer, as Swift packs it beside the enum's tag bits, is not one LeakSanitizer recognises).
printf "leak:libXCTest.so\nleak:SampleVideo\nleak:s10Foundation7ProcessC3run\nleak:NIOThreadPool\nleak:s8Workflow6LuaAPIO9functions\n" > "$suppressions"
export LSAN_OPTIONS="suppressions=$suppressions"
swift build --build-tests --sanitize=address --scratch-path .build-asan
swift test --skip-build --sanitize=address --scratch-path .build-asan --filter "LuaRuntimeTests|WorkflowTests" "$@"
