package client

import (
	"sync"

	"github.com/plexpush/plex/pack"
)

// event is one callback for the dispatcher: a message or a state change;
// or a rewind of the delivered seq (no callback).
type event struct {
	msg    *pack.Message // nil for a state change
	state  State
	err    error
	rewind bool  // the node's store does not know the app's seqs: delivered = to
	to     int64 // with rewind
}

// maxQueuedMessages bounds the messages read but not yet handed to
// OnMessage. When the app's callback is slower than the node, the reader
// stops reading at this bound, TCP pushes back, and the node deals with a
// slow consumer as it does for any app (3002 → reconnect → resume), instead
// of this process buffering without limit. 1024 covers any burst a node
// writes in one go to one connection.
const maxQueuedMessages = 1024

// dispatcher delivers a Conn's callbacks in order on one goroutine, never
// on the reader. State changes are queued without bound (there are few and
// the connection loop must never block on the app); messages up to
// maxQueuedMessages, after which postMessage waits.
type dispatcher struct {
	max    int // maxQueuedMessages; tests lower it
	mu     sync.Mutex
	q      []event
	msgs   int  // messages in q
	closed bool // no more events after the queued ones
	wake   chan struct{}
	space  chan struct{}
}

func newDispatcher() *dispatcher {
	return &dispatcher{max: maxQueuedMessages, wake: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// postState queues a state change; it never blocks.
func (d *dispatcher) postState(s State, err error) {
	d.mu.Lock()
	d.q = append(d.q, event{state: s, err: err})
	d.mu.Unlock()
	signal(d.wake)
}

// postRewind queues a rewind of the delivered seq to seq, after the
// messages queued before it; it never blocks.
func (d *dispatcher) postRewind(seq int64) {
	d.mu.Lock()
	d.q = append(d.q, event{rewind: true, to: seq})
	d.mu.Unlock()
	signal(d.wake)
}

// postMessage queues m, waiting while the queue is full; false when stop
// closed first (m was not queued).
func (d *dispatcher) postMessage(m *pack.Message, stop <-chan struct{}) bool {
	for {
		d.mu.Lock()
		if d.msgs < d.max {
			d.q = append(d.q, event{msg: m})
			d.msgs++
			d.mu.Unlock()
			signal(d.wake)
			return true
		}
		d.mu.Unlock()
		select {
		case <-d.space:
		case <-stop:
			return false
		}
	}
}

// close ends the run loop once the queued events are handled.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	signal(d.wake)
}

// run hands every event to handle, in order, until close. last is true for
// the last event of a batch (nothing else queued right now): a natural point
// to ack.
func (d *dispatcher) run(handle func(ev event, last bool)) {
	var batch []event
	for {
		d.mu.Lock()
		for len(d.q) == 0 && !d.closed {
			d.mu.Unlock()
			<-d.wake
			d.mu.Lock()
		}
		if len(d.q) == 0 { // closed and drained
			d.mu.Unlock()
			return
		}
		batch, d.q = d.q, batch[:0]
		d.msgs = 0
		d.mu.Unlock()
		signal(d.space)
		for i, ev := range batch {
			handle(ev, i == len(batch)-1)
		}
		clear(batch)
	}
}
