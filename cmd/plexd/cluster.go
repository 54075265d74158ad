package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/cluster/embedded"
	"github.com/plexpush/plex/server"
)

// clusterNode is plexd's NATS side: the embedded NATS server (default) or
// the connection to an external NATS system (-nats), and the cluster's Bus
// and Store given to the server. One code path serves one node and many.
type clusterNode struct {
	c       *cluster.Cluster
	nc      *nats.Conn
	ns      *embedded.Server // nil with -nats
	unlock  func()           // releases the data directory
	tempDir string           // removed on close (no durable identity)
	dir     string           // the data directory, when it outlives the process
	where   string           // for the startup banner
	watch   *storeWatch      // embedded only: recovers JetStream from a full disk
	natsDir string           // embedded only: the NATS server's files
	// selfPeers are the -cluster-peers found to be this node under
	// another spelling than -cluster-listen (not counted as replicas)
	selfPeers map[string]bool
}

// startCluster connects plexd to NATS and sets cfg.Bus and cfg.Store.
//
// Without -nats it runs a NATS server inside the process (no listener: the
// node talks to it in-process) with JetStream files under the data
// directory, so that stored pushes survive a restart. The data directory
// is -data-dir, or by default <host>_<port> of -addr under the checkout's
// _build/plexd or <user cache dir>/plexd (defaultDataBase); with a random
// port (-addr …:0) the node has no identity to come back to, so the
// default is a temporary directory removed at exit.
//
// With -nats it joins an external NATS system; when NATS cannot be reached
// the node starts anyway (/readyz false, pushes that cannot be routed
// fail) and keeps retrying.
func startCluster(ctx context.Context, o *options, cfg *server.Config, log *slog.Logger) (*clusterNode, error) {
	if cfg.NodeID == "" { // chosen here so that NATS and the logs know it too
		var b [6]byte
		_, _ = rand.Read(b[:])
		cfg.NodeID = "node-" + hex.EncodeToString(b[:])
	}
	syncAlways, syncInterval, err := o.jetStreamSync()
	if err != nil {
		return nil, err
	}
	cn := &clusterNode{}
	switch o.Store {
	case "memory":
		// no NATS at all: the server's memory store, this node alone
		cn.where = "memory (stored pushes are lost on restart; no cluster)"
		return cn, nil
	case "nats":
	default:
		return nil, fmt.Errorf("-store %q: want nats or memory", o.Store)
	}
	ok := false
	defer func() {
		if !ok {
			cn.close()
		}
	}()
	connOpts := []nats.Option{
		nats.Name("plexd " + cfg.NodeID),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(250*time.Millisecond, time.Second),
		nats.PingInterval(5 * time.Second), // a silent server is dropped within ~15s
		nats.MaxPingsOutstanding(3),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS connection lost; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS reconnected", "server", nc.ConnectedUrlRedacted())
		}),
		// a server error such as "maximum control line exceeded" costs a
		// reconnect, not the connection (which nats.go would close for good)
		cluster.ReconnectOnServerError(),
	}
	if o.NATS == "" {
		dir, err := cn.dataDir(o)
		if err != nil {
			return nil, err
		}
		if cn.unlock, err = lockDir(dir); err != nil {
			return nil, err
		}
		cn.natsDir = filepath.Join(dir, "nats")
		ecfg := embedded.Config{StoreDir: cn.natsDir, Name: "plexd", Logger: natsLogger(log),
			SyncAlways: syncAlways, SyncInterval: syncInterval, MaxStore: o.StoreMaxBytes}
		var routeTLS *tls.Config
		var watch *routeWatch
		if o.clustered() {
			var fresh bool
			if ecfg.Name, fresh, err = serverName(dir); err != nil {
				return nil, err
			}
			if err := checkDataDir(dir, cn.natsDir, ecfg.Name, fresh); err != nil {
				return nil, err
			}
			if routeTLS, err = o.routeTLS(); err != nil {
				return nil, err
			}
			watch = newRouteWatch(log)
			ecfg.ClusterName, ecfg.ClusterListen, ecfg.Routes = o.ClusterName, o.ClusterListen, o.peers()
			ecfg.ClusterSecret, ecfg.ClusterTLS, ecfg.RouteRefused = routeSecret(o.InnerSecret), routeTLS, watch.refused
			cn.where += ", NATS cluster " + o.ClusterName + " (routes on " + o.ClusterListen + tlsNote(routeTLS) + ", peers " + strings.Join(o.peers(), ",") + ")"
		}
		if cn.ns, err = embedded.Start(ecfg); err != nil {
			return nil, err
		}
		if cn.nc, err = cn.ns.Connect(connOpts...); err != nil {
			return nil, fmt.Errorf("embedded NATS: %w", err)
		}
		if o.clustered() {
			id := clusterIdent{Server: ecfg.Name, Node: cfg.NodeID, Cluster: o.ClusterName, Prefix: o.NATSPrefix}
			if err := serveIdent(cn.nc, id); err != nil {
				return nil, fmt.Errorf("embedded NATS: %w", err)
			}
			if cn.selfPeers, err = checkPeers(ctx, o, cn.ns, cn.nc, routeTLS, watch.ch, log); err != nil {
				return nil, err
			}
		}
	} else {
		if o.NATSCreds != "" {
			connOpts = append(connOpts, nats.UserCredentials(o.NATSCreds))
		}
		if o.NATSTLSCA != "" {
			connOpts = append(connOpts, nats.RootCAs(o.NATSTLSCA))
		}
		if o.NATSTLSCert != "" || o.NATSTLSKey != "" {
			connOpts = append(connOpts, nats.ClientCert(o.NATSTLSCert, o.NATSTLSKey))
		}
		connOpts = append(connOpts, nats.RetryOnFailedConnect(true))
		if cn.nc, err = nats.Connect(o.NATS, connOpts...); err != nil {
			return nil, fmt.Errorf("-nats: %w", err)
		}
		cn.where = "NATS " + redactURLs(o.NATS)
	}
	replicas := o.NATSReplicas
	if replicas == 0 && o.clustered() {
		// as many as the nodes named (at most 3), whether or not they are
		// up yet: the first node must not create single-replica streams
		replicas = min(3, 1+len(otherPeers(o.ClusterListen, o.peers(), cn.selfPeers)))
	}
	cn.c, err = cluster.New(cluster.Config{
		Conn:       cn.nc,
		Prefix:     o.NATSPrefix,
		Replicas:   replicas,
		MaxPerUser: o.StoreMaxPerUser,
		Heartbeat:  o.NodeHeartbeat,
		Standalone: cn.ns != nil && !o.clustered(), // alone: no peer can join
		Logger:     log,
	})
	if err != nil {
		return nil, err
	}
	// Open the stream and buckets now: a broken store fails the start of a
	// single node, and an unreachable external NATS is reported at once.
	octx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = cn.c.Open(octx)
	cancel()
	switch {
	case err != nil && cn.ns != nil && !o.clustered():
		return nil, fmt.Errorf("embedded NATS JetStream: %w", err)
	case err != nil && o.clustered():
		// JetStream needs a quorum of the named nodes: serve meanwhile
		// (readyz false, transient pushes routed as peers join)
		log.Warn("NATS cluster not ready yet (JetStream needs a majority of the nodes); serving, readyz false until it is", "err", err)
	case err != nil:
		log.Error("NATS unreachable; serving without routing until it is (readyz false)", "nats", redactURLs(o.NATS), "err", err)
	}
	cfg.Bus, cfg.Store = cn.c.Bus(), cn.c.Store()
	if cn.ns != nil {
		cn.watch = startStoreWatch(cn, cn.natsDir, log)
	}
	ok = true
	return cn, nil
}

