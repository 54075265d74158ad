#!/usr/bin/env bash
# Builds sdk/mobile's gomobile Objective-C binding for Linux against GNUstep
# (docs/ios.md, "Objective-C binding at run time on Linux"), and the test
# program that drives it. From the repository root:
#
#   bash sdk/ios/objc-runtime-test/build.sh      # -> _build/ios/objcrt/bin/plex-objc-test
#
# 1. gobind -lang=go,objc, exactly as `gomobile bind -target=ios` runs it
#    (GOOS=ios, tag ios): the same .h/.m/.go files an Xcode build compiles;
# 2. the darwin-only file names become _gnustep (so GOOS=linux builds them),
#    the #cgo lines lose Apple's flags (-fobjc-arc -fmodules, -framework
#    Foundation), and patch-gobind.pl adapts the Objective-C to Debian's
#    runtime (GCC's libobjc: fragile ABI, no ARC);
# 3. go build -buildmode=c-shared with clang: libplexmobile.so holds the Go
#    client, gobind's Go and Objective-C glue (seq_darwin.m, the class
#    implementations);
# 4. clang compiles PlexObjCTest.m against the patched headers and links it
#    with libplexmobile.so, GNUstep Base and libobjc.
#
# Needs: go, clang, libgnustep-base-dev (pulls in libobjc-12-dev), perl.
set -euo pipefail
die() { echo "objc-runtime-test/build.sh: $*" >&2; exit 1; }
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE/../../.."
command -v clang >/dev/null || die "clang not found (apt-get install clang: scripts/deps.sh)"
[ -f /usr/include/GNUstep/Foundation/Foundation.h ] ||
  die "GNUstep Base headers not found (apt-get install libgnustep-base-dev: scripts/deps.sh)"
OBJC_INC="$(gcc -print-file-name=include)/objc" # GCC's libobjc headers (libobjc-NN-dev)
[ -f "$OBJC_INC/runtime.h" ] || die "$OBJC_INC/runtime.h not found (libobjc-*-dev)"

B=_build/ios/objcrt
rm -rf "$B"
mkdir -p "$B/bin" "$B/inc" "$B/gobind" "$B/lib"
ln -s "$OBJC_INC" "$B/inc/objc" # only objc/: clang keeps its own stddef.h & co

# 1. what gomobile bind -target=ios generates
go build -o "$B/bin/gobind" golang.org/x/mobile/cmd/gobind
GOOS=ios CGO_ENABLED=1 "$B/bin/gobind" -lang=go,objc -tags=ios -outdir "$B/gen" ./sdk/mobile

# 2. darwin-only names -> buildable on linux; Apple flags out; runtime adaptations
cp "$B"/gen/src/gobind/* "$B/gobind/"
for f in "$B"/gobind/*_darwin.go "$B"/gobind/*_darwin.m; do mv "$f" "${f/_darwin./_gnustep.}"; done
perl -0pi -e 's/^#cgo CFLAGS: -x objective-c -fobjc-arc -fmodules -fblocks -Werror$/#cgo CFLAGS: -x objective-c -D__GOBIND_DARWIN__/m or die "seq_darwin.go: #cgo CFLAGS changed\n";
              s/^#cgo LDFLAGS: -framework Foundation$/#cgo LDFLAGS: -lgnustep-base -lobjc/m or die "seq_darwin.go: #cgo LDFLAGS changed\n"' \
  "$B/gobind/seq_gnustep.go"
perl "$HERE/patch-gobind.pl" "$B/gobind"
cp "$HERE/gnustep_compat.m" "$B/gobind/" # what GNUstep Base lacks (see the file)
gofmt -w "$B/gen" "$B/gobind" # keep `gofmt -l .` of the tree clean (scripts/test.sh)

# GNUstep Base on GCC's runtime, as gnustep-config --objc-flags says, for clang.
# -w: gobind's glue is written for ARC; under manual reference counting it
# draws warnings (no [super dealloc], …) that say nothing about this build.
OBJCFLAGS="-fobjc-runtime=gcc -fconstant-string-class=NSConstantString -fexceptions -fobjc-exceptions
  -D_NATIVE_OBJC_EXCEPTIONS -DGNUSTEP -DGNUSTEP_BASE_LIBRARY=1 -DGNU_RUNTIME=1 -pthread
  -I/usr/include/GNUstep -I$PWD/$B/inc"

# 3. the Go side and gobind's glue -> libplexmobile.so
CC=clang CGO_ENABLED=1 CGO_CFLAGS="-O1 -g -w $OBJCFLAGS" CGO_LDFLAGS="-pthread" \
  go build -buildmode=c-shared -o "$B/lib/libplexmobile.so" "./$B/gobind"

# 4. the test program (-Wno-objc-property-no-attribute: gobind's headers rely on
#    ARC's default `strong` for object properties)
clang -O1 -g -Wall -Werror -Wno-objc-property-no-attribute $OBJCFLAGS -I"$B/gobind" \
  "$HERE/PlexObjCTest.m" -o "$B/bin/plex-objc-test" \
  -L"$B/lib" -Wl,-rpath,"$PWD/$B/lib" -lplexmobile -lgnustep-base -lobjc
echo "objc-runtime-test/build.sh: built $B/bin/plex-objc-test"
