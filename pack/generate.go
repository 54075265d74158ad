package pack

// Regenerate internal/wirepb from plex.proto with Debian's protoc and the
// protoc-gen-go pinned in go.mod (the tool directive), so the output is
// byte-for-byte reproducible: scripts/test.sh checks that it is.
//go:generate sh -c "go build -o \"${TMPDIR:-/tmp}/plex-protoc-gen-go\" google.golang.org/protobuf/cmd/protoc-gen-go && protoc --plugin=protoc-gen-go=\"${TMPDIR:-/tmp}/plex-protoc-gen-go\" --go_out=. --go_opt=module=github.com/plexpush/plex/pack plex.proto"
