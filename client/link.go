package client

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexpush/plex/pack"
)

// link is one authenticated connection to a node and its two goroutines:
//
//   - the reader decodes frames and hands each one (heartbeats aside) to
//     onFrame; nothing it receives for the connection's timeout kills it;
//   - the writer waits until requests are queued, then writes every queued
//     frame with ONE Write (pipelining: however many requests were issued
//     while the previous write ran, they share the next syscall), and
//     writes /heartbeat when it wrote nothing for the heartbeat interval.
//
// Both exit when the link is killed (by either of them on an error, or by
// its owner); wait returns after both exited and settles every request the
// link still held. A link is never reused: the owner dials a new one.
type link struct {
	nc       net.Conn
	r        *pack.Reader
	hbFrame  []byte
	order    pack.Order
	codec    pack.Codec
	maxLoad  int  // most requests held at once; 0: no bound
	drain    bool // the node answers what it executed before any /disconnect (protocol §13.4)
	maxFrame int  // the node's frame body limit
	stats    *counters

	// onFrame runs on the reader goroutine for every frame but heartbeats;
	// an error kills the link. It must return promptly once stop is closed.
	onFrame func(m *pack.Message) error
	// extra, when set, runs on the writer goroutine before each write and
	// may append frames (acks); it returns the number appended.
	extra func(dst []byte) ([]byte, int)

	// The pace in force (pace.go): the normal one, or background mode's.
	hbNanos, toNanos atomic.Int64
	fg, bg           pace        // as the node announced them; bg zero: not offered
	wantBG           atomic.Bool // background mode wanted (setBackground)
	sentBG           bool        // background mode last requested (writer only)
	paceChanged      atomic.Bool // the writer must re-arm its heartbeat timer

	received     atomic.Bool  // a frame other than a heartbeat echo arrived after the handshake
	writingSince atomic.Int64 // unix nanos when the current Write began; 0: none

	// silence.go: a push client's watch on a node that stops answering
	lastRead  atomic.Int64 // unix nanos of the last frame read
	busySince atomic.Int64 // unix nanos when the link last began to hold requests
	probeAt   atomic.Int64 // unix nanos of the last silence probe; 0: none
	wantProbe atomic.Bool  // the writer sends a heartbeat now
	suspect   atomic.Bool  // silent past its probe: new requests go elsewhere

	mu      sync.Mutex
	queue   []*request         // waiting for the writer, in order
	pending map[int64]*request // every request held: queued, or written and waiting for its reply
	written []sent             // written requests in write order, for stall detection
	head    int                // written[:head] were answered
	dead    bool
	err     error // why the link died (first cause)
	wake    chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup
}

type sent struct {
	id int64
	at time.Time
}

// counters are the frames-per-write statistics of a client's connections.
type counters struct {
	writes atomic.Uint64
	frames atomic.Uint64
}

