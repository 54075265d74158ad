package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
)

// PlexClient pushes messages through plex nodes: the push side, used by
// business services. Create it with New; it is safe for concurrent use.
//
// It keeps one connection per node, authenticated with the inner secret,
// and sends each push as a request (/inner/push, request id in seq) whose
// reply says what happened. Many requests are in flight at once on each
// connection, and everything queued while a write runs goes out in the next
// write.
type PlexClient struct {
	cfg   Config
	log   *slog.Logger
	wire  wire
	nodes []*node
	hc    *http.Client
	disc  string // discovery URL, when Addrs is empty

	rr      atomic.Uint64
	ids     atomic.Int64
	waiting atomic.Int64
	stats   counters

	mu     sync.Mutex
	change chan struct{} // closed and replaced when a node connects or fails for good

	closed    chan struct{}
	closeOnce sync.Once
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// New starts connecting to the nodes and returns at once; pushes issued
// before a node is connected wait for one (see Config.RequestTimeout).
func New(cfg Config) (*PlexClient, error) {
	cfg = cfg.withDefaults()
	if len(cfg.Addrs) == 0 && cfg.DiscoveryURL == "" {
		return nil, errors.New("client: Config needs Addrs or DiscoveryURL")
	}
	if cfg.Secret == "" {
		return nil, errors.New("client: Config needs the nodes' inner Secret")
	}
	if slices.Contains(cfg.Addrs, "") {
		return nil, errors.New("client: empty address in Config.Addrs")
	}
	c := &PlexClient{
		cfg:    cfg,
		log:    plog.OrDiscard(cfg.Logger),
		wire:   newWire(cfg.ByteOrder, cfg.Codec, cfg.TLS),
		hc:     newHTTPClient(cfg.DialTimeout),
		change: make(chan struct{}),
		closed: make(chan struct{}),
	}
	addrs := cfg.Addrs
	if len(addrs) == 0 {
		u, err := discoveryURL(cfg.DiscoveryURL)
		if err != nil {
			return nil, err
		}
		c.disc, addrs = u, []string{""}
	}
	for _, a := range addrs {
		n := &node{c: c, addr: a, log: c.log.With(plog.KeyAddr, a)}
		if a == "" {
			n.log = c.log.With("discovery", c.disc)
		}
		c.nodes = append(c.nodes, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	for _, n := range c.nodes {
		c.wg.Go(func() { n.run(ctx) })
	}
	return c, nil
}

// Send pushes body to every connection of user uid and returns what the node
// did. It returns an error whenever the push was not accepted: refused by
// the node (*pack.CodeError), refused credentials (ErrAuth), no node
// connected in time (ErrNoNode), ctx ended, or the client closed. A nil
// error always comes with the node's Result; a push that reached nobody
// says so in it (Offline). When the error is ErrOutcomeUnknown the push was
// written but its reply was lost, or the node answered 3008 (its store did
// not confirm a persistent push): it may have been stored and delivered,
// and sending it again may deliver it twice. A 3005 (pack.CodeInternal)
// refusal means nothing was stored: retrying it is safe.
//
// Send blocks until the reply. Pushes issued one after another by one
// goroutine reach a user in that order; concurrent Sends are pipelined on
// the connections and have no order among themselves.
func (c *PlexClient) Send(ctx context.Context, uid, uri string, body []byte, opts ...SendOption) (Result, error) {
	if uid == "" {
		return Result{}, badRequest("push needs a uid")
	}
	return c.push(ctx, pack.PushRequest{UID: uid}, uri, body, opts)
}

// SendDevice pushes body to the connections of one device of uid: those
// that logged in with that device id (Config.Device, meta "device"). With
// Persist, the push is stored under the user's seqs and replayed to that
// device only; while the device is offline it waits for it.
func (c *PlexClient) SendDevice(ctx context.Context, uid, device, uri string, body []byte, opts ...SendOption) (Result, error) {
	if uid == "" || device == "" {
		return Result{}, badRequest("push to a device needs a uid and a device")
	}
	return c.push(ctx, pack.PushRequest{UID: uid, Device: device}, uri, body, opts)
}

// SendUsers pushes body to every connection of each user in uids.
func (c *PlexClient) SendUsers(ctx context.Context, uids []string, uri string, body []byte, opts ...SendOption) (Result, error) {
	if len(uids) == 0 {
		return Result{}, badRequest("push needs at least one uid")
	}
	for _, u := range uids {
		if u == "" {
			return Result{}, badRequest("empty uid in uids")
		}
	}
	return c.push(ctx, pack.PushRequest{UIDs: uids}, uri, body, opts)
}

// SendRoom pushes body to every connection of every member of room.
// Persist is refused: rooms get transient pushes only.
func (c *PlexClient) SendRoom(ctx context.Context, room, uri string, body []byte, opts ...SendOption) (Result, error) {
	if room == "" {
		return Result{}, badRequest("push needs a room")
	}
	return c.push(ctx, pack.PushRequest{Room: room}, uri, body, opts)
}

// Broadcast pushes body to every app connection of the node (and, in a
// cluster, of every node). Persist is refused.
func (c *PlexClient) Broadcast(ctx context.Context, uri string, body []byte, opts ...SendOption) (Result, error) {
	return c.push(ctx, pack.PushRequest{All: true}, uri, body, opts)
}

// SendLegacy pushes with the original fire-and-forget /logic/send/msg,
// for nodes or tooling that expect it. There is no reply: a nil error only
// means the frame was written to a node's socket. The node may still drop
// it (unknown user offline, bad request) without anyone knowing; use Send to
// get an outcome.
func (c *PlexClient) SendLegacy(ctx context.Context, uid, uri string, body []byte) error {
	if uid == "" {
		return badRequest("push needs a uid")
	}
	if err := checkPush(uri, body); err != nil {
		return err
	}
	id := c.ids.Add(1) // the link's key only: the original frame has no seq
	frame, err := encodeRequest(c.wire, 0, pack.URILegacyPush, &pack.PushRequest{UID: uid, URI: uri, Body: string(body)})
	if err != nil {
		return err
	}
	_, err = c.do(ctx, newRequest(id, frame, true))
	return err
}

func (c *PlexClient) push(ctx context.Context, req pack.PushRequest, uri string, body []byte, opts []SendOption) (Result, error) {
	if err := checkPush(uri, body); err != nil {
		return Result{}, err
	}
	req.URI, req.Body = uri, string(body)
	for _, o := range opts {
		o(&req)
	}
	if req.Persist && (req.Room != "" || req.All) {
		return Result{}, badRequest("only pushes to users can be persistent")
	}
	id := c.ids.Add(1)
	frame, err := encodeRequest(c.wire, id, pack.URIPush, &req)
	if err != nil {
		return Result{}, err
	}
	rep, err := c.do(ctx, newRequest(id, frame, false))
	if err != nil {
		return Result{}, err
	}
	return parseReply(rep.msg)
}

func parseReply(m *pack.Message) (Result, error) {
	var res Result
	switch m.URI {
	case pack.URIReply:
		if res, ok := parseCanonicalOutcome(m.Body); ok {
			return res, nil
		}
		if err := json.Unmarshal(m.Body, &res); err != nil {
			return Result{}, fmt.Errorf("%w: unreadable reply: %v", ErrOutcomeUnknown, err)
		}
		return res, nil
	case pack.URIError:
		return Result{}, requestError(m)
	}
	return Result{}, fmt.Errorf("%w: unexpected reply %q", ErrOutcomeUnknown, m.URI)
}

// do sends r through a healthy node, waiting for one if none is connected,
// and retries on another node as long as r provably was not written.
func (c *PlexClient) do(ctx context.Context, r *request) (reply, error) {
	if err := ctx.Err(); err != nil {
		return reply{}, notSent(err)
	}
	var timeout *time.Timer // the wait for a node, started at the first miss
	waiting := false        // counted in c.waiting (bounded by MaxPending)
	leave := func() {
		if waiting {
			c.waiting.Add(-1)
			waiting = false
		}
	}
	defer func() {
		leave()
		if timeout != nil {
			timeout.Stop()
		}
	}()
	for {
		select {
		case <-c.closed:
			return reply{}, ErrClosed
		default:
		}
		changed := c.changed() // before pick: a node connecting after pick wakes us
		picked, err := c.pick(r)
		if err != nil {
			return reply{}, err
		}
		if picked {
			leave()
			if rep, retry, err := r.await(ctx); !retry {
				return rep, err
			}
			continue
		}
		if err := c.failed(); err != nil {
			return reply{}, err
		}
		if !waiting {
			if c.waiting.Add(1) > int64(c.cfg.MaxPending) {
				c.waiting.Add(-1)
				return reply{}, ErrQueueFull
			}
			waiting = true
		}
		if timeout == nil {
			timeout = time.NewTimer(c.cfg.RequestTimeout)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return reply{}, c.noNode(ctx.Err())
		case <-timeout.C:
			return reply{}, c.noNode(ctx.Err()) // ctx may have ended too
		case <-c.closed:
			return reply{}, ErrClosed
		}
	}
}

// pick hands r to the next healthy node connection, round-robin; false
// when none took it. A silent node (silence.go) takes it only when no
// other connection does. A frame over the limit of every connected node is
// refused as a bad request, as a node would refuse the push.
func (c *PlexClient) pick(r *request) (bool, error) {
	n := uint64(len(c.nodes))
	start := c.rr.Add(1)
	var tooLarge, fits bool
	for i := range 2 * n {
		l := c.nodes[(start+i)%n].cur.Load()
		if l == nil || l.suspect.Load() != (i >= n) {
			continue // the first round skips suspect links, the second takes only them
		}
		ok, err := l.enqueue(r)
		if ok {
			return true, nil
		}
		if err != nil {
			tooLarge = true
		} else {
			fits = true
		}
	}
	if tooLarge && !fits {
		return false, badRequest(fmt.Sprintf("push of %d bytes is over the nodes' frame limit", len(r.frame)-pack.HeaderSize))
	}
	return false, nil
}

// failed returns a node's terminal error when every node has failed for
// good (no wait can help), else nil.
func (c *PlexClient) failed() error {
	var first error
	for _, n := range c.nodes {
		n.mu.Lock()
		err := n.fatal
		n.mu.Unlock()
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// noNode builds ErrNoNode with the cause of the wait's end and the last
// connection error seen.
func (c *PlexClient) noNode(ctxErr error) error {
	var last error
	for _, n := range c.nodes {
		n.mu.Lock()
		if n.last != nil {
			last = n.last
		}
		n.mu.Unlock()
	}
	switch {
	case ctxErr != nil && last != nil:
		return fmt.Errorf("%w: %w (last node error: %v)", ErrNoNode, ctxErr, last)
	case ctxErr != nil:
		return fmt.Errorf("%w: %w", ErrNoNode, ctxErr)
	case last != nil:
		return fmt.Errorf("%w within %v (last node error: %v)", ErrNoNode, c.cfg.RequestTimeout, last)
	}
	return fmt.Errorf("%w within %v", ErrNoNode, c.cfg.RequestTimeout)
}

func (c *PlexClient) changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.change
}

// notify wakes every request waiting for a node.
func (c *PlexClient) notify() {
	c.mu.Lock()
	close(c.change)
	c.change = make(chan struct{})
	c.mu.Unlock()
}

// Close closes every node connection and stops reconnecting. Requests not
// yet written fail with ErrClosed; written ones whose reply had not come
// fail with ErrOutcomeUnknown. Every goroutine of the client has exited
// when Close returns.
func (c *PlexClient) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.cancel()
		for _, n := range c.nodes {
			if l := n.cur.Load(); l != nil {
				l.kill(ErrClosed)
			}
		}
	})
	c.wg.Wait()
	c.hc.CloseIdleConnections()
	return nil
}

// Stats is a snapshot of a PlexClient's connections.
type Stats struct {
	// Nodes is the number of configured nodes; Connected, how many have a
	// connection now; Silent, how many of those answer nothing while they
	// hold requests, so that new requests go to the others (a frozen node).
	Nodes, Connected, Silent int
	// Pending is the number of requests held by node connections (queued or
	// waiting for their reply); Waiting, the number waiting for a node.
	Pending, Waiting int
	// Writes counts Write calls to nodes and Frames the frames they carried:
	// Frames/Writes is the batching factor of the client→node hop.
	Writes, Frames uint64
}

// Stats returns current counts.
func (c *PlexClient) Stats() Stats {
	s := Stats{Nodes: len(c.nodes), Waiting: int(c.waiting.Load()),
		Writes: c.stats.writes.Load(), Frames: c.stats.frames.Load()}
	for _, n := range c.nodes {
		if l := n.cur.Load(); l != nil {
			s.Connected++
			s.Pending += l.load()
			if l.suspect.Load() {
				s.Silent++
			}
		}
	}
	return s
}
