#!/usr/bin/env bash
# Builds sdk/ios/build/Plexmobile.xcframework from sdk/mobile with gomobile
# (slices: iOS devices, iOS simulators, macOS), which Package.swift's
# binaryTarget points at. Needs macOS with Xcode (xcodebuild, the iOS SDKs)
# plus Go; gomobile and gobind come from go.mod's tool directive.
#
#   sdk/ios/build-xcframework.sh            (from anywhere)
# Environment: TARGETS (default ios,iossimulator,macos), IOS_VERSION (default 13.0).
set -euo pipefail
die() { echo "build-xcframework.sh: $*" >&2; exit 1; }
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
[ "$(uname -s)" = Darwin ] || die "needs macOS with Xcode (this is $(uname -s)); gomobile -target=ios requires Xcode.
  CI on Linux checks the Objective-C API instead (sdk/ios/ci.sh); build the framework on a macOS runner."
command -v xcodebuild >/dev/null && xcodebuild -version >/dev/null 2>&1 \
  || die "xcodebuild not usable: install Xcode and run 'sudo xcode-select -s /Applications/Xcode.app'"
OUT="$ROOT/sdk/ios/build/Plexmobile.xcframework"
BIN="$ROOT/_build/ios/bin"
mkdir -p "$BIN" "$(dirname "$OUT")"
go build -o "$BIN/gobind" golang.org/x/mobile/cmd/gobind   # gomobile runs gobind from PATH
go build -o "$BIN/gomobile" golang.org/x/mobile/cmd/gomobile
rm -rf "$OUT"
PATH="$BIN:$PATH" gomobile bind -target="${TARGETS:-ios,iossimulator,macos}" \
  -iosversion "${IOS_VERSION:-13.0}" -o "$OUT" ./sdk/mobile
echo "built $OUT"
