package vendorpush

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
)

// Defaults of Config.
const (
	// DefaultConcurrency: eight sends in flight. Both vendors multiplex
	// requests on one HTTP/2 connection and answer in tens of
	// milliseconds, so eight keep a node at hundreds of notifications per
	// second while a stuck vendor holds at most eight goroutines.
	DefaultConcurrency = 8
	// DefaultQueueSize: 1024 undelivered pushes waiting for a worker,
	// a few seconds of a burst at the rate above; each costs its mapped
	// notification (a few hundred bytes).
	DefaultQueueSize = 1024
	// DefaultSendTimeout bounds one device's send, retries included:
	// enough for three attempts with backoff against a slow vendor, short
	// enough that a dead vendor frees the worker within a minute.
	DefaultSendTimeout = 30 * time.Second
)

// Config configures a Dispatcher. The zero value works.
type Config struct {
	// Concurrency is the number of workers, hence of sends in flight.
	// Zero: DefaultConcurrency.
	Concurrency int
	// QueueSize bounds the pushes waiting for a worker; when it is full
	// Hook drops the push, counts it and logs why. Zero: DefaultQueueSize.
	QueueSize int
	// SendTimeout bounds the registry lookup and each device's send
	// (retries included). Zero: DefaultSendTimeout.
	SendTimeout time.Duration
	// Map turns an undelivered push into a notification, or says with
	// ok == false that the push gets none. It runs on the hook goroutine,
	// so it must be quick and must not keep m. Nil: MapMessage.
	Map func(uid string, m *pack.Message, persisted bool) (n Notification, ok bool)
	// Logger receives Debug per notification sent, Info per token removed,
	// Warn per failed send and per burst of drops, Error when a vendor
	// refuses the credentials. Device tokens appear only as Redact shows
	// them. Nil: silent.
	Logger *slog.Logger
}

// Stats counts what a Dispatcher did since New. Pushes are counted once
// when they reach Hook; devices once per send.
type Stats struct {
	Queued    uint64 // pushes accepted into the queue
	Skipped   uint64 // pushes Map declined
	Dropped   uint64 // pushes dropped because the queue was full
	Discarded uint64 // pushes dropped because the Dispatcher was stopping or stopped
	NoDevices uint64 // pushes for users without devices (a device push: without a token of that device), or whose lookup failed
	Sent      uint64 // devices whose vendor accepted the notification
	Failed    uint64 // devices whose send failed (token removals included)
	NoSender  uint64 // devices of a platform without a Sender
	Removed   uint64 // invalid tokens removed from the registry
}

// Dispatcher turns undelivered plex pushes into vendor notifications. Its
// Hook method is a server.Config.OnUndelivered:
//
//	d, _ := vendorpush.New(reg, senders, vendorpush.Config{})
//	srv, _ := server.New(server.Config{OnUndelivered: d.Hook})
//
// Hook maps the push and queues it without blocking; Concurrency workers
// look up the user's devices and send to each in turn with that device's
// Sender. A push to one device of the user (meta "device", set by the
// node: server.Device, PushRequest.device) goes only to the tokens whose
// Device.ID is that device; any other push goes to every token of the
// user. A token its vendor calls invalid is removed from the registry.
// Stop it with Shutdown or Close after the server's Shutdown (which runs
// the last hooks).
//
// Notifications for one user may be sent out of order (several workers);
// vendors do not promise order either.
type Dispatcher struct {
	reg     DeviceRegistry
	senders map[Platform]Sender
	mapFn   func(string, *pack.Message, bool) (Notification, bool)
	timeout time.Duration
	log     *slog.Logger

	mu     sync.RWMutex // guards closed against Hook sending on q
	closed bool
	q      chan job
	cancel context.CancelFunc // cancels every worker's sends
	wg     sync.WaitGroup     // workers

	lastDropLog atomic.Int64 // unix nanos of the last Warn about drops
	st          struct {
		queued, skipped, dropped, discarded, noDevices, sent, failed, noSender, removed atomic.Uint64
	}
}

type job struct {
	uid    string
	device string // the push's meta "device": only that device's tokens; "": every token
	n      Notification
}

