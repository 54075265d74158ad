#!/usr/bin/env bash
# End-to-end tests of the browser client and the operator console in
# headless Chromium against a real plexd (docs/web.md). Standalone: it
# installs what it needs (Debian's chromium, npm ci for playwright-core,
# which never downloads a browser of its own), builds plexd and the pusher
# (the Go PlexClient), and runs web/e2e/e2e.test.mjs with node's test
# runner, with the browser-free unit tests (limits.test.mjs,
# resume.test.mjs). Screenshots of failures go to _build/e2e-artifacts.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)

if ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm ci --no-audit --no-fund --loglevel=error

bin="$root/_build/e2e"
mkdir -p "$bin"
(cd "$root" && go build -o "$bin/plexd" ./cmd/plexd && go build -o "$bin/pusher" ./web/e2e/pusher)

export PLEXD="$bin/plexd" PUSHER="$bin/pusher" CHROMIUM="$(command -v chromium)"
export ARTIFACTS="$root/_build/e2e-artifacts"
rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"
node --test e2e.test.mjs limits.test.mjs resume.test.mjs behaviour.test.mjs webpush.test.mjs
