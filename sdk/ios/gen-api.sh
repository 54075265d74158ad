#!/usr/bin/env bash
# Generates sdk/mobile's Objective-C headers with gobind, exactly as
# `gomobile bind -target=ios` does (GOOS=ios, tag ios), and writes their
# public API, normalised, to the directory given (default
# _build/ios/api): comments and blank lines removed, so that only
# declarations count. Used by ci.sh (compare) and update-snapshot.sh (write).
set -euo pipefail
die() { echo "gen-api.sh: $*" >&2; exit 1; }
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DEST="${1:-_build/ios/api}"
B=_build/ios
rm -rf "$B/gen" "$DEST"
mkdir -p "$B/bin" "$DEST"
go build -o "$B/bin/gobind" golang.org/x/mobile/cmd/gobind
GOOS=ios CGO_ENABLED=1 "$B/bin/gobind" -lang=go,objc -tags=ios -outdir "$B/gen" ./sdk/mobile
gofmt -w "$B/gen" # gobind's Go is not gofmt'ed: keep `gofmt -l .` of the tree clean (scripts/test.sh)
if grep -n "skipped" "$B"/gen/src/gobind/*.h; then
  die "gobind skipped part of the API (above): only bindable types may be exported"
fi
n=0
for h in "$B"/gen/src/gobind/*.objc.h "$B"/gen/src/gobind/ref.h; do
  # Drop /* */ and /** */ blocks, // lines, trailing blanks and empty lines.
  perl -0777 -pe 's{/\*.*?\*/}{}gs; s{^[ \t]*//[^\n]*\n}{}mg; s{[ \t]+$}{}mg; s{\n{2,}}{\n}g; s{\A\n}{}' \
    "$h" >"$DEST/$(basename "$h")"
  n=$((n + 1))
done
[ "$n" -ge 2 ] || die "gobind produced no Objective-C headers"
