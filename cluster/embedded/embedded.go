// Package embedded runs a NATS server with JetStream inside the process:
// plexd's default (one durable node with no external service) and the
// cluster tests (several servers clustered over loopback routes). It is a
// package of its own so that nodes joining an external NATS do not link
// the NATS server.
package embedded

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Config configures an embedded NATS server. The zero value of every field
// but StoreDir is valid.
type Config struct {
	// StoreDir is where JetStream keeps its files (required).
	StoreDir string
	// Listen is a host:port for NATS clients (port 0: a random one). Zero:
	// no listener; only in-process connections (Connect).
	Listen string
	// Name names the server; JetStream needs a unique name per server of a
	// cluster, stable across restarts. Zero: "plex".
	Name string
	// ClusterName and ClusterListen (host:port, port 0: random) make the
	// server a member of a NATS cluster, joined through Routes
	// ("nats-route://host:port" or "host:port" of other members).
	ClusterName   string
	ClusterListen string
	Routes        []string
	// ClusterSecret, when set, is the password (user "plex") every route
	// between members presents and checks: a member with another secret
	// is refused (logged by both sides). Set the same on every member.
	ClusterSecret string
	// ClusterTLS, when set, makes every route TLS, as nats-server's
	// cluster "tls" block does: Certificates is this member's certificate
	// (presented both ways), RootCAs verifies the peers it dials and
	// ClientCAs the peers that dial it (nil: the system roots). Peers are
	// always verified: ClientAuth is forced to RequireAndVerifyClientCert,
	// as nats-server does for routes. A member without TLS, or with a
	// certificate the others do not trust, is refused.
	ClusterTLS *tls.Config
	// RouteRefused, when set, is called (on a NATS server goroutine; do
	// not block) for each route connection refused by either side: other
	// cluster name, other ClusterSecret, failed TLS handshake, duplicate
	// server name. nats-server retries routes every second or so, so a
	// lasting disagreement calls it again and again.
	RouteRefused func(RouteRefusal)
	// MaxPayload is the largest message NATS accepts. Zero: 8 MiB (a
	// plex push of the default 1 MiB frame limit plus routing overhead fits).
	MaxPayload int32
	// SyncAlways makes JetStream fsync every write before it acknowledges
	// it (nats-server's sync_interval: always), so that an acknowledged
	// message survives power loss, at the cost of an fsync per store
	// write. Zero: JetStream writes to the files (the OS page cache)
	// before acknowledging, which survives the process being killed, and
	// fsyncs every SyncInterval.
	SyncAlways bool
	// SyncInterval is how often JetStream fsyncs its files when SyncAlways
	// is off: what a power loss can take of acknowledged messages. Zero:
	// nats-server's default, 2 minutes.
	SyncInterval time.Duration
	// MaxStore bounds the bytes JetStream keeps on disk. Zero: nats-server's
	// default, 75% of the free space of StoreDir's filesystem when the
	// server starts (a disk that fills later is noticed only by failing
	// writes).
	MaxStore int64
	// Logger receives the server's logs (Info for notices). Nil: silent.
	Logger *slog.Logger
	// ReadyTimeout bounds the wait for the server to accept connections.
	// Zero: 10s.
	ReadyTimeout time.Duration
}

// Server is a running embedded NATS server.
type Server struct {
	ns       *natsserver.Server
	storeDir string
	token    string // the client listener's token when only in-process clients are meant to use it
}

// Start starts the server and waits until it accepts connections. With a
// cluster it does not wait for JetStream's meta leader: the plex cluster
// package retries until JetStream answers.
func Start(cfg Config) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("embedded: StoreDir is required")
	}
	if cfg.Name == "" {
		cfg.Name = "plex"
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = 8 << 20
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	opts := &natsserver.Options{
		ServerName:            cfg.Name,
		JetStream:             true,
		StoreDir:              cfg.StoreDir,
		MaxPayload:            cfg.MaxPayload,
		NoSigs:                true,
		NoLog:                 cfg.Logger == nil && cfg.RouteRefused == nil,
		DisableShortFirstPing: true,
		SyncAlways:            cfg.SyncAlways,
		SyncInterval:          cfg.SyncInterval, // 0: nats-server's default
		JetStreamMaxStore:     cfg.MaxStore,     // 0: from the free space
	}
	var token string
	switch {
	case cfg.Listen == "" && cfg.ClusterListen != "":
		// nats-server starts its route listener only after its client
		// listener: give it one on loopback, closed to everyone but this
		// process by a random token (clients connect in-process anyway).
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		token = hex.EncodeToString(b[:])
		opts.Host, opts.Port, opts.Authorization = "127.0.0.1", natsserver.RANDOM_PORT, token
	case cfg.Listen == "":
		opts.DontListen = true
	default:
		host, port, err := splitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("embedded: Listen: %w", err)
		}
		opts.Host, opts.Port = host, port
	}
	if cfg.ClusterListen != "" {
		host, port, err := splitHostPort(cfg.ClusterListen)
		if err != nil {
			return nil, fmt.Errorf("embedded: ClusterListen: %w", err)
		}
		name := cfg.ClusterName
		if name == "" {
			name = "plex"
		}
		opts.Cluster = natsserver.ClusterOpts{Name: name, Host: host, Port: port}
		if cfg.ClusterSecret != "" {
			opts.Cluster.Username, opts.Cluster.Password = "plex", cfg.ClusterSecret
		}
		if cfg.ClusterTLS != nil {
			tc := cfg.ClusterTLS.Clone()
			tc.ClientAuth = tls.RequireAndVerifyClientCert
			if tc.MinVersion == 0 {
				tc.MinVersion = tls.VersionTLS12
			}
			opts.Cluster.TLSConfig = tc
			opts.Cluster.TLSTimeout = 2 // seconds, nats-server's default
		}
		if len(cfg.Routes) > 0 {
			urls := make([]string, len(cfg.Routes))
			for i, r := range cfg.Routes {
				if !strings.Contains(r, "://") {
					if cfg.ClusterSecret != "" {
						r = "plex:" + url.QueryEscape(cfg.ClusterSecret) + "@" + r
					}
					r = "nats-route://" + r
				}
				urls[i] = r
			}
			opts.Routes = natsserver.RoutesFromStr(strings.Join(urls, ","))
		}
	}
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if cfg.Logger != nil || cfg.RouteRefused != nil {
		a := slogAdapter{refused: cfg.RouteRefused}
		if cfg.Logger != nil {
			a.l = cfg.Logger.With("component", "nats")
		}
		ns.SetLoggerV2(a, false, false, false)
	}
	ns.Start()
	if !ns.ReadyForConnections(cfg.ReadyTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("embedded: NATS server not ready within %s (store dir %s)", cfg.ReadyTimeout, cfg.StoreDir)
	}
	return &Server{ns: ns, storeDir: cfg.StoreDir, token: token}, nil
}

