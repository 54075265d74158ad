#!/usr/bin/env bash
# Compiles and runs the host-JVM JUnit 5 tests (sdk/android/hostjni/test)
# against the binding built by build.sh, the Java wrapper and a real plexd.
# Run from the repository root after build.sh; sdk/android/ci.sh does both.
#
#   PLEXD=_build/android/plexd WRAPPER_JAR=_build/android/plex-wrapper.jar sdk/android/hostjni/test.sh
#
# Fails when any test fails or when no test ran.
set -euo pipefail
die() { echo "hostjni/test.sh: $*" >&2; exit 1; }
OUT="${OUT:-_build/android/hostjni}"
J=/usr/share/java
PLEXD="${PLEXD:-_build/android/plexd}"
WRAPPER_JAR="${WRAPPER_JAR:-_build/android/plex-wrapper.jar}"
for f in "$OUT/bindings-host.jar" "$OUT/lib/libgojni.so" "$PLEXD" "$WRAPPER_JAR"; do
  [ -e "$f" ] || die "$f missing: run sdk/android/ci.sh (or build.sh and the wrapper build) first"
done
for j in junit-jupiter-api junit-platform-console-standalone apiguardian-api opentest4j; do
  [ -f "$J/$j.jar" ] || die "$J/$j.jar missing: apt-get install junit5 (scripts/deps.sh)"
done
rm -rf "$OUT/test-classes"
mkdir -p "$OUT/test-classes" "$OUT/reports"
javac -Xlint:all -Werror -d "$OUT/test-classes" \
  -cp "$OUT/bindings-host.jar:$WRAPPER_JAR:$J/junit-jupiter-api.jar:$J/apiguardian-api.jar:$J/opentest4j.jar" \
  $(find "$(dirname "$0")/test" -name '*.java')
# No -Xcheck:jni: gobind's C glue trips thousands of harmless warnings there.
exec java -Djava.library.path="$OUT/lib" -Dplex.plexd="$(readlink -f "$PLEXD")" \
  -jar "$J/junit-platform-console-standalone.jar" \
  --disable-banner --disable-ansi-colors --details=tree \
  --reports-dir="$OUT/reports" \
  -cp "$OUT/test-classes:$OUT/bindings-host.jar:$WRAPPER_JAR" \
  --fail-if-no-tests ${JUNIT_SELECT:---scan-classpath "$OUT/test-classes"}
