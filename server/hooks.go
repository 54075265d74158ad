package server

import (
	"sync"

	"github.com/plexpush/plex/pack"
)

// Hook uids are qualified (QualifiedUID): "uid" for the default app,
// "app/uid" for others, "/uid" for a default-app uid containing "/".
//
// hooks runs the embedder's presence and undelivered callbacks on one
// goroutine, in the order the events happened: never on the event loop, and
// never in a different order than the transitions (online before offline).
// The queue is unbounded in count but each event is small; it drains as
// fast as the callbacks return.
type hooks struct {
	cfg  *Config
	mu   sync.Mutex
	cond *sync.Cond
	q    []func()
	stop bool
	done chan struct{}
}

func newHooks(cfg *Config) *hooks {
	h := &hooks{cfg: cfg, done: make(chan struct{})}
	h.cond = sync.NewCond(&h.mu)
	go h.run() // exits when close is called and the queue is drained
	return h
}

func (h *hooks) post(fn func()) {
	h.mu.Lock()
	if !h.stop {
		h.q = append(h.q, fn)
		h.cond.Signal()
	}
	h.mu.Unlock()
}

func (h *hooks) run() {
	defer close(h.done)
	for {
		h.mu.Lock()
		for len(h.q) == 0 && !h.stop {
			h.cond.Wait()
		}
		if len(h.q) == 0 {
			h.mu.Unlock()
			return
		}
		q := h.q
		h.q = nil
		h.mu.Unlock()
		for _, fn := range q {
			fn()
		}
	}
}

// close stops accepting events, runs the queued ones and waits for them.
func (h *hooks) close() {
	h.mu.Lock()
	h.stop = true
	h.cond.Signal()
	h.mu.Unlock()
	<-h.done
}

func (h *hooks) online(k key) {
	if f := h.cfg.OnOnline; f != nil {
		uid := qualified(k)
		h.post(func() { f(uid) })
	}
}

func (h *hooks) offline(k key) {
	if f := h.cfg.OnOffline; f != nil {
		uid := qualified(k)
		h.post(func() { f(uid) })
	}
}

// undelivered fires OnUndelivered unless elsewhere (nil: no cluster) says
// another node holds the user; elsewhere runs on the hooks goroutine, then
// fired right before OnUndelivered, or held instead of it.
func (h *hooks) undelivered(uid key, m *pack.Message, persisted bool, elsewhere func() bool, fired, held func()) {
	if f := h.cfg.OnUndelivered; f != nil {
		msg := *m
		q := qualified(uid)
		h.post(func() {
			if elsewhere == nil || !elsewhere() {
				fired()
				f(q, &msg, persisted)
			} else {
				held()
			}
		})
	}
}
