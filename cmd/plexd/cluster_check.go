package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/plexpush/plex/cluster/embedded"
)

// A clustered node checks at start that it can join the peers it names
// (docs/operations.md §2a, "What a node refuses"). A disagreement that a
// reachable peer states plainly is a configuration error, and the node
// exits with a message saying which: a node that cannot join its named
// peers must not serve alone as if it were clustered (its pushes would
// reach only its own users, and it would store persistent pushes that the
// others never see). A peer that is down is not an error: nodes start in
// any order, and the store waits for a quorum (readyz false meanwhile).
// After the start, refusals are logged (the node keeps serving what it
// has): exiting then would let one misconfigured newcomer stop healthy
// nodes.

const (
	// peerCheckWait bounds the start's wait for the reachable peers to
	// take this node's routes and answer who they are. nats-server dials
	// its routes at once and redials every second, so a peer that agrees
	// answers well within it; one that never does is logged, not fatal.
	peerCheckWait = 10 * time.Second
	// peerProbeWait bounds one look at a peer's route listener (a dial and
	// its INFO line; nats-server closes a route connection that has not
	// finished its TLS handshake after 2s).
	peerProbeWait = 3 * time.Second
	// identSubject + a NATS server name: where each clustered plexd says
	// what its peers must agree on (clusterIdent).
	identSubject = "plexd.ident."
)

// clusterIdent is what peers must agree on beyond what the routes check
// (cluster name, credentials, TLS): the plex prefix of subjects, stream
// and buckets. Nodes with other prefixes would share the NATS cluster but
// never see each other's users or stored pushes.
type clusterIdent struct {
	Server  string `json:"server"`
	Node    string `json:"node"`
	Cluster string `json:"cluster"`
	Prefix  string `json:"prefix"`
}

// serveIdent answers identSubject+this server's name until nc closes.
func serveIdent(nc *nats.Conn, id clusterIdent) error {
	b, err := json.Marshal(id)
	if err != nil {
		return err
	}
	_, err = nc.Subscribe(identSubject+id.Server, func(m *nats.Msg) { _ = m.Respond(b) })
	if err != nil {
		return err
	}
	return nc.Flush()
}

// checkPeers looks at each of -cluster-peers and returns the ones that are
// this node under another spelling (not counted as replicas), or an error
// that says why this node cannot join them. It is bounded by peerCheckWait.
func checkPeers(ctx context.Context, o *options, ns *embedded.Server, nc *nats.Conn, tc *tls.Config, refusals <-chan embedded.RouteRefusal, log *slog.Logger) (map[string]bool, error) {
	peers := o.peers()
	probes := make([]embedded.Peer, len(peers))
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, peerProbeWait)
			defer cancel()
			probes[i], errs[i] = embedded.ProbePeer(pctx, p, tc)
			if errors.Is(errs[i], embedded.ErrNoInfo) {
				// once more before calling it a TLS peer: a peer that was
				// shutting down also hangs up without a greeting
				time.Sleep(500 * time.Millisecond)
				pctx, cancel := context.WithTimeout(ctx, peerProbeWait)
				defer cancel()
				probes[i], errs[i] = embedded.ProbePeer(pctx, p, tc)
			}
		})
	}
	wg.Wait()

	self := map[string]bool{}
	byID := map[string]string{} // server id → first peer address naming it
	pending := map[string]embedded.Peer{}
	for i, p := range peers {
		pr, err := probes[i], errs[i]
		var te *embedded.TLSError
		switch {
		case errors.As(err, &te):
			return nil, fmt.Errorf("-cluster-peers %s: the route TLS handshake failed (%v): every node needs -cluster-tls-cert/-cluster-tls-key with a certificate the others' -cluster-tls-ca trusts, or none of them", p, te.Err)
		case errors.Is(err, embedded.ErrNoInfo) && tc == nil:
			return nil, fmt.Errorf("-cluster-peers %s answers but sends no NATS route greeting in clear text: it requires TLS on routes (start this node with -cluster-tls-cert, -cluster-tls-key, -cluster-tls-ca), or it is not a plexd route address", p)
		case err != nil:
			log.Info("cluster peer not reachable yet; it joins when it starts", "peer", p, "err", err)
			continue
		}
		if first, dup := byID[pr.ID]; dup {
			if pr.ID == ns.ID() {
				return nil, fmt.Errorf("-cluster-peers names this node twice: %s and %s are both its own route address (-cluster-listen %s); list it once or not at all", first, p, o.ClusterListen)
			}
			return nil, fmt.Errorf("-cluster-peers names one node twice: %s and %s are the same NATS server (%s); list each node once", first, p, pr.Name)
		}
		byID[pr.ID] = p
		switch {
		case pr.ID == ns.ID():
			self[p] = true
		case pr.Name == ns.Name():
			return nil, fmt.Errorf("-cluster-peers %s runs under this node's NATS server name %q: one of the two data directories was copied from the other (the name is kept in its file nats-server-name); start one of them on an empty -data-dir so that it joins as a new node", p, pr.Name)
		case pr.Cluster != o.ClusterName:
			return nil, fmt.Errorf("-cluster-peers %s is in NATS cluster %q, this node in %q: start every node with the same -cluster-name", p, pr.Cluster, o.ClusterName)
		default:
			pending[p] = pr
		}
	}
	return self, awaitPeers(ctx, o, ns, nc, pending, refusals, log)
}