// dataDir returns the directory of the embedded NATS server's files.
func (cn *clusterNode) dataDir(o *options) (string, error) {
	if o.DataDir != "" {
		cn.where, cn.dir = "data "+o.DataDir, o.DataDir
		return o.DataDir, os.MkdirAll(o.DataDir, 0o700)
	}
	host, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return "", fmt.Errorf("-addr: %w", err)
	}
	if port == "0" {
		sweepTempDirs()
		dir, err := os.MkdirTemp("", tempPrefix)
		if err != nil {
			return "", err
		}
		cn.tempDir = dir
		cn.where = "data " + dir + " (temporary: -addr has a random port; set -data-dir to keep stored pushes across restarts)"
		return dir, nil
	}
	base, whose, err := defaultDataBase()
	if err != nil {
		return "", err
	}
	if host == "" {
		host = "any"
	}
	dir := filepath.Join(base, strings.NewReplacer(":", "_", "[", "", "]", "", "%", "_").Replace(host)+"_"+port)
	cn.where, cn.dir = "data "+dir+whose, dir
	return dir, os.MkdirAll(dir, 0o700)
}

// close closes the connection, then the embedded server, then releases
// the data directory. Call it after the server shut down.
func (cn *clusterNode) close() {
	if cn.watch != nil {
		cn.watch.close()
	}
	if cn.nc != nil {
		cn.nc.Close()
	}
	if cn.ns != nil {
		cn.ns.Shutdown()
	}
	if cn.unlock != nil {
		cn.unlock()
	}
	if cn.tempDir != "" {
		_ = os.RemoveAll(cn.tempDir)
	}
}

// tempPrefix names the temporary data directories (random -addr port).
const tempPrefix = "plexd-"

// sweepTempDirs removes the temporary data directories of plexd processes
// that died without removing theirs (SIGKILL): those whose lock is free.
// A directory without a lock file may be one being set up; it is left
// alone unless it is older than a minute.
func sweepTempDirs() {
	if !canLock {
		return
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "plexd.lock")); err != nil && time.Since(fi.ModTime()) < time.Minute {
			continue
		}
		unlock, err := lockDir(dir)
		if err != nil {
			continue // in use
		}
		_ = os.RemoveAll(dir)
		unlock()
	}
}

// natsLogger keeps the embedded server's notices at debug level: plexd
// reports what matters about NATS itself.
func natsLogger(log *slog.Logger) *slog.Logger {
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return nil
	}
	return log
}

// tlsNote marks TLS routes in the banner.
func tlsNote(tc *tls.Config) string {
	if tc == nil {
		return ""
	}
	return " with TLS"
}

// redactURLs drops credentials from NATS URLs for logs.
func redactURLs(list string) string {
	var out []string
	for _, u := range strings.Split(list, ",") {
		u = strings.TrimSpace(u)
		if at := strings.LastIndex(u, "@"); at >= 0 {
			if i := strings.Index(u, "://"); i >= 0 && i < at {
				u = u[:i+3] + "REDACTED@" + u[at+1:]
			} else {
				u = "REDACTED@" + u[at+1:]
			}
		}
		out = append(out, u)
	}
	return strings.Join(out, ",")
}

// errDirLocked: another plexd uses the data directory.
var errDirLocked = errors.New("data directory in use by another plexd")

// otherPeers returns the peers that are not self (a node may list itself,
// under its -cluster-listen or, found at start, another spelling).
func otherPeers(self string, peers []string, alsoSelf map[string]bool) []string {
	var out []string
	for _, p := range peers {
		if p != self && !alsoSelf[p] {
			out = append(out, p)
		}
	}
	return out
}
