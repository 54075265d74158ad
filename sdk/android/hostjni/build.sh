#!/usr/bin/env bash
# Builds gomobile's Java binding of sdk/mobile for the HOST JVM (linux), so
# that CI can test it with JUnit on a plain JDK: no Android SDK/NDK needed.
# Recipe: docs/android.md "Host-JVM tests" (from the team's verified notes).
#
#   sdk/android/hostjni/build.sh        (from the repository root)
#
# Output in $OUT (default _build/android/hostjni, git-ignored):
#   lib/libgojni.so        the Go side + gobind's JNI glue, built for linux
#   bindings-host.jar      the generated Java classes (io.plexpush.plexmobile.*, go.*)
#   android-stubs.jar      compile-only stubs of the few Android classes used
#   gen/                   gobind's raw output (what `gomobile bind` generates)
set -euo pipefail
die() { echo "hostjni/build.sh: $*" >&2; exit 1; }
[ -f go.mod ] && grep -q '^module github.com/plexpush/plex$' go.mod || die "run from the repository root"
command -v javac >/dev/null || die "javac not found: install openjdk-17-jdk-headless (scripts/deps.sh)"
command -v gcc >/dev/null || die "gcc not found (cgo builds libgojni.so)"
: "${JAVA_HOME:=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"
[ -f "$JAVA_HOME/include/jni.h" ] || die "no jni.h under JAVA_HOME=$JAVA_HOME (need a JDK, not a JRE)"
SHIM="$(cd "$(dirname "$0")" && pwd)"
OUT="${OUT:-_build/android/hostjni}" # relative: the generated package must be inside the module
JAVAPKG="${JAVAPKG:-io.plexpush}"
PKG=./sdk/mobile
rm -rf "$OUT"
mkdir -p "$OUT/gobind" "$OUT/shimlib" "$OUT/classes" "$OUT/stub-classes" "$OUT/bin" "$OUT/lib"

# 1. Generate exactly what `gomobile bind -target=android` generates: same
#    GOOS and tags. gobind is built for the host first (the version pinned
#    by go.mod's tool directive), then run with GOOS=android.
go build -o "$OUT/bin/gobind" golang.org/x/mobile/cmd/gobind
GOOS=android CGO_ENABLED=1 "$OUT/bin/gobind" -lang=go,java -tags=android \
  -javapkg="$JAVAPKG" -outdir "$OUT/gen" "$PKG"
gofmt -w "$OUT/gen" # gobind's Go is not gofmt'ed: keep `gofmt -l .` of the tree clean (scripts/test.sh)
if grep -rn "skipped" "$OUT/gen/java"; then
  die "gobind skipped part of the API (above): only bindable types may be exported"
fi

# 2. The JNI glue is Android-only by file name (*_android.go/.c): rename the
#    .go and .c files so GOOS=linux keeps them. The .h files keep their
#    names: they are #included by name.
cp "$OUT"/gen/src/gobind/* "$OUT/gobind/"
for f in "$OUT"/gobind/*_android.go "$OUT"/gobind/*_android.c; do mv "$f" "${f/_android./_jni.}"; done

# 3. libgojni.so against the JDK's jni.h and the <android/log.h> shim.
#    -D__GOBIND_ANDROID__: the headers include the JNI parts only with it.
#    -Wno-incompatible-pointer-types: the NDK's AttachCurrentThread takes
#    JNIEnv**, OpenJDK's void** (gobind's glue sets -Werror).
#    An empty liblog.a satisfies '#cgo LDFLAGS: -llog' (the -L path must be
#    absolute: the linker runs in a temporary directory).
ar rc "$OUT/shimlib/liblog.a"
CGO_ENABLED=1 \
CGO_CFLAGS="-D__GOBIND_ANDROID__ -Wno-incompatible-pointer-types -I$JAVA_HOME/include -I$JAVA_HOME/include/linux -I$SHIM/include" \
CGO_LDFLAGS="-L$PWD/$OUT/shimlib" \
  go build -buildmode=c-shared -o "$OUT/lib/libgojni.so" "./$OUT/gobind"

# 4. The generated Java + the Context stub (go/Seq.java imports it), as Java
#    8 bytecode like gomobile's own javac step; then the other stubs.
javac -nowarn --release 8 -d "$OUT/classes" \
  $(find "$OUT/gen/java" -name '*.java') "$SHIM/java/android/content/Context.java"
jar cf "$OUT/bindings-host.jar" -C "$OUT/classes" .
javac -nowarn --release 8 -d "$OUT/stub-classes" $(find "$SHIM/java" -name '*.java')
jar cf "$OUT/android-stubs.jar" -C "$OUT/stub-classes" .
echo "hostjni: built $OUT/lib/libgojni.so and $OUT/bindings-host.jar"
