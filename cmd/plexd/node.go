package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lesismal/nbio/logging"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/web"
)

// node is a running plexd: the server and its listeners.
type node struct {
	opts  *options
	hup   chan os.Signal // SIGHUP: reload apps
	vp    *vendorpush.Dispatcher
	srv   *server.Server
	cl    *clusterNode
	pprof *http.Server
	log   *slog.Logger
	errc  chan error
}

func start(ctx context.Context, o *options, stdout, stderr io.Writer) (*node, error) {
	logging.SetLevel(logging.LevelNone) // nbio's own logger is process-wide; plexd logs through slog
	log, err := newLogger(o, stderr)
	if err != nil {
		return nil, err
	}
	cfg, err := serverConfig(o, log)
	if err != nil {
		return nil, err
	}
	if cfg.Apps, err = loadApps(o, log); err != nil {
		return nil, err
	}
	// Every port first: a port in use fails the start before the data
	// directory and the store are touched.
	lns, err := listen(o)
	if err != nil {
		return nil, err
	}
	cl, err := startCluster(ctx, o, &cfg, log)
	if err != nil {
		lns.close()
		return nil, err
	}
	vp, err := startVendorPush(o, &cfg, cl, log) // after the cluster: device tokens live in its bucket
	if err != nil {
		lns.close()
		cl.close()
		return nil, err
	}
	srv, err := server.New(cfg)
	if err != nil {
		lns.close()
		cl.close()
		if vp != nil {
			vp.Close()
		}
		return nil, err
	}
	n := &node{srv: srv, cl: cl, log: log, errc: make(chan error, 3), opts: o, hup: make(chan os.Signal, 1), vp: vp}
	signal.Notify(n.hup, syscall.SIGHUP) // before the ready file: a reload may follow it at once
	ready := map[string]string{"addr": lns.app.Addr().String(), "node": srv.NodeID()}
	if lns.inner != nil {
		ready["inner"] = lns.inner.Addr().String()
	}
	if lns.http != nil {
		ready["http"] = lns.http.Addr().String()
	}
	// The banner before serving: the listeners queue connections already,
	// and the server's "listening" log lines follow it instead of
	// interleaving with it.
	printBanner(ctx, stdout, o, &cfg, cl, ready)
	go func() { n.errc <- srv.Serve(lns.app) }()
	if lns.inner != nil {
		go func() { n.errc <- srv.ServeInner(lns.inner) }()
	}
	if lns.http != nil {
		go func() { n.errc <- srv.ServeAPI(lns.http) }()
	}
	if lns.pprof != nil {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		ps := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		n.pprof = ps
		go func() { _ = ps.Serve(lns.pprof) }()
	}
	// Last: whoever waits for the ready file also finds the banner printed.
	if o.ReadyFile != "" {
		if err := writeReadyFile(o.ReadyFile, ready); err != nil {
			signal.Stop(n.hup)
			if n.pprof != nil {
				n.pprof.Close()
			}
			if vp != nil {
				vp.Close()
			}
			srv.Close()
			cl.close()
			return nil, err
		}
	}
	return n, nil
}

// listeners are plexd's sockets, opened before anything else starts.
type listeners struct {
	app, inner, http, pprof net.Listener // nil when not configured (app never)
}

// listen opens every configured listener, or none.
func listen(o *options) (*listeners, error) {
	lns := &listeners{}
	for _, l := range []struct {
		flag, addr string
		ln         *net.Listener
	}{
		{"-addr", o.Addr, &lns.app},
		{"-inner-addr", o.InnerAddr, &lns.inner},
		{"-http", o.HTTP, &lns.http},
		{"-pprof", o.Pprof, &lns.pprof},
	} {
		if l.addr == "" && l.ln != &lns.app {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			lns.close()
			return nil, fmt.Errorf("%s: %w", l.flag, err)
		}
		*l.ln = ln
	}
	return lns, nil
}

// close closes the listeners that are open (before they were served).
func (lns *listeners) close() {
	for _, ln := range []net.Listener{lns.app, lns.inner, lns.http, lns.pprof} {
		if ln != nil {
			ln.Close()
		}
	}
}

