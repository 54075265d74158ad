package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
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
	// Route TLS (docs/operations.md §2a): every node presents its
	// certificate and verifies the others' against the CA bundle.
	ClusterTLSCert string
	ClusterTLSKey  string
	ClusterTLSCA   string
}

func (c *clusterOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&c.ClusterListen, "cluster-listen", "", "host:port where the embedded NATS server takes the other plexd nodes' routes; set it (and -cluster-peers) on every node to cluster them without an external NATS")
	fs.StringVar(&c.ClusterPeers, "cluster-peers", "", "comma-separated -cluster-listen addresses of the other nodes (a node may list itself, once)")
	fs.StringVar(&c.ClusterName, "cluster-name", "plex", "NATS cluster name, the same on every node; a node whose peers have another name refuses to start")
	fs.StringVar(&c.ClusterTLSCert, "cluster-tls-cert", "", "PEM certificate this node presents on the routes between nodes (TLS routes; needs -cluster-tls-key; valid for both server and client auth)")
	fs.StringVar(&c.ClusterTLSKey, "cluster-tls-key", "", "PEM private key for -cluster-tls-cert")
	fs.StringVar(&c.ClusterTLSCA, "cluster-tls-ca", "", "PEM CA bundle that the other nodes' route certificates must chain to (default: the system roots)")
}

// routeTLS returns the routes' TLS settings (nil: plain routes). Both
// ends verify each other, as nats-server always does on routes.
func (c *clusterOptions) routeTLS() (*tls.Config, error) {
	if c.ClusterTLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.ClusterTLSCert, c.ClusterTLSKey)
	if err != nil {
		return nil, fmt.Errorf("-cluster-tls-cert/-cluster-tls-key: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.ClusterTLSCA != "" {
		b, err := os.ReadFile(c.ClusterTLSCA)
		if err != nil {
			return nil, fmt.Errorf("-cluster-tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("-cluster-tls-ca %s: no PEM certificate in it", c.ClusterTLSCA)
		}
		tc.RootCAs, tc.ClientCAs = pool, pool
	}
	return tc, nil
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
	case c.ClusterListen == "" && c.ClusterTLSCert+c.ClusterTLSKey+c.ClusterTLSCA != "":
		return errors.New("-cluster-tls-* secure the routes of -cluster-listen; for an external NATS use -nats-tls-*")
	case (c.ClusterTLSCert == "") != (c.ClusterTLSKey == ""):
		return errors.New("-cluster-tls-cert and -cluster-tls-key go together")
	case c.ClusterTLSCA != "" && c.ClusterTLSCert == "":
		return errors.New("-cluster-tls-ca needs -cluster-tls-cert and -cluster-tls-key: routes are mutual TLS")
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

// serverNameFile holds the embedded NATS server's name in the data
// directory.
const serverNameFile = "nats-server-name"

// serverName returns the embedded NATS server's name in dir: generated on
// the first clustered start (fresh) and kept in the data directory,
// because JetStream knows a clustered server by its name across restarts.
func serverName(dir string) (name string, fresh bool, err error) {
	path := filepath.Join(dir, serverNameFile)
	if b, err := os.ReadFile(path); err == nil {
		if name := strings.TrimSpace(string(b)); name != "" {
			return name, false, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", false, err
	}
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", false, err
	}
	name = "plexd-" + hex.EncodeToString(r[:])
	if err := os.WriteFile(path, []byte(name+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("keep the NATS server name: %w", err)
	}
	return name, true, nil
}