func newLink(nc net.Conn, r *pack.Reader, w wire, info sessionInfo, stats *counters) *link {
	hb, _ := pack.EncodeFrame(w.order, w.codec, &pack.Message{URI: pack.URIHeartbeat})
	l := &link{
		nc: nc, r: r, hbFrame: hb, order: w.order, codec: w.codec, drain: info.Drain,
		fg: info.foreground(), bg: info.background(), maxFrame: info.frameLimit(),
		stats:   stats,
		pending: make(map[int64]*request),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
	l.setPace(l.fg)
	l.lastRead.Store(time.Now().UnixNano())
	return l
}

// start runs the reader and the writer.
func (l *link) start() {
	l.wg.Add(2)
	go l.readLoop()
	go l.writeLoop()
}

// errTooLarge: a frame over the node's limit, which would make the node
// close the connection (3006); it is refused before it is written.
var errTooLarge = errors.New("client: frame over the node's limit")

// enqueue hands r to the writer. It fails when the link is dead or holds
// maxLoad requests already (the caller tries another node), and with
// errTooLarge when r's frame is over the node's limit.
func (l *link) enqueue(r *request) (bool, error) {
	if len(r.frame)-pack.HeaderSize > l.maxFrame {
		return false, errTooLarge
	}
	l.mu.Lock()
	if l.dead || (l.maxLoad > 0 && len(l.pending) >= l.maxLoad) {
		l.mu.Unlock()
		return false, nil
	}
	if len(l.pending) == 0 {
		l.busySince.Store(time.Now().UnixNano()) // silence counts from here (silence.go)
	}
	l.pending[r.id] = r
	l.queue = append(l.queue, r)
	l.mu.Unlock()
	l.kick()
	return true, nil
}

// kick wakes the writer (e.g. an ack is due).
func (l *link) kick() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// load returns the number of requests the link holds.
func (l *link) load() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// complete ends the request that a /reply or /error with seq answers. It
// reports whether the link held a request with that id (its waiter may
// have given up since: the reply is then dropped). Replies to requests
// nobody holds (abandoned long ago) report false.
func (l *link) complete(seq int64, rep reply) bool {
	l.mu.Lock()
	r := l.pending[seq]
	delete(l.pending, seq)
	l.mu.Unlock()
	if r != nil {
		r.finish(rep)
	}
	return r != nil
}

// kill closes the connection; the first cause is kept. Safe to call any
// number of times from any goroutine.
func (l *link) kill(err error) {
	l.mu.Lock()
	if l.dead {
		l.mu.Unlock()
		return
	}
	l.dead, l.err = true, err
	l.mu.Unlock()
	close(l.stop)
	_ = l.nc.Close()
}

// isDead reports whether the link was killed.
func (l *link) isDead() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dead
}

// wait blocks until both goroutines exited, settles what the link held and
// returns why it died. A request never written ends with errNotSent (its
// sender may retry it elsewhere); one written without a reply ends with
// ErrOutcomeUnknown, unless the node closed it with /disconnect after
// promising to answer everything it executed first (drain, protocol
// §13.4): then it was not executed, and ends with errNotSent too.
func (l *link) wait() error {
	l.wg.Wait()
	l.mu.Lock()
	pending, err := l.pending, l.err
	l.pending, l.queue, l.written = nil, nil, nil
	l.mu.Unlock()
	unknown := reply{err: fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)}
	var disconnect *pack.CodeError // the node's /disconnect (the only code a link dies of)
	notExecuted := l.drain && errors.As(err, &disconnect) && disconnect.Code != pack.CodeOutcomeUnknown
	for _, r := range pending {
		if notExecuted || r.state.Load() == reqQueued {
			r.finish(reply{err: errNotSent})
		} else {
			r.finish(unknown)
		}
	}
	return err
}

// stalled reports whether the node left a written request unanswered, or
// a write blocked, for longer than limit.
func (l *link) stalled(now time.Time, limit time.Duration) bool {
	if ws := l.writingSince.Load(); ws != 0 && now.Sub(time.Unix(0, ws)) > limit {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.popAnswered()
	return l.head < len(l.written) && now.Sub(l.written[l.head].at) > limit
}

// popAnswered drops answered requests from the front of written; l.mu held.
func (l *link) popAnswered() {
	for l.head < len(l.written) {
		if _, ok := l.pending[l.written[l.head].id]; ok {
			break
		}
		l.head++
	}
	if l.head == len(l.written) {
		l.written, l.head = l.written[:0], 0
	} else if l.head > 1024 && l.head > len(l.written)/2 {
		l.written = l.written[:copy(l.written, l.written[l.head:])]
		l.head = 0
	}
}

func (l *link) readLoop() {
	defer l.wg.Done()
	var refreshed time.Time
	for {
		// Liveness: the deadline moves with every frame, refreshed at most
		// every timeout/8 so a busy connection does not pay for it per frame.
		if now, timeout := time.Now(), l.timeout(); now.Sub(refreshed) > timeout/8 {
			_ = l.nc.SetReadDeadline(now.Add(timeout))
			refreshed = now
		}
		m := new(pack.Message) // handed to another goroutine: never reused
		if err := l.r.ReadMessage(m); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = errHeartbeat
			}
			l.kill(err)
			return
		}
		l.lastRead.Store(time.Now().UnixNano())
		if m.URI == pack.URIHeartbeat {
			if l.heartbeatEcho(m) {
				refreshed = time.Time{}
			}
			continue
		}
		l.received.Store(true)
		if err := l.onFrame(m); err != nil {
			l.kill(err)
			return
		}
	}
}