// reloadApps re-reads the config file's apps and swaps them in (SIGHUP):
// apps are added, changed or removed without a restart. A bad file keeps
// the apps that run now.
func (n *node) reloadApps() {
	err := n.checkReload()
	var apps []server.App
	if err == nil {
		apps, err = loadApps(n.opts, n.log)
	}
	if err == nil {
		err = n.srv.SetApps(apps)
	}
	if err != nil {
		n.log.Error("reload apps: keeping the current ones", "err", err)
		return
	}
	n.log.Info("apps reloaded", "apps", len(apps))
}

// checkReload reads the config file again before a reload: a key start-up
// would refuse fails the reload too; node settings (every key but apps)
// are read at start only, so a changed one is named in a warning, and
// the running value stays until a restart.
func (n *node) checkReload() error {
	b, err := os.ReadFile(n.opts.Config)
	if err != nil {
		return err
	}
	var file map[string]any
	if err := json.Unmarshal(b, &file); err != nil {
		return fmt.Errorf("config %s: %w", n.opts.Config, err)
	}
	if err := checkKeys(n.opts.Config, file, newFlagSet(&options{})); err != nil {
		return err
	}
	var changed []string
	for k, v := range file {
		if old, ok := n.opts.file[k]; k != "apps" && (!ok || !reflect.DeepEqual(old, v)) {
			changed = append(changed, k)
		}
	}
	for k := range n.opts.file {
		if _, ok := file[k]; !ok && k != "apps" {
			changed = append(changed, k)
		}
	}
	if len(changed) > 0 {
		slices.Sort(changed)
		n.log.Warn("config reload: only apps are reloaded; these keys changed and take effect after a restart",
			"keys", strings.Join(changed, ","))
	}
	return nil
}

// wait serves until ctx ends (signal), then shuts down gracefully. SIGHUP
// reloads the apps of the config file.
func (n *node) wait(ctx context.Context) error {
	defer signal.Stop(n.hup)
	for {
		select {
		case <-n.hup:
			n.reloadApps()
			continue
		case err := <-n.errc:
			return n.stopAfter(err)
		case <-ctx.Done():
		}
		break
	}
	return n.shutdown()
}

func (n *node) stopAfter(err error) error {
	if n.pprof != nil {
		n.pprof.Close()
	}
	n.srv.Close()
	n.cl.close()
	if n.vp != nil {
		n.vp.Close()
	}
	if errors.Is(err, server.ErrServerClosed) {
		return nil
	}
	return err
}

