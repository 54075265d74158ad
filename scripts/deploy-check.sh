#!/usr/bin/env bash
# Checks deploy/ offline (docs/operations.md, Deploying): the Dockerfile's
# go build line makes a static binary that runs, the NATS config of the
# compose file parses, the compose file is valid (when docker compose
# runs here), and the systemd unit verifies (when systemd-analyze is
# here). Building the image needs a container daemon and its base images
# from a registry: not done here. Names of PLEX_* settings and the
# dashboard's metrics are checked by go test (cmd/plexd).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The Dockerfile's own build line, its output moved to $tmp. GOFLAGS as in
# the golang image (none: VCS stamping on), whatever this machine sets.
build=$(grep -E '^RUN CGO_ENABLED=0 go build ' deploy/Dockerfile | head -1 | sed -e 's/^RUN //')
[ -n "$build" ] || { echo "deploy/Dockerfile: no 'RUN CGO_ENABLED=0 go build' line"; exit 1; }
build=${build//\/out\/plexd/$tmp\/plexd}
echo "deploy: $build"
GOFLAGS=-buildvcs=auto eval "$build"
if ldd "$tmp/plexd" >/dev/null 2>&1; then
  echo "deploy: the Dockerfile's plexd is dynamically linked; it cannot run on scratch:"; ldd "$tmp/plexd"; exit 1
fi
if command -v file >/dev/null && ! file "$tmp/plexd" | grep -q 'statically linked'; then
  echo "deploy: file does not call the Dockerfile's plexd static:"; file "$tmp/plexd"; exit 1
fi
echo "deploy: static binary: $("$tmp/plexd" -version)"

# deploy/nats.conf, by the nats-server of go.mod (the one plexd embeds).
go build -o "$tmp/nats-server" github.com/nats-io/nats-server/v2
"$tmp/nats-server" -t -c deploy/nats.conf --name nats-1

# deploy/compose.yaml: needs a compose implementation, not a daemon.
compose=()
if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null; then compose=(docker-compose)
fi
if [ ${#compose[@]} -gt 0 ]; then
  PLEX_INNER_SECRET=deploy-check "${compose[@]}" -f deploy/compose.yaml config -q
  echo "deploy: compose.yaml valid (${compose[*]} config)"
else
  echo "deploy: SKIP compose.yaml validation: neither docker compose nor docker-compose runs here"
fi

# deploy/plexd.service, its ExecStart pointed at the binary just built
# (verify wants it to exist). Warnings (an unknown key) fail too.
if command -v systemd-analyze >/dev/null; then
  sed "s|^ExecStart=/usr/local/bin/plexd|ExecStart=$tmp/plexd|" deploy/plexd.service >"$tmp/plexd.service"
  grep -q "^ExecStart=$tmp/plexd" "$tmp/plexd.service" || { echo "deploy/plexd.service: no ExecStart=/usr/local/bin/plexd"; exit 1; }
  out=$(systemd-analyze verify "$tmp/plexd.service" 2>&1) || { echo "$out"; exit 1; }
  if grep -F "plexd.service" <<<"$out"; then echo "deploy/plexd.service: systemd-analyze warns (above)"; exit 1; fi
  echo "deploy: plexd.service verified (systemd-analyze)"
else
  echo "deploy: SKIP plexd.service verification: no systemd-analyze here"
fi
