#!/usr/bin/env bash
# The iOS CI check, runnable on Linux (no Xcode, so no Swift compile and no
# Apple runtime here: docs/ios.md). From anywhere:
#
#   bash sdk/ios/ci.sh
#
# 1. pure-Go cross builds of sdk/mobile for ios/arm64 and darwin/arm64;
# 2. build-xcframework.sh refuses clearly without Xcode;
# 3. the Objective-C API that gobind generates equals the committed,
#    reviewed snapshot (sdk/ios/api-snapshot). A change fails here until
#    sdk/ios/update-snapshot.sh is run on purpose and the result committed;
# 4. on Linux, the generated Objective-C binding built with clang against
#    GNUstep Base and driven by an Objective-C program against a real plexd
#    (sdk/ios/objc-runtime-test: needs clang and libgnustep-base-dev, which
#    scripts/deps.sh installs).
set -euo pipefail
cd "$(dirname "$0")/../.."
step() { printf '\n=== ios: %s (%ss)\n' "$1" "$SECONDS"; }
die() { echo "sdk/ios/ci.sh: $*" >&2; exit 1; }
command -v go >/dev/null || die "go not found"
command -v perl >/dev/null || die "perl not found (normalises the headers)"

step "cross build sdk/mobile for ios/arm64 and darwin/arm64 (pure Go)"
GOOS=ios GOARCH=arm64 CGO_ENABLED=0 go build -o /dev/null ./sdk/mobile
GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 go build -o /dev/null ./sdk/mobile

if [ "$(uname -s)" != Darwin ]; then
  step "build-xcframework.sh without Xcode fails clearly"
  if out=$(bash sdk/ios/build-xcframework.sh 2>&1); then
    die "build-xcframework.sh succeeded on $(uname -s)"
  fi
  grep -q "needs macOS with Xcode" <<<"$out" || die "build-xcframework.sh: unclear failure: $out"
fi

step "Objective-C API equals the committed snapshot"
bash sdk/ios/gen-api.sh _build/ios/api
if ! diff -ru sdk/ios/api-snapshot _build/ios/api; then
  echo >&2
  die "the Objective-C API of sdk/mobile changed (diff above: - snapshot, + now).
  If the change is intended, run sdk/ios/update-snapshot.sh and commit sdk/ios/api-snapshot with it,
  and update the Swift wrapper (sdk/ios/Sources/Plex) and docs/ios.md to match."
fi

if [ "$(uname -s)" != Darwin ]; then
  step "Objective-C binding on GNUstep: build (gobind glue + Go -> libplexmobile.so, PlexObjCTest.m)"
  bash sdk/ios/objc-runtime-test/build.sh
  step "Objective-C binding on GNUstep: PlexObjCTest against a real plexd"
  bash sdk/ios/objc-runtime-test/test.sh
fi

echo
echo "ios: all checks passed in ${SECONDS}s"
