package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// clusterOptions make the embedded NATS servers of several plexd nodes one
// NATS cluster (routes between them, JetStream replicated), so that going
// from one node to three needs no other software (docs/operations.md §2).
type clusterOptions struct {
	ClusterListen string // host:port for the other nodes' routes; "" = this node alone
	ClusterPeers  string // comma-separated host:port of the other nodes' -cluster-listen
	ClusterName   string // the same on every node
}

func (c *clusterOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&c.ClusterListen, "cluster-listen", "", "host:port where the embedded NATS server takes the other plexd nodes' routes; set it (and -cluster-peers) on every node to cluster them without an external NATS")
	fs.StringVar(&c.ClusterPeers, "cluster-peers", "", "comma-separated -cluster-listen addresses of the other nodes (a node may list itself)")
	fs.StringVar(&c.ClusterName, "cluster-name", "plex", "NATS cluster name, the same on every node; nodes with different names do not join")
}

// clustered reports whether the embedded server joins other nodes.
func (c *clusterOptions) clustered() bool { return c.ClusterListen != "" }

// peers returns -cluster-peers as a list.
func (c *clusterOptions) peers() []string {
	var out []string
	for _, p := range strings.Split(c.ClusterPeers, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// validate refuses settings that cannot form a cluster.
func (c *clusterOptions) validate(nats, innerSecret string) error {
	switch {
	case c.ClusterListen != "" && innerSecret == "":
		return errors.New("-cluster-listen needs -inner-secret, the same on every node: push clients use it on any node, and it authenticates the routes between nodes")
	case c.ClusterListen == "" && c.ClusterPeers != "":
		return errors.New("-cluster-peers needs -cluster-listen (this node's route address)")
	case c.ClusterListen != "" && nats != "":
		return errors.New("-cluster-listen clusters the embedded NATS server; with -nats the external NATS system is the cluster")
	case c.ClusterListen != "" && strings.TrimSpace(c.ClusterName) == "":
		return errors.New("-cluster-name must not be empty")
	}
	seen := map[string]bool{}
	for _, p := range c.peers() {
		if _, _, err := net.SplitHostPort(p); err != nil {
			return fmt.Errorf("-cluster-peers %q: %w", p, err)
		}
		if seen[p] {
			return fmt.Errorf("-cluster-peers names %s twice", p)
		}
		seen[p] = true
	}
	return nil
}

// routeSecret is the routes' password, derived from the inner secret so
// that nodes with another inner secret cannot join (and the secret itself
// never travels in a route URL).
func routeSecret(innerSecret string) string {
	sum := sha256.Sum256([]byte("plex cluster routes\x00" + innerSecret))
	return hex.EncodeToString(sum[:])
}

// serverName returns the embedded NATS server's name in dir: generated on
// the first clustered start and kept in the data directory, because
// JetStream knows a clustered server by its name across restarts.
func serverName(dir string) (string, error) {
	path := filepath.Join(dir, "nats-server-name")
	if b, err := os.ReadFile(path); err == nil {
		if name := strings.TrimSpace(string(b)); name != "" {
			return name, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	name := "plexd-" + hex.EncodeToString(r[:])
	if err := os.WriteFile(path, []byte(name+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep the NATS server name: %w", err)
	}
	return name, nil
}
