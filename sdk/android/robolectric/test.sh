#!/usr/bin/env bash
# Runs the Android parts of the Java wrapper (MainThreadExecutor, LogcatLogger)
# and the sample Activity's lifecycle under Robolectric: real Android
# framework classes (Looper, Handler, Log, Activity) on the host JVM, with the
# host-built binding (libgojni.so) and a real plexd. JUnit 4 tests
# (RobolectricTestRunner), run by the JUnit 5 console's vintage engine.
# Run from the repository root after hostjni/build.sh; sdk/android/ci.sh
# does both.
#
#   PLEXD=_build/android/plexd sdk/android/robolectric/test.sh
#
# Maven resolves Robolectric and the android-all jar it runs (pom.xml beside
# this file) into the local Maven repository; Robolectric then runs offline
# (robolectric.offline), so a test never downloads anything itself.
# Fails when any test fails or when no test ran.
set -euo pipefail
die() { echo "robolectric/test.sh: $*" >&2; exit 1; }
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${OUT:-_build/android/hostjni}"
R="${R:-_build/android/robolectric}"
PLEXD="${PLEXD:-_build/android/plexd}"
J=/usr/share/java
command -v mvn >/dev/null || die "mvn not found: apt-get install maven"
for f in "$OUT/classes" "$OUT/lib/libgojni.so" "$PLEXD"; do
  [ -e "$f" ] || die "$f missing: run sdk/android/ci.sh (or hostjni/build.sh) first"
done
[ -f "$J/junit-platform-console-standalone.jar" ] || die "JUnit 5 missing: apt-get install junit5 (scripts/deps.sh)"
rm -rf "$R"
mkdir -p "$R/bindings" "$R/main-classes" "$R/test-classes" "$R/reports"

# 1. Robolectric 4.17, JUnit 4 and android-all-instrumented (SDK 34), via Maven.
mvn -B -q -f "$HERE/pom.xml" dependency:build-classpath -Dmdep.outputFile="$PWD/$R/classpath.txt" \
  || die "Maven could not resolve sdk/android/robolectric/pom.xml (first error above)"
# An .aar (androidx.test's monitor, which Robolectric uses) is a zip with
# its classes in classes.jar: put that on the classpath instead, as
# Android's Gradle plugin does.
CP_ALL=""
for f in $(tr ':' '\n' <"$R/classpath.txt"); do
  if [[ "$f" == *.aar ]]; then
    d="$R/aar/$(basename "$f" .aar)"
    mkdir -p "$d"
    (cd "$d" && jar xf "$f" classes.jar)
    f="$PWD/$d/classes.jar"
  fi
  CP_ALL="${CP_ALL:+$CP_ALL:}$f"
done
ANDROID_ALL="$(tr ':' '\n' <<<"$CP_ALL" | grep '/android-all-instrumented-[^/]*\.jar$')" \
  || die "android-all-instrumented is not on the resolved classpath"
# The tests' sandbox loads the framework from robolectric.dependency.dir;
# the jar is on the outer classpath too, as android.jar is in a Gradle unit
# test: Robolectric's own annotations name android.app.Application.

# 2. The binding's classes without the host-only android.content.Context stub
#    (the real one comes from the framework), then the wrapper and the sample
#    compiled against the real framework (android-all): their Android calls
#    must exist with these signatures, not only in the compile stubs.
cp -r "$OUT/classes/." "$R/bindings/"
rm -rf "$R/bindings/android"
javac -Xlint:all,-options,-classfile -Werror --release 8 -d "$R/main-classes" -cp "$R/bindings:$CP_ALL" \
  $(find sdk/android/plex/src/main/java sdk/android/sample/src/main/java -name '*.java')
javac -Xlint:all,-options,-classfile -Werror -d "$R/test-classes" \
  -cp "$R/main-classes:$R/bindings:$CP_ALL" \
  $(find "$HERE/test" -name '*.java') sdk/android/hostjni/test/io/plexpush/hostjni/PlexNode.java

# 3. Run. No -Xcheck:jni (see hostjni/test.sh). Everything on the console
#    launcher's -cp, not the JVM's: with the instrumented framework jar on the
#    system class path, Robolectric's sandbox would get some of its classes
#    (org.conscrypt) from there, uninstrumented-for-it, and fail.
exec java -Djava.library.path="$OUT/lib" -Dplex.plexd="$(readlink -f "$PLEXD")" \
  -Drobolectric.offline=true -Drobolectric.dependency.dir="$(dirname "$ANDROID_ALL")" \
  -jar "$J/junit-platform-console-standalone.jar" \
  --disable-banner --disable-ansi-colors --details=tree \
  --reports-dir="$R/reports" \
  -cp "$R/test-classes:$R/main-classes:$R/bindings:$CP_ALL" \
  --fail-if-no-tests --include-engine=junit-vintage ${JUNIT_SELECT:---scan-classpath "$R/test-classes"}