func (l *link) writeLoop() {
	defer l.wg.Done()
	idle := time.NewTimer(l.heartbeat())
	defer idle.Stop()
	var (
		batch []*request
		ends  []int // end offset in buf of each batch frame
		buf   []byte
	)
	for {
		heartbeat := false
		select {
		case <-l.stop:
			return
		case <-l.wake:
		case <-idle.C:
			heartbeat = true
		}
		// Let the goroutines that are runnable now (senders woken by the
		// replies the reader just handed out) queue their frames first:
		// they then share this write instead of each costing a syscall.
		// Without it a writer on a spare P wakes for every single frame
		// (measured: 1.0 frames per write vs. ~400 with 2,000 senders).
		runtime.Gosched()
		l.mu.Lock()
		batch, l.queue = l.queue, batch[:0]
		n := 0
		for _, r := range batch {
			if r.state.CompareAndSwap(reqQueued, reqTaken) {
				batch[n] = r
				n++
			} else { // cancelled by its waiter
				delete(l.pending, r.id)
			}
		}
		clear(batch[n:])
		batch = batch[:n]
		l.mu.Unlock()

		buf, ends = buf[:0], ends[:0]
		for _, r := range batch {
			buf = append(buf, r.frame...)
			ends = append(ends, len(buf))
		}
		frames := len(batch)
		if l.extra != nil {
			var k int
			buf, k = l.extra(buf)
			frames += k
		}
		if l.bg.heartbeat > 0 {
			var k int
			buf, k = l.modeFrame(buf)
			frames += k
		}
		if (len(buf) == 0 && heartbeat) || l.wantProbe.Swap(false) {
			buf = append(buf, l.hbFrame...)
			frames++
		}
		if len(buf) == 0 {
			if l.paceChanged.Swap(false) {
				idle.Reset(l.heartbeat())
			}
			continue
		}
		now := time.Now()
		_ = l.nc.SetWriteDeadline(now.Add(l.timeout()))
		l.writingSince.Store(now.UnixNano())
		wrote, err := l.nc.Write(buf)
		l.writingSince.Store(0)
		l.stats.writes.Add(1)
		l.stats.frames.Add(uint64(frames))
		l.afterWrite(batch, ends, wrote, err)
		clear(batch)
		if cap(buf) > 1<<20 {
			buf = nil // a burst's buffer is not kept by an idle connection
		}
		if err != nil {
			l.kill(err)
			return
		}
		l.paceChanged.Store(false)
		idle.Reset(l.heartbeat())
	}
}

// afterWrite records what Write did with each frame. A frame that was not
// written completely never reached the node as a frame (the node drops a
// truncated frame when the connection closes), so it is safe to retry.
func (l *link) afterWrite(batch []*request, ends []int, wrote int, err error) {
	now := time.Now()
	var notSent, done []*request
	l.mu.Lock()
	for i, r := range batch {
		switch {
		case err != nil && ends[i] > wrote:
			delete(l.pending, r.id)
			if r.state.CompareAndSwap(reqTaken, reqQueued) { // else its waiter gave up
				notSent = append(notSent, r)
			}
		case r.onWrite:
			delete(l.pending, r.id)
			done = append(done, r)
		default:
			r.state.CompareAndSwap(reqTaken, reqWritten)
			l.written = append(l.written, sent{id: r.id, at: now})
		}
	}
	l.popAnswered()
	l.mu.Unlock()
	for _, r := range notSent {
		r.finish(reply{err: errNotSent})
	}
	for _, r := range done {
		r.finish(reply{})
	}
}
