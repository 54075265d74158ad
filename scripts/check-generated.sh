#!/usr/bin/env bash
# Regenerates committed generated code and fails if it differs.
set -euo pipefail
cd "$(dirname "$0")/.."
go generate ./pack/...
git diff --exit-code -- pack/internal/wirepb || { echo "generated code is stale: run go generate ./pack/..."; exit 1; }
