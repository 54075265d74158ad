#!/usr/bin/env bash
# The Android CI check, runnable on a plain Linux machine with Go, gcc and
# a JDK (+ Debian's junit5): no Android SDK or NDK. From anywhere:
#
#   bash sdk/android/ci.sh
#
# 1. pure-Go cross build of sdk/mobile for android/arm64 (catches
#    platform-specific compile errors);
# 2. build-aar.sh refuses clearly without an Android SDK;
# 3. plexd, the node the tests talk to;
# 4. the gomobile Java binding, built for the host JVM (hostjni/build.sh);
# 5. the Java wrapper library and the sample app, compiled against that
#    binding with stubs for the few Android classes they use (so they
#    cannot rot without an Android SDK);
# 6. the JUnit 5 suite (hostjni/test.sh) against a real plexd;
# 7. the Robolectric suite (robolectric/test.sh): MainThreadExecutor,
#    LogcatLogger and the sample Activity's lifecycle on real Android
#    framework classes, with the same binding and a real plexd. Maven
#    resolves Robolectric and its android-all jar (robolectric/pom.xml)
#    into the local Maven repository on the first run.
# Outputs go to _build/android (git-ignored). Fails on the first error.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=_build/android
step() { printf '\n=== android: %s (%ss)\n' "$1" "$SECONDS"; }
die() { echo "sdk/android/ci.sh: $*" >&2; exit 1; }

for tool in go gcc javac java jar mvn; do
  command -v "$tool" >/dev/null || die "$tool not found: run scripts/deps.sh (openjdk-17-jdk-headless, junit5, gcc; mvn: apt-get install maven)"
done
[ -f /usr/share/java/junit-platform-console-standalone.jar ] \
  || die "JUnit 5 missing: apt-get install junit5 (scripts/deps.sh installs it)"
mkdir -p "$B"

step "cross build sdk/mobile for android/arm64 (pure Go)"
GOOS=android GOARCH=arm64 CGO_ENABLED=0 go build -o /dev/null ./sdk/mobile

step "build-aar.sh without an Android SDK fails clearly"
if out=$(env -u ANDROID_HOME -u ANDROID_SDK_ROOT bash sdk/android/build-aar.sh 2>&1); then
  die "build-aar.sh succeeded without ANDROID_HOME"
fi
grep -q "ANDROID_HOME is not set" <<<"$out" || die "build-aar.sh: unclear failure: $out"

step "plexd"
go build -o "$B/plexd" ./cmd/plexd

step "Java binding for the host JVM (gobind + libgojni.so)"
OUT="$B/hostjni" JAVAPKG=io.plexpush bash sdk/android/hostjni/build.sh

step "wrapper library and sample app (javac against the binding + Android stubs)"
rm -rf "$B/wrapper-classes" "$B/sample-classes"
mkdir -p "$B/wrapper-classes" "$B/sample-classes"
CP="$B/hostjni/bindings-host.jar:$B/hostjni/android-stubs.jar"
javac -Xlint:all -Xlint:-options -Werror --release 8 -d "$B/wrapper-classes" -cp "$CP" \
  $(find sdk/android/plex/src/main/java -name '*.java')
jar cf "$B/plex-wrapper.jar" -C "$B/wrapper-classes" .
javac -Xlint:all -Xlint:-options -Werror --release 8 -d "$B/sample-classes" -cp "$CP:$B/plex-wrapper.jar" \
  $(find sdk/android/sample/src/main/java -name '*.java')

step "JUnit 5 against a real plexd"
OUT="$B/hostjni" PLEXD="$B/plexd" WRAPPER_JAR="$B/plex-wrapper.jar" bash sdk/android/hostjni/test.sh

step "Robolectric (JUnit 4, vintage engine): main looper, logcat, Activity lifecycle against a real plexd"
OUT="$B/hostjni" R="$B/robolectric" PLEXD="$B/plexd" bash sdk/android/robolectric/test.sh

echo
echo "android: all checks passed in ${SECONDS}s"
