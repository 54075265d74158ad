#!/usr/bin/env bash
# The one test command (README): installs what it needs, then runs every
# check and test of the repository. Fails on the first failing step.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n=== %s (%ss)\n' "$1" "$SECONDS"; }

step deps
scripts/deps.sh

step gofmt
unformatted=$(gofmt -l $(git ls-files '*.go' | grep -v '^_build/') || true)
[ -z "$unformatted" ] || { echo "gofmt needed: $unformatted"; exit 1; }

step "go vet"
go vet ./...

step staticcheck
go tool staticcheck ./...

step "generated code is current"
scripts/check-generated.sh

step "go test -race"
go test -race -count=1 -timeout 10m ./...

step "fuzz smoke"
scripts/fuzz-smoke.sh

step "C++ SDK (ctest, then ASan/UBSan)"
bash sdk/cpp/ci.sh

step "Android binding on the host JVM (gobind + libgojni.so + JUnit 5)"
bash sdk/android/ci.sh

step "iOS API snapshot (gobind -lang=objc)"
bash sdk/ios/ci.sh

step "web: headless Chromium end-to-end"
bash web/e2e/ci.sh

echo
echo "all tests passed in ${SECONDS}s"