func (n *node) shutdown() error {
	if n.pprof != nil {
		n.pprof.Close()
	}
	n.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer n.cl.close() // after the server: its bus says goodbye through NATS
	if n.vp != nil {
		defer n.vp.Shutdown(sctx) // after the server: its last offline pushes are queued
	}
	if err := n.srv.Shutdown(sctx); err != nil {
		n.srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func newLogger(o *options, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch o.LogFormat {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("-log-format %q: want text or json", o.LogFormat)
	}
	if o.LogBurst > 0 {
		h = plog.Sampled(h, o.LogBurst, time.Second)
	}
	return slog.New(h), nil
}

func serverConfig(o *options, log *slog.Logger) (server.Config, error) {
	order, err := pack.ParseOrder(o.Order)
	if err != nil {
		return server.Config{}, fmt.Errorf("-order: %w", err)
	}
	codec, err := pack.ParseCodec(o.Codec)
	if err != nil {
		return server.Config{}, fmt.Errorf("-codec: %w", err)
	}
	authn, err := authenticator(o, log)
	if err != nil {
		return server.Config{}, err
	}
	secret := o.InnerSecret
	if secret == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		secret = hex.EncodeToString(b[:])
	}
	cfg := server.Config{
		Addr:                        o.Addr,
		InnerAddr:                   o.InnerAddr,
		HTTPAddr:                    o.HTTP,
		HTTPRoutes:                  web.Routes(), // the console and the browser client
		AdvertiseAddr:               o.Advertise,
		NodeID:                      o.Node,
		Authenticator:               authn,
		AllowOpenAuth:               o.Force, // authenticator() refused -auth none first, naming the flags
		InnerSecret:                 secret,
		AuthTimeout:                 o.AuthTimeout,
		HeartbeatInterval:           o.Heartbeat,
		HeartbeatTimeout:            o.HeartbeatTimeout,
		BackgroundHeartbeatInterval: bgInterval(o.BgHeartbeat),
		BackgroundHeartbeatTimeout:  o.BgTimeout,
		ByteOrder:                   order,
		Codec:                       codec,
		MaxFrame:                    o.MaxFrame,
		MaxConnections:              o.MaxConns,
		MaxInnerConnections:         o.MaxInnerConns,
		MaxPreAuthPerAddress:        o.MaxPreAuth,
		StoreRate:                   o.StoreRate,
		StoreBurst:                  o.StoreBurst,
		AckTimeout:                  o.AckTimeout,
		WriteQueueBytes:             o.WriteQueue,
		DeviceDuplicates:            !o.OnePerDevice,
		SecretFailBurst:             o.SecretFailBurst,
		MaxConcurrentLogins:         o.MaxLogins,
		WebSocketOrigins:            splitList(o.WSOrigins),
		Logger:                      log,
		Version:                     readVersion().String(),
	}
	if o.TLSCert != "" || o.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return server.Config{}, fmt.Errorf("-tls-cert/-tls-key: %w", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	switch o.Upstream {
	case "log":
		cfg.OnUpstream = func(s *server.Session, m *pack.Message) {
			log.Info("upstream", "uid", s.UID(), "uri", m.URI, "bytes", len(m.Body))
		}
	case "echo":
		cfg.OnUpstream = func(s *server.Session, m *pack.Message) { _ = s.Send(m) }
	case "drop":
	default:
		return server.Config{}, fmt.Errorf("-upstream %q: want log, echo or drop", o.Upstream)
	}
	return cfg, nil
}

func authenticator(o *options, log *slog.Logger) (server.Authenticator, error) {
	switch o.Auth {
	case "none":
		if flag, addr := publicLoginListener(o); flag != "" && !o.Force {
			return nil, fmt.Errorf("-auth none with %s on non-loopback address %s lets anyone be any user; add -force if you mean it", flag, addr)
		}
		return auth.None{}, nil
	case "jwt":
		if o.JWTSecret == "" && o.JWTPublicKey == "" {
			return nil, errors.New("-auth jwt needs -jwt-secret FILE (HS256 secret) or -jwt-public-key FILE (PEM of RS256/ES256 public keys)")
		}
		cfg := auth.JWTConfig{Issuer: o.JWTIssuer, Audience: o.JWTAudience, Logger: log}
		var err error
		if o.JWTSecret != "" {
			if cfg.HMACSecret, err = auth.LoadJWTKey(o.JWTSecret); err != nil {
				return nil, err
			}
		}
		if o.JWTPublicKey != "" {
			if cfg.PublicKeyPEM, err = auth.LoadJWTKey(o.JWTPublicKey); err != nil {
				return nil, err
			}
		}
		return auth.NewJWT(cfg)
	case "webhook":
		return auth.NewWebhook(auth.WebhookConfig{URL: o.Webhook, Timeout: o.WebhookTimout, Logger: log})
	}
	return nil, fmt.Errorf("-auth %q: want none, jwt or webhook", o.Auth)
}

// publicLoginListener returns the first listener that takes app logins on
// an address that is not loopback-only, or "" when there is none: -addr
// (TCP) and -http, whose /plex/v1/ws is the WebSocket transport, always
// served by plexd. -inner-addr is not one: an app login there is refused
// (4003).
func publicLoginListener(o *options) (flag, addr string) {
	if !loopback(o.Addr) {
		return "-addr", o.Addr
	}
	if o.HTTP != "" && !loopback(o.HTTP) {
		return "-http", o.HTTP
	}
	return "", ""
}

// loopback reports whether addr binds only loopback interfaces.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func writeReadyFile(path string, v map[string]string) error {
	b, _ := json.Marshal(v)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".plexd-ready-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// bgInterval maps the flag (0: off) to server.Config (negative: off).
func bgInterval(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
