package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
)

// Server is one plex node. Create it with New; it is safe for concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	nodeID string
	store  Store
	// storeLocal: the store does no I/O, so logins, acks and push
	// clients' frames run on the event loop (acker.go, offload.go).
	storeLocal bool
	acks       *acker          // nil when storeLocal
	messages   *messenger      // nil when storeLocal
	throttle   *secretThrottle // wrong secrets per address (auth_throttle.go); nil: off
	preauth    *preauthLimit   // unauthenticated app connections per address; nil: off
	loginLimit *loginLimit     // logins off the read path (login_limit.go)
	senders    *senderLimits   // /message per sending user (message_limit.go); nil: unlimited
	echoes     echoes          // room messages' sending connections (message_room.go)
	budget     *writeBudget    // output queued in nbio across connections (write_budget.go); nil: off
	pipes      *pipeline       // pipelined persistent pushes; nil when storeLocal
	timers     closeTimers
	offloads   sync.Map     // *Session → *offloaded: push clients whose frames run off the loop
	link       *clusterLink // the cluster contract's node side; nil: a single node
	hub        *hub
	hooks      *hooks
	handler    http.Handler // the HTTP API (Handler), built once
	wheel      *wheel
	metrics    *metrics
	engine     *nbio.Engine
	pollers    *pollers // the event loop's probes: start and descriptor-reuse guards
	batches    batchPool

	baseCtx    context.Context
	cancel     context.CancelFunc
	authWG     sync.WaitGroup // auth goroutines and push clients' workers (offload.go)
	connIDs    atomic.Uint64
	msgIDs     atomic.Uint64 // with msgBoot: the node's message ids (newMessageID)
	msgBoot    string        // random per process: ids stay unique across restarts
	conns      atomic.Int64  // open sockets, for MaxConnections
	innerConns atomic.Int64  // of them, on the push-client listener (MaxInnerConnections)
	hbFrame    [3][3][]byte  // /heartbeat per mode (hbPlain, hbBackground, hbForeground) and codec, encoded once

	defaultApp *appState
	apps       atomic.Pointer[appTable]

	mu        sync.Mutex
	listeners map[net.Listener]bool // value: inner-only
	httpSrvs  []*http.Server
	sessions  sessionList // every open session, for Shutdown
	addr      net.Addr    // first app listener's address
	logins    []string    // addresses served that take app logins (auth_open.go)
	closing   bool
	stop      chan struct{}
	acksDue   ackKeeper      // nil without Config.OnUnacked
	loops     sync.WaitGroup // the wheel, TLS readers, blocking WebSocket loops
}

// quietNBIO silences nbio's process-wide logger once (New).
var quietNBIO sync.Once