// awaitPeers waits until every reachable peer took this node's route and
// answered who it is, or refused it, or peerCheckWait passed.
func awaitPeers(ctx context.Context, o *options, ns *embedded.Server, nc *nats.Conn, pending map[string]embedded.Peer, refusals <-chan embedded.RouteRefusal, log *slog.Logger) error {
	deadline := time.Now().Add(peerCheckWait)
	for len(pending) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
	drain:
		for {
			select {
			case r := <-refusals:
				for p, pr := range pending {
					if r.Remote == pr.Addr && (r.Solicited || strings.Contains(r.Reason, "TLS")) {
						return fmt.Errorf("-cluster-peers %s refused this node's route (%s): %s", p, r.Reason, refusalHint(r.Reason))
					}
				}
			default:
				break drain
			}
		}
		for p, pr := range pending {
			if !ns.RoutedTo(pr.ID) {
				continue
			}
			m, err := nc.Request(identSubject+pr.Name, nil, 500*time.Millisecond)
			if err != nil {
				continue // its plexd has not subscribed yet, or its subscription is on its way
			}
			var id clusterIdent
			if err := json.Unmarshal(m.Data, &id); err != nil {
				return fmt.Errorf("-cluster-peers %s: unreadable identity %q: %w", p, m.Data, err)
			}
			if id.Prefix != o.NATSPrefix {
				return fmt.Errorf("-cluster-peers %s (node %s) uses -nats-prefix %q, this node %q: start every node with the same prefix, or they share NATS without seeing each other's users", p, id.Node, id.Prefix, o.NATSPrefix)
			}
			delete(pending, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for p := range pending {
		log.Warn("cluster peer reachable but not joined yet; serving, and it joins when it takes this node's route", "peer", p, "waited", peerCheckWait)
	}
	return ctx.Err()
}

// refusalHint says which setting a route refusal points at.
func refusalHint(reason string) string {
	switch {
	case strings.Contains(reason, "Authorization Violation"), strings.Contains(reason, "authentication error"):
		return "the nodes have different -inner-secret values (the routes authenticate with a hash of it)"
	case strings.Contains(reason, "cluster name"):
		return "the nodes have different -cluster-name values"
	case strings.Contains(reason, "TLS"):
		return "route TLS differs: every node needs -cluster-tls-cert/-cluster-tls-key with a certificate the others' -cluster-tls-ca trusts, or none of them"
	case strings.Contains(reason, "duplicate name"):
		return "two nodes have one NATS server name (the file nats-server-name of their data directories): one data directory was copied from the other"
	}
	return "the nodes' cluster settings differ"
}

// routeWatch receives the embedded server's route refusals: it hands them
// to the start's check (ch; dropped when nobody reads) and logs each kind
// at most once a minute (nats-server redials every second).
type routeWatch struct {
	log  *slog.Logger
	ch   chan embedded.RouteRefusal
	mu   sync.Mutex
	seen map[string]time.Time
}

func newRouteWatch(log *slog.Logger) *routeWatch {
	return &routeWatch{log: log, ch: make(chan embedded.RouteRefusal, 64), seen: map[string]time.Time{}}
}

// refused is embedded.Config.RouteRefused: it must not block.
func (w *routeWatch) refused(r embedded.RouteRefusal) {
	select {
	case w.ch <- r:
	default:
	}
	key := refusalHint(r.Reason)
	if r.Solicited {
		key += " " + r.Remote
	}
	w.mu.Lock()
	last, ok := w.seen[key]
	if !ok || time.Since(last) > time.Minute {
		if len(w.seen) > 256 {
			clear(w.seen)
		}
		w.seen[key] = time.Now()
	}
	w.mu.Unlock()
	if ok && time.Since(last) <= time.Minute {
		return
	}
	w.log.Error("a route between cluster nodes was refused: these nodes are not one cluster until their settings agree",
		"remote", r.Remote, "dialled_by_this_node", r.Solicited, "reason", r.Reason, "hint", refusalHint(r.Reason))
}

// checkDataDir refuses a data directory whose JetStream cluster state
// belongs to another NATS server name than the one in its
// nats-server-name: JetStream knows a clustered server by its name, so
// such a node would join as a stranger holding another's replicas. fresh
// says the name was generated just now (the file was missing).
func checkDataDir(dir, natsDir, name string, fresh bool) error {
	path := filepath.Join(natsDir, "jetstream", "$SYS", "_js_", "_meta_", "peers.idx")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || len(b) < 8 {
		return nil // never clustered here (or torn: JetStream rebuilds it)
	}
	if err != nil {
		return err
	}
	n := int(binary.LittleEndian.Uint32(b[4:8]))
	var known []string
	for i := 0; i < n && 8+8*(i+1) <= len(b); i++ {
		known = append(known, string(b[8+8*i:8+8*(i+1)]))
	}
	own := natsNodeID(name)
	if slices.Contains(known, own) {
		return nil
	}
	nameFile := filepath.Join(dir, serverNameFile)
	if fresh {
		_ = os.Remove(nameFile) // not this data directory's name: do not keep it
		return fmt.Errorf("data directory %s holds JetStream cluster state (%s) of the NATS server(s) %s, but its %s file is missing: put the file back (it holds the name of the node that wrote this state), or start on an empty -data-dir to join as a new node",
			dir, path, strings.Join(known, ","), serverNameFile)
	}
	return fmt.Errorf("data directory %s belongs to another NATS server: its JetStream cluster state (%s) is that of the server(s) %s, but its %s says %q (id %s): the file was changed, or the jetstream directory was copied from another node; put back the name that wrote this state, or start on an empty -data-dir to join as a new node",
		dir, path, strings.Join(known, ","), serverNameFile, name, own)
}

// natsNodeID is the id by which JetStream's clustering knows a server
// name: nats-server's getHash (8 characters of base62 over its SHA-256).
func natsNodeID(name string) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(name))
	out := make([]byte, 8)
	for i := range out {
		out[i] = digits[int(sum[i]%62)]
	}
	return string(out)
}
