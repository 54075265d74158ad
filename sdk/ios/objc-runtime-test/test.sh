#!/usr/bin/env bash
# Runs the Objective-C test program (PlexObjCTest.m, built by build.sh)
# against a real plexd on loopback: -auth none, -store memory, -upstream
# echo, free ports chosen by the node (port 0, read back from -ready-file).
# From the repository root, after build.sh:
#
#   bash sdk/ios/objc-runtime-test/test.sh     # PLEX_OBJC_VERBOSE=1 prints the SDK's log
#
# PLEXD=path uses that plexd binary instead of building ./cmd/plexd.
#
# Exits non-zero when a check fails; prints plexd's log then.
set -euo pipefail
die() { echo "objc-runtime-test/test.sh: $*" >&2; exit 1; }
cd "$(dirname "$0")/../../.."
B=_build/ios/objcrt
[ -x "$B/bin/plex-objc-test" ] || die "$B/bin/plex-objc-test missing: run sdk/ios/objc-runtime-test/build.sh first"
command -v curl >/dev/null || die "curl not found"
PLEXD="${PLEXD:-}"
if [ -z "$PLEXD" ]; then
  PLEXD="$B/bin/plexd"
  go build -o "$PLEXD" ./cmd/plexd
fi

run="$(mktemp -d)"
plexd_pid=""
cleanup() {
  if [ -n "$plexd_pid" ]; then kill "$plexd_pid" 2>/dev/null || true; wait "$plexd_pid" 2>/dev/null || true; fi
  rm -rf "$run"
}
trap cleanup EXIT
export PLEX_INNER_SECRET="objc-test-$RANDOM$RANDOM"
"$PLEXD" -addr 127.0.0.1:0 -http 127.0.0.1:0 -auth none -store memory -upstream echo \
  -heartbeat 1s -heartbeat-timeout 3s -ready-file "$run/ready.json" -log-level info >"$run/plexd.log" 2>&1 &
plexd_pid=$!
for _ in $(seq 200); do
  [ -s "$run/ready.json" ] && break
  kill -0 "$plexd_pid" 2>/dev/null || { cat "$run/plexd.log" >&2; die "plexd exited"; }
  sleep 0.05
done
[ -s "$run/ready.json" ] || { cat "$run/plexd.log" >&2; die "plexd not ready after 10 s"; }
ready="$(cat "$run/ready.json")"
field() { sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" <<<"$ready"; }
PLEX_ADDR="$(field addr)" PLEX_HTTP="$(field http)"
[ -n "$PLEX_ADDR" ] && [ -n "$PLEX_HTTP" ] || die "ready file without addr/http: $ready"
echo "plexd on $PLEX_ADDR (HTTP $PLEX_HTTP)"

status=0
PLEX_ADDR="$PLEX_ADDR" PLEX_HTTP="$PLEX_HTTP" PLEX_SECRET="$PLEX_INNER_SECRET" \
  timeout 120 "$B/bin/plex-objc-test" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- plexd log" >&2; cat "$run/plexd.log" >&2
  die "PlexObjCTest failed (exit $status)"
fi
