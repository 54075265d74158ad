package server

import (
	"sync"
	"time"
)

// closeTimers tracks the node's close timers (a connection's linger or
// close grace): a timer still pending when the node finishes runs at once,
// and finish waits for every timer func, so nothing of a node runs after
// Shutdown or Close returned.
type closeTimers struct {
	mu      sync.Mutex
	pending map[*time.Timer]func()
	done    bool
	running sync.WaitGroup
}

// after runs f after d, or when the node finishes, whichever comes first;
// once the node finished, at once.
func (ct *closeTimers) after(d time.Duration, f func()) {
	ct.mu.Lock()
	if ct.done {
		ct.mu.Unlock()
		f()
		return
	}
	if ct.pending == nil {
		ct.pending = make(map[*time.Timer]func())
	}
	ct.running.Add(1)
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		defer ct.running.Done()
		ct.mu.Lock()
		_, mine := ct.pending[t]
		delete(ct.pending, t)
		ct.mu.Unlock()
		if mine {
			f()
		}
	})
	ct.pending[t] = f
	ct.mu.Unlock()
}

// finish runs every pending timer's func now and waits for those running.
func (ct *closeTimers) finish() {
	ct.mu.Lock()
	ct.done = true
	pending := ct.pending
	ct.pending = nil
	ct.mu.Unlock()
	for t, f := range pending {
		if t.Stop() {
			ct.running.Done()
		}
		f()
	}
	ct.running.Wait()
}

// len is the number of pending timers (tests).
func (ct *closeTimers) len() int {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return len(ct.pending)
}