// New validates cfg, applies defaults and starts the node's event loop.
// It does not listen: call ListenAndServe or Serve.
func New(cfg Config) (*Server, error) {
	quietNBIO.Do(func() {
		// nbio logs through one process-wide logger of its own (to stdout,
		// INFO on every engine start and stop). A node reports what matters
		// through Config.Logger, and nil there means silent: so nbio is
		// silenced here, once, rather than by every embedder.
		logging.SetLevel(logging.LevelNone)
	})
	cfg = cfg.withDefaults()
	if cfg.HeartbeatTimeout <= cfg.HeartbeatInterval {
		return nil, errors.New("server: HeartbeatTimeout must be longer than HeartbeatInterval")
	}
	if cfg.BackgroundHeartbeatInterval > 0 && cfg.BackgroundHeartbeatTimeout <= cfg.BackgroundHeartbeatInterval {
		return nil, errors.New("server: BackgroundHeartbeatTimeout must be longer than BackgroundHeartbeatInterval")
	}
	srv := &Server{
		cfg:        cfg,
		log:        plog.OrDiscard(cfg.Logger),
		nodeID:     cfg.NodeID,
		store:      cfg.Store,
		hub:        newHub(),
		listeners:  make(map[net.Listener]bool),
		stop:       make(chan struct{}),
		throttle:   newSecretThrottle(&cfg),
		preauth:    newPreauthLimit(cfg.MaxPreAuthPerAddress),
		loginLimit: newLoginLimit(&cfg),
		senders:    newSenderLimits(&cfg),
		budget:     newWriteBudget(&cfg),
	}
	if srv.nodeID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		srv.nodeID = "node-" + hex.EncodeToString(b[:])
	}
	srv.log = srv.log.With(plog.KeyNode, srv.nodeID)
	var boot [5]byte
	_, _ = rand.Read(boot[:])
	srv.msgBoot = hex.EncodeToString(boot[:])
	if srv.store == nil {
		srv.store = NewMemoryStore(MemoryStoreConfig{})
	}
	srv.storeLocal = srv.store.Local()
	srv.defaultApp = newAppState(App{Authenticator: cfg.Authenticator, InnerSecret: cfg.InnerSecret,
		MessagePolicy: cfg.MessagePolicy, PushRate: cfg.PushRate, PushBurst: cfg.PushBurst,
		StoreRate: cfg.StoreRate, StoreBurst: cfg.StoreBurst, AckTimeout: cfg.AckTimeout}, cfg.MaxFrame)
	if err := srv.SetApps(cfg.Apps); err != nil {
		return nil, err
	}
	var err error
	if srv.metrics, err = newMetrics(&srv.cfg, srv); err != nil {
		return nil, err
	}
	for _, c := range []pack.Codec{pack.JSON, pack.Protobuf} {
		for mode, meta := range []map[string]string{hbPlain: nil, hbBackground: {pack.MetaMode: pack.ModeBackground}, hbForeground: {pack.MetaMode: pack.ModeForeground}} {
			srv.hbFrame[mode][c], _ = pack.EncodeFrame(cfg.ByteOrder, c, &pack.Message{URI: pack.URIHeartbeat, Meta: meta})
		}
	}
	if srv.handler, err = srv.newHandler(); err != nil {
		return nil, err
	}
	srv.baseCtx, srv.cancel = context.WithCancel(context.Background())
	srv.hooks = newHooks(&srv.cfg)
	srv.engine = nbio.NewEngine(nbio.Config{
		Name:               "plex-" + srv.nodeID,
		NPoller:            cfg.Pollers,
		ReadBufferSize:     64 << 10, // one per poller, not per connection
		MaxWriteBufferSize: cfg.WriteQueueBytes,
	})
	srv.engine.OnData(func(c *nbio.Conn, data []byte) {
		switch s := c.Session().(type) {
		case *Session:
			s.onData(data)
		case *wsConn:
			s.onData(data)
		case *pollerProbe:
			s.arrived(len(data))
		}
	})
	srv.engine.OnClose(func(c *nbio.Conn, err error) {
		switch s := c.Session().(type) {
		case *Session:
			srv.closed(s, err)
		case *wsConn:
			s.engineClosed(err)
		}
	})
	if srv.budget != nil {
		srv.engine.OnWrittenSize(func(c *nbio.Conn, _ []byte, n int) {
			switch s := c.Session().(type) {
			case *Session:
				srv.budget.written(s, n)
			case *wsConn:
				srv.budget.written(s.s, n)
			}
		})
	}
	if err := srv.engine.Start(); err != nil {
		return nil, err
	}
	if srv.pollers, err = newPollers(srv.engine, cfg.Pollers); err != nil {
		srv.engine.Stop()
		return nil, err
	}
	srv.wheel = newWheel(wheelTick(&srv.cfg), max(cfg.AuthTimeout, cfg.HeartbeatTimeout))
	srv.loops.Go(func() { srv.wheel.run(srv.stop, srv.checkDeadline) })
	if srv.budget != nil {
		srv.loops.Go(func() { srv.budget.run(srv, srv.stop) })
	}
	if srv.acksDue = newAckKeeper(srv); srv.acksDue != nil {
		srv.loops.Go(func() { srv.acksDue.run(srv.baseCtx) })
	}
	if cfg.Bus != nil {
		srv.link = newClusterLink(srv, cfg.Bus)
		if err := srv.link.start(); err != nil {
			srv.link = nil
			srv.finish() // the loops started above, the engine and its probes
			return nil, err
		}
	}
	if !srv.storeLocal {
		srv.acks = newAcker(srv.store, storeAckTimeout, func(uid key, err error) {
			srv.log.Error("store ack", "uid", uid, "err", err)
		})
		srv.messages = newMessenger(srv)
		srv.pipes = newPipeline(srv, srv.cfg.MaxPersistInFlight)
	}
	return srv, nil
}

// NodeID returns the node's id.
func (srv *Server) NodeID() string { return srv.nodeID }

// Addr returns the address of the first app listener, or nil before Serve.
func (srv *Server) Addr() net.Addr {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.addr
}

// AdvertiseAddr returns the address apps are told to dial.
func (srv *Server) AdvertiseAddr() string {
	if srv.cfg.AdvertiseAddr != "" {
		return srv.cfg.AdvertiseAddr
	}
	if a := srv.Addr(); a != nil {
		return a.String()
	}
	return srv.cfg.Addr
}

func (srv *Server) heartbeatFrame(c pack.Codec) []byte { return srv.hbFrame[hbPlain][c] }

func (srv *Server) innerAllowed(s *Session) bool {
	// never over WebSocket: the inner secret stays off the browser-facing endpoint
	return (srv.cfg.InnerAddr == "" || s.innerOnly) && !isWebSocket(s)
}