// New returns a running Dispatcher that sends through senders (keyed by the
// devices' Platform) to the devices reg lists. senders is copied.
func New(reg DeviceRegistry, senders map[Platform]Sender, cfg Config) (*Dispatcher, error) {
	switch {
	case reg == nil:
		return nil, fmt.Errorf("%w: nil DeviceRegistry", ErrBadConfig)
	case len(senders) == 0:
		return nil, fmt.Errorf("%w: no Sender", ErrBadConfig)
	case cfg.Concurrency < 0 || cfg.QueueSize < 0 || cfg.SendTimeout < 0:
		return nil, fmt.Errorf("%w: negative Concurrency, QueueSize or SendTimeout", ErrBadConfig)
	}
	d := &Dispatcher{
		reg:     reg,
		senders: make(map[Platform]Sender, len(senders)),
		mapFn:   cfg.Map,
		timeout: cfg.SendTimeout,
		log:     plog.OrDiscard(cfg.Logger),
	}
	for p, s := range senders {
		if s == nil {
			return nil, fmt.Errorf("%w: nil Sender for %q", ErrBadConfig, p)
		}
		d.senders[p] = s
	}
	if d.mapFn == nil {
		d.mapFn = MapMessage
	}
	if d.timeout == 0 {
		d.timeout = DefaultSendTimeout
	}
	workers, size := cfg.Concurrency, cfg.QueueSize
	if workers == 0 {
		workers = DefaultConcurrency
	}
	if size == 0 {
		size = DefaultQueueSize
	}
	d.q = make(chan job, size)
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.wg.Add(workers)
	for range workers {
		go d.work(ctx) // exits when q is closed and drained, or ctx is cancelled
	}
	return d, nil
}

// Hook is the server.Config.OnUndelivered callback. It maps the push and
// queues it, never waiting: when the queue is full, or the Dispatcher is
// stopped, the push is dropped and counted (Stats), and a Warn is logged at
// most once a second.
func (d *Dispatcher) Hook(uid string, m *pack.Message, persisted bool) {
	if m == nil {
		return
	}
	n, ok := d.mapFn(uid, m, persisted)
	if !ok {
		d.st.skipped.Add(1)
		d.log.Debug("vendorpush: push not mapped", plog.KeyUID, uid, plog.KeyURI, m.URI)
		return
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		d.st.discarded.Add(1)
		d.warnDrop("dispatcher stopped", uid, d.st.discarded.Load())
		return
	}
	select {
	case d.q <- job{uid: uid, device: m.Meta[pack.MetaDevice], n: n}:
		d.st.queued.Add(1)
	default:
		d.warnDrop("queue full", uid, d.st.dropped.Add(1))
	}
}

// warnDrop logs a drop unless one was logged less than a second ago: under
// a flood, one line a second with the running total says as much as a line
// per push without making the log the next bottleneck.
func (d *Dispatcher) warnDrop(reason, uid string, total uint64) {
	now := time.Now().UnixNano()
	last := d.lastDropLog.Load()
	if now-last < int64(time.Second) || !d.lastDropLog.CompareAndSwap(last, now) {
		return
	}
	d.log.Warn("vendorpush: push dropped", "reason", reason, plog.KeyUID, uid, "total", total)
}

// work is one worker. It returns when q is closed and empty, or when ctx is
// cancelled (then it discards, and counts, what it takes from q).
func (d *Dispatcher) work(ctx context.Context) {
	defer d.wg.Done()
	for j := range d.q {
		if ctx.Err() != nil {
			d.st.discarded.Add(1)
			continue
		}
		d.deliver(ctx, j)
	}
}

// deliver sends j to every device of j.uid, or to those of j.device.
func (d *Dispatcher) deliver(ctx context.Context, j job) {
	lctx, cancel := context.WithTimeout(ctx, d.timeout)
	devs, err := d.reg.Devices(lctx, j.uid)
	cancel()
	if err != nil {
		d.st.noDevices.Add(1)
		d.log.Warn("vendorpush: device lookup failed", plog.KeyUID, j.uid, plog.Err(err))
		return
	}
	if len(devs) == 0 {
		d.st.noDevices.Add(1)
		d.log.Debug("vendorpush: user has no device", plog.KeyUID, j.uid)
		return
	}
	if j.device != "" {
		// A token registered without an ID (an app that sends no meta
		// "device") can be no device push's target: its connections never
		// receive one either (server/push_device.go).
		devs = ofDevice(devs, j.device)
		if len(devs) == 0 {
			d.st.noDevices.Add(1)
			d.log.Debug("vendorpush: no token of the push's device", plog.KeyUID, j.uid, "plex_device", j.device)
			return
		}
	}
	for _, dev := range devs {
		if ctx.Err() != nil {
			return
		}
		d.send(ctx, j, dev)
	}
}

