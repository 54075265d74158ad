package cluster

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// purger drops users' acked pushes from the stream in the background, at
// most once per user per purgeDelay. Purging is JetStream's costliest call
// here: with many users' messages interleaved in the stream's blocks, a
// subject purge reads whole blocks. Done on every ack it took a fifth of
// plexd's CPU with 10,000 acking apps; a message acked by every device
// stays on disk a few seconds longer instead (it is never replayed: a
// login replays after the device's cursor).
type purger struct {
	s *Store

	mu      sync.Mutex
	due     map[string]uint64 // uid → the seq every device acked
	running map[string]uint64 // the round being purged
	timer   *time.Timer       // armed while due is not empty
}

// purgeDelay is how long acks gather before their purge.
const purgeDelay = 2 * time.Second

// purgeWorkers bounds the purges one round runs at once.
const purgeWorkers = 4

// add schedules the purge of uid's messages up to low.
func (p *purger) add(uid string, low uint64) {
	if low == 0 {
		return
	}
	if done, _ := p.s.purged.get(uid); done >= low {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.due == nil {
		p.due = make(map[string]uint64)
	}
	if low > p.due[uid] {
		p.due[uid] = low
	}
	if p.timer == nil {
		p.timer = time.AfterFunc(purgeDelay, p.run)
	}
}

// upTo returns the seq up to which uid's messages are purged or due to be
// (as known here).
func (p *purger) upTo(uid string) uint64 {
	done, _ := p.s.purged.get(uid)
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(done, p.due[uid], p.running[uid])
}

// run purges what is due, then re-arms if more came meanwhile.
func (p *purger) run() {
	p.mu.Lock()
	due := p.due
	p.due, p.running = nil, due
	p.mu.Unlock()
	sem := make(chan struct{}, purgeWorkers)
	var wg sync.WaitGroup
	var failMu sync.Mutex
	var failed int
	var firstErr error
	for uid, low := range due {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), p.s.c.cfg.RequestTimeout)
			defer cancel()
			if err := p.s.purge(ctx, uid, low); err != nil {
				failMu.Lock()
				if failed++; firstErr == nil {
					firstErr = err
				}
				failMu.Unlock()
			}
		})
	}
	wg.Wait()
	switch {
	case failed == 0:
	case errors.Is(firstErr, nats.ErrConnectionClosed):
		// the node is stopping: not worth a line per user
		p.s.c.log.Debug("cluster: purges not run, the NATS connection is closed (acked pushes expire with their TTL)", "users", failed)
	default:
		p.s.c.log.Warn("cluster: purge acked pushes (they expire with their TTL)", "users", failed, "err", firstErr)
	}
	p.mu.Lock()
	p.running = nil
	if len(p.due) > 0 {
		p.timer.Reset(purgeDelay)
	} else {
		p.timer = nil
	}
	p.mu.Unlock()
}

// flush runs the due purges now (tests).
func (p *purger) flush() {
	p.mu.Lock()
	t := p.timer
	p.mu.Unlock()
	if t != nil && t.Stop() {
		p.run()
	}
}