// ListenAndServe listens on Config.Addr (and InnerAddr and HTTPAddr when
// set) and serves until Shutdown or Close, returning ErrServerClosed then.
func (srv *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", srv.cfg.Addr)
	if err != nil {
		return err
	}
	// Every listener is opened before any is served: a failure leaves
	// nothing accepting.
	var iln, hln net.Listener
	if srv.cfg.InnerAddr != "" {
		if iln, err = net.Listen("tcp", srv.cfg.InnerAddr); err != nil {
			ln.Close()
			return err
		}
	}
	if srv.cfg.HTTPAddr != "" {
		if hln, err = net.Listen("tcp", srv.cfg.HTTPAddr); err != nil {
			ln.Close()
			if iln != nil {
				iln.Close()
			}
			return err
		}
	}
	errc := make(chan error, 3)
	if iln != nil {
		go func() { errc <- srv.ServeInner(iln) }()
	}
	if hln != nil {
		go func() { errc <- srv.ServeAPI(hln) }()
	}
	go func() { errc <- srv.Serve(ln) }()
	err = <-errc
	if !errors.Is(err, ErrServerClosed) {
		srv.Close()
	}
	return err
}

// Serve accepts app and push-client connections on ln until Shutdown or
// Close. With Config.TLS set, connections are wrapped in TLS. It closes ln
// and returns ErrOpenAuth, without serving, when an open authenticator
// would take logins on a non-loopback ln (Config.AllowOpenAuth).
func (srv *Server) Serve(ln net.Listener) error {
	if err := srv.admitLogins(ln); err != nil {
		ln.Close()
		return err
	}
	return srv.serve(ln, false)
}

// ServeInner accepts push-client connections only on ln.
func (srv *Server) ServeInner(ln net.Listener) error { return srv.serve(ln, true) }

// ServeAPI serves the HTTP API (Handler) on ln with timeouts. Its
// WebSocket transport takes app logins: ln is refused like in Serve.
func (srv *Server) ServeAPI(ln net.Listener) error {
	if !srv.cfg.DisableWebSocket {
		if err := srv.admitLogins(ln); err != nil {
			ln.Close()
			return err
		}
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	srv.httpSrvs = append(srv.httpSrvs, hs)
	srv.mu.Unlock()
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return ErrServerClosed
	}
	return err
}

// Shutdown stops accepting, sends every connection /disconnect 3000
// (reconnect elsewhere), waits for their output to drain or ctx to end,
// then closes everything. It returns ctx's error if ctx ended first.
func (srv *Server) Shutdown(ctx context.Context) error {
	sessions, first := srv.beginClose()
	if !first {
		return nil
	}
	for _, s := range sessions {
		s.drainClose(ctx, pack.CodeShutdown, "server shutting down")
	}
	var err error
	for _, hs := range srv.httpServers() {
		if e := hs.Shutdown(ctx); e != nil && err == nil {
			err = e
		}
	}
	// Wait until every session's OnClose ran (output was written before close).
	for srv.openSessions() > 0 {
		select {
		case <-ctx.Done():
			srv.finish()
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	srv.finish()
	return err
}

// Close closes every listener and connection at once, without notice
// beyond a best-effort /disconnect 3000.
func (srv *Server) Close() error {
	sessions, first := srv.beginClose()
	if !first {
		return nil
	}
	for _, s := range sessions {
		s.closeWith(pack.CodeShutdown, "server closed")
	}
	for _, hs := range srv.httpServers() {
		hs.Close()
	}
	srv.finish()
	return nil
}

func (srv *Server) beginClose() ([]*Session, bool) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closing {
		return nil, false
	}
	srv.closing = true
	for ln := range srv.listeners {
		ln.Close()
	}
	return srv.sessions.all(), true
}

func (srv *Server) httpServers() []*http.Server {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return append([]*http.Server(nil), srv.httpSrvs...)
}

func (srv *Server) openSessions() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.sessions.n
}

// finish stops the loops and the engine; every goroutine the server
// started has exited when it returns.
func (srv *Server) finish() {
	srv.cancel()
	close(srv.stop)
	srv.engine.Stop() // closes remaining conns; OnClose runs for each
	srv.pollers.stop()
	srv.timers.finish()
	srv.loops.Wait()
	srv.authWG.Wait()
	if srv.messages != nil {
		srv.messages.close()
	}
	if srv.pipes != nil {
		srv.pipes.close() // after every pusher: no push starts any more
	}
	if srv.acks != nil {
		srv.acks.close() // every connection is closed: write the last acks
	}
	if srv.link != nil {
		_ = srv.link.bus.Close()
	}
	srv.hooks.close()
}