// ofDevice returns the devices whose ID is id, in a new slice: a registry
// may hand out one it keeps.
func ofDevice(devs []Device, id string) []Device {
	var out []Device
	for _, x := range devs {
		if x.ID == id {
			out = append(out, x)
		}
	}
	return out
}

func (d *Dispatcher) send(ctx context.Context, j job, dev Device) {
	log := d.log.With(plog.KeyUID, j.uid, "platform", string(dev.Platform), "device", Redact(dev.Token))
	s := d.senders[dev.Platform]
	if s == nil {
		d.st.noSender.Add(1)
		log.Debug("vendorpush: no sender for platform")
		return
	}
	n := j.n
	n.Token = dev.Token
	sctx, cancel := context.WithTimeout(ctx, d.timeout)
	err := s.Send(sctx, n)
	cancel()
	if err == nil {
		d.st.sent.Add(1)
		log.Debug("vendorpush: sent")
		return
	}
	d.st.failed.Add(1)
	switch {
	case errors.Is(err, ErrInvalidToken):
		rctx, cancel := context.WithTimeout(ctx, d.timeout)
		rerr := d.reg.Remove(rctx, j.uid, dev)
		cancel()
		if rerr != nil {
			log.Warn("vendorpush: invalid token not removed", plog.Err(err), "remove_err", rerr)
			return
		}
		d.st.removed.Add(1)
		log.Info("vendorpush: invalid token removed", plog.Err(err))
	case errors.Is(err, ErrAuth):
		log.Error("vendorpush: vendor refused credentials", plog.Err(err))
	case ctx.Err() != nil:
		log.Debug("vendorpush: send cancelled by stop", plog.Err(err))
	default:
		log.Warn("vendorpush: send failed", plog.Err(err))
	}
}

// Shutdown stops accepting pushes (Hook drops them from now on), lets the
// workers send what is queued, and returns when they are done. If ctx ends
// first, the sends in flight are cancelled, the rest of the queue is
// discarded, and Shutdown returns ctx.Err() once every worker has exited.
// A second call returns ErrClosed.
func (d *Dispatcher) Shutdown(ctx context.Context) error {
	if !d.stop() {
		return ErrClosed
	}
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }() // exits when the workers have
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
		d.cancel()
		<-done
		return ctx.Err()
	}
}

// Close stops at once: Hook drops pushes from now on, sends in flight are
// cancelled, the queue is discarded. It returns when every worker has
// exited. Called while Shutdown waits, it cuts Shutdown short the same way.
// If Shutdown or Close had already been called it still cancels and waits,
// and returns ErrClosed.
func (d *Dispatcher) Close() error {
	first := d.stop()
	d.cancel()
	d.wg.Wait()
	if !first {
		return ErrClosed
	}
	return nil
}

// stop marks d closed and closes the queue, once; it reports whether this
// call did it. Hook holds the read lock while it sends on q, so closing q
// under the write lock never races with a send.
func (d *Dispatcher) stop() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	d.closed = true
	close(d.q)
	return true
}

// Stats returns the counters. Each is read atomically; together they are a
// moment's approximation while the Dispatcher runs.
func (d *Dispatcher) Stats() Stats {
	return Stats{
		Queued:    d.st.queued.Load(),
		Skipped:   d.st.skipped.Load(),
		Dropped:   d.st.dropped.Load(),
		Discarded: d.st.discarded.Load(),
		NoDevices: d.st.noDevices.Load(),
		Sent:      d.st.sent.Load(),
		Failed:    d.st.failed.Load(),
		NoSender:  d.st.noSender.Load(),
		Removed:   d.st.removed.Load(),
	}
}

// Pending returns the number of pushes waiting for a worker.
func (d *Dispatcher) Pending() int { return len(d.q) }
