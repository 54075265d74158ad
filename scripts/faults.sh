#!/usr/bin/env bash
# Fault scenarios as real processes on loopback (docs/operations.md §5),
# the ones the Go tests cannot run in one process. Each prints what
# plexbench measured and fails on a behaviour, never on a timing:
#
#   frozen  three plexd nodes on one NATS, one PlexClient over all three,
#           30 senders; one node is stopped (SIGSTOP) for 8 s, then continued.
#           Pushes must keep being acknowledged through the other two while
#           it is frozen, none may fail outright (only the pushes the frozen
#           node held may end unknown: at most one per sender).
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/plexd" ./cmd/plexd
go build -o "$tmp/plexbench" ./cmd/plexbench

out=$("$tmp/plexbench" -plexd "$tmp/plexd" -nodes 3 -conns 1000 -runs 1 -timeout 60s frozen 2>/dev/null | grep '^frozen ')
echo "$out"
field() { sed -n "s/.* $1=\([^ /]*\).*/\1/p" <<<"$out"; }
rate=$(field rate_frozen)
unknown=$(field unknown)
failed=$(field failed)
senders=$(field senders)
fail=0
if [ "${rate%.*}" -le 0 ]; then echo "FAIL frozen: no push acknowledged through the other nodes while one was frozen"; fail=1; fi
if [ "$failed" -ne 0 ]; then echo "FAIL frozen: $failed pushes failed outright"; fail=1; fi
if [ "$unknown" -gt "$senders" ]; then echo "FAIL frozen: $unknown pushes ended unknown, more than one per sender"; fail=1; fi
exit $fail
