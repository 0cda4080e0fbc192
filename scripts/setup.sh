#!/usr/bin/env bash
# Installs what reel needs on a Debian machine (as root, or with sudo) and builds it.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
pkg-config --exists lua5.4 2>/dev/null || need+=(liblua5.4-dev pkg-config)
pkg-config --exists sqlite3 2>/dev/null || need+=(libsqlite3-dev)      # the journal (GRDB)
pkg-config --exists libedit 2>/dev/null || need+=(libedit-dev)        # the REPL's line editing
command -v tmux >/dev/null 2>&1 || need+=(tmux)       # a test reads the REPL's screen as a terminal draws it
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)   # last_frame, concat, seams; the simulator draws its videos
fc-list 2>/dev/null | grep -q . || need+=(fonts-dejavu-core fontconfig)  # the writing in simulated videos and seam sheets
command -v luacheck >/dev/null 2>&1 || need+=(lua-check)  # tests lint reel's Lua and the examples
command -v python3 >/dev/null 2>&1 || need+=(python3)     # a test holds the journal locked with it
command -v chromium >/dev/null 2>&1 || need+=(chromium)   # a test opens reel gallery's page in a real browser
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

swift build "$@"
