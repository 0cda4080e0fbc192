#!/usr/bin/env bash
# Builds reel for release, strips it, and installs it: `bash scripts/install.sh` puts it in
# ~/.local/bin; `PREFIX=/usr/local bash scripts/install.sh` (as root) in /usr/local/bin.
# The release build carries the Swift runtime and Foundation inside (Package.swift), so it
# runs without a Swift toolchain; it needs liblua5.4 and libsqlite3 at run time, and ffmpeg
# for the media steps (scripts/setup.sh installs them on Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${PREFIX:-$HOME/.local}"
swift build -c release --product reel
mkdir -p "$prefix/bin"
install -m 755 .build/release/reel "$prefix/bin/reel"
strip "$prefix/bin/reel"
size=$(du -h "$prefix/bin/reel" | cut -f1)
echo "installed $prefix/bin/reel ($size, stripped): $("$prefix/bin/reel" --version)"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "add $prefix/bin to your PATH to run it as \`reel\`" ;; esac