// RestartJetStream stops JetStream and starts it again on the same files,
// streams and buckets included; connections stay. A stream that hit a
// write error (a full disk) stores nothing until then: nats-server keeps
// the error, even after space came back.
func (s *Server) RestartJetStream() error {
	cur := s.ns.JetStreamConfig()
	if cur == nil {
		return errors.New("embedded: JetStream is not running")
	}
	cfg := *cur
	cfg.StoreDir = s.storeDir // EnableJetStream adds the "jetstream" directory itself
	if err := s.ns.ShutdownJetStream(); err != nil {
		return fmt.Errorf("embedded: stop JetStream: %w", err)
	}
	if err := s.ns.EnableJetStream(&cfg); err != nil {
		return fmt.Errorf("embedded: start JetStream: %w", err)
	}
	return nil
}

// Connect opens a connection to the server: in-process (no socket) when it
// has no listener, else over its client URL.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	if s.token != "" {
		return nats.Connect("", append([]nats.Option{nats.InProcessServer(s.ns), nats.Token(s.token)}, opts...)...)
	}
	if s.ns.ClientURL() == "" || s.ns.Addr() == nil {
		return nats.Connect("", append([]nats.Option{nats.InProcessServer(s.ns)}, opts...)...)
	}
	return nats.Connect(s.ClientURL(), opts...)
}

// ClientURL is the URL NATS clients dial ("" without a listener).
func (s *Server) ClientURL() string {
	if s.ns.Addr() == nil {
		return ""
	}
	return s.ns.ClientURL()
}

// RouteURL is the URL other cluster members route to ("" without a cluster).
func (s *Server) RouteURL() string {
	a := s.ns.ClusterAddr()
	if a == nil {
		return ""
	}
	return "nats-route://" + net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port))
}

// Name returns the server's name.
func (s *Server) Name() string { return s.ns.Name() }

// JetStreamMaxStore returns JetStream's disk limit in force (0: JetStream
// is not running).
func (s *Server) JetStreamMaxStore() int64 {
	if cfg := s.ns.JetStreamConfig(); cfg != nil {
		return cfg.MaxStore
	}
	return 0
}

// Shutdown stops the server and waits until it has stopped. JetStream's
// files stay in StoreDir.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

func splitHostPort(hp string) (string, int, error) {
	host, p, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, err
	}
	if port == 0 {
		port = natsserver.RANDOM_PORT
	}
	return host, port, nil
}

// slogAdapter is the NATS server's logger on slog (l may be nil: silent),
// and the source of RouteRefused: route refusals are logged as errors.
type slogAdapter struct {
	l       *slog.Logger
	refused func(RouteRefusal)
}

func (a slogAdapter) log(level slog.Level, format string, v []any) {
	if a.l != nil {
		a.l.Log(context.Background(), level, fmt.Sprintf(format, v...))
	}
}

func (a slogAdapter) Noticef(format string, v ...any) { a.log(slog.LevelInfo, format, v) }
func (a slogAdapter) Warnf(format string, v ...any)   { a.log(slog.LevelWarn, format, v) }
func (a slogAdapter) Fatalf(format string, v ...any)  { a.log(slog.LevelError, format, v) }
func (a slogAdapter) Debugf(format string, v ...any)  { a.log(slog.LevelDebug, format, v) }
func (a slogAdapter) Tracef(format string, v ...any)  { a.log(slog.LevelDebug, format, v) }

func (a slogAdapter) Errorf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if a.l != nil {
		a.l.Error(msg)
	}
	if a.refused != nil {
		if r, ok := routeRefusal(msg); ok {
			a.refused(r)
		}
	}
}
