#!/usr/bin/env bash
# Builds the Android library of sdk/mobile with gomobile:
#   sdk/android/plex/libs/plexmobile.aar      (classes io.plexpush.plexmobile.*, jni/<abi>/libgojni.so)
#   sdk/android/plex/libs/plexmobile-sources.jar
# Needs the Android SDK (platform android-$ANDROID_API or newer) and NDK,
# plus Go and a JDK; gomobile and gobind come from go.mod's tool directive.
# Run from anywhere. Environment:
#   ANDROID_HOME (or ANDROID_SDK_ROOT)  the SDK; required
#   ANDROID_NDK_HOME                    the NDK (default: the newest under $ANDROID_HOME/ndk)
#   ANDROID_API                         minimum API level (default 21)
#   TARGETS                             gomobile -target (default android: arm, arm64, 386, amd64)
#   OUT                                 output .aar (default sdk/android/plex/libs/plexmobile.aar)
set -euo pipefail
die() { echo "build-aar.sh: $*" >&2; exit 1; }
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/sdk/android/plex/libs/plexmobile.aar}"
API="${ANDROID_API:-21}"
SDK="${ANDROID_HOME:-${ANDROID_SDK_ROOT:-}}"

[ -n "$SDK" ] || die "ANDROID_HOME is not set. Install the Android SDK (Android Studio, or cmdline-tools:
  sdkmanager 'platforms;android-34' 'ndk;26.3.11579264') and export ANDROID_HOME=<sdk dir>.
  This machine cannot build the .aar; CI tests the same binding on the host JVM (sdk/android/ci.sh)."
[ -d "$SDK" ] || die "ANDROID_HOME=$SDK is not a directory"
if [ -z "${ANDROID_NDK_HOME:-}" ] && [ -d "$SDK/ndk" ]; then
  ANDROID_NDK_HOME="$(ls -d "$SDK"/ndk/*/ 2>/dev/null | sort -V | tail -n1 | sed 's:/$::')"
fi
[ -n "${ANDROID_NDK_HOME:-}" ] && [ -d "$ANDROID_NDK_HOME" ] \
  || die "no Android NDK found: install one (sdkmanager 'ndk;26.3.11579264') or set ANDROID_NDK_HOME"
ls -d "$SDK"/platforms/android-* >/dev/null 2>&1 \
  || die "no SDK platform under $SDK/platforms (gomobile compiles against android.jar): sdkmanager 'platforms;android-34'"
command -v javac >/dev/null || die "javac not found: install a JDK (17)"
export ANDROID_HOME="$SDK" ANDROID_NDK_HOME

mkdir -p "$(dirname "$OUT")"
# gomobile runs gobind from PATH: put the pinned one there.
BIN="$ROOT/_build/android/bin"
mkdir -p "$BIN"
go build -o "$BIN/gobind" golang.org/x/mobile/cmd/gobind
go build -o "$BIN/gomobile" golang.org/x/mobile/cmd/gomobile
PATH="$BIN:$PATH" gomobile bind -target="${TARGETS:-android}" -androidapi "$API" \
  -javapkg io.plexpush -o "$OUT" ./sdk/mobile
echo "built $OUT"
