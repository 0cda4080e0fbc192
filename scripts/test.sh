#!/usr/bin/env bash
# Runs every test: the Lua runtime, the request model, the workflow and the command line.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test "$@"
