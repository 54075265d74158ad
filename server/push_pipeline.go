package server

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/plexpush/plex/pack"
)

// Pipelined persistent pushes, for a Store that does I/O (plexd's JetStream
// store; the memory store keeps the simple path: store and write under the
// user's order lock, in the pusher's call).
//
// A persistent push is answered only once the Store acknowledged it, but a
// node must not wait for one append before starting the next: that would
// bound a node to one store round trip per push. So pushes to a user form
// the user's pipe, a FIFO of jobs. The pipe's head is either an append in
// flight (the Store calls back when it is stored) or a login replay
// waiting for its turn; everything behind it, transient pushes included,
// waits, so a user's messages reach every connection in the order the node
// accepted them, and their seqs increase in that order. Pipes of different
// users run side by side: that is the pipelining. A user with nothing in
// flight has no pipe, and a transient push to them is delivered at once.
//
// Completions (the Store's callbacks) go through one goroutine, the
// completer, which writes the message to the user's connections, answers
// the pusher and starts the pipe's next job; it flushes once per round of
// completions, so a burst of answers to one push client is one writev.
//
// Admission: a pusher (push client, HTTP handler, Push) takes room in the
// node's budget for each persistent push and each push that must queue in
// a pipe (Config.MaxPersistInFlight jobs, and a bound on their bytes), and
// waits while there is none; the completer never waits for room, so the
// pipeline cannot deadlock, and a store that stops answering makes pushers
// wait (and a push client's queue overflow, 3005) instead of the node's
// memory grow.

// pushDone receives a push's outcome; b is the batch to queue frames on
// (the completer flushes it).
type pushDone func(b *batch, out Outcome, err error)

// pushJob is one push to one user in a pipe.
type pushJob struct {
	ctx  context.Context
	uid  key
	msg  pack.Message // persistent: with its meta; transient: as pushed
	sh   *pack.Shared // transient: its shared encoding (nil: encode here)
	o    pushOptions
	done pushDone
	turn chan struct{} // a login waiting for its turn: closed when it is the head

	seq, prev int64 // the Store's answer
	err       error
	weight    int       // bytes taken from the budget (0: none)
	queued    time.Time // a transient job waiting in a pipe: since when
	answered  bool      // done was called
}

// answer calls the job's done, once.
func (job *pushJob) answer(b *batch, out Outcome, err error) {
	if done := job.take(); done != nil {
		done(b, out, err)
	}
}

// take returns the job's done the first time (nil after): the caller
// answers, maybe later (answerReached).
func (job *pushJob) take() pushDone {
	if job.answered {
		return nil
	}
	job.answered = true
	return job.done
}

const pipeShards = 64

type pipeShard struct {
	mu    sync.Mutex
	users map[key][]*pushJob // uid → jobs; [0] is running
}

// pipeline is the node's set of pipes and its completer.
type pipeline struct {
	srv    *Server
	shards [pipeShards]pipeShard
	room   budget // admission
	flight sync.WaitGroup

	lateMu    sync.Mutex
	wait      time.Duration    // transientWait (tests change it)
	late      map[key]struct{} // users with transient jobs waiting in their pipe
	lateTimer *time.Timer      // armed while late is not empty

	mu   sync.Mutex
	done []*pushJob // completed appends for the completer
	wake chan struct{}
	stop chan struct{}
	exit chan struct{}
}

// DefaultMaxInFlight is the default of Config.MaxInFlight.
const DefaultMaxInFlight = 4096

func newPipeline(srv *Server, inFlight int) *pipeline {
	p := &pipeline{srv: srv, wake: make(chan struct{}, 1), stop: make(chan struct{}), exit: make(chan struct{}), wait: transientWait,
		room: budget{jobs: inFlight, bytes: max(16<<20, 4*srv.cfg.MaxFrame), freed: make(chan struct{})}}
	for i := range p.shards {
		p.shards[i].users = make(map[key][]*pushJob)
	}
	go p.complete()
	return p
}

func (p *pipeline) shard(uid key) *pipeShard {
	return &p.shards[p.srv.hub.hash(uid)%pipeShards]
}

// deliver runs job in uid's pipe: at once when the pipe is empty (a
// persistent push starts its append, a transient one is written here and
// done is called before deliver returns), else behind the jobs already
// there. Persistent pushes wait for an admission slot first (ctx bounds
// the wait).
func (p *pipeline) deliver(b *batch, job *pushJob) {
	sh := p.shard(job.uid)
	if !job.o.persist {
		sh.mu.Lock()
		_, busy := sh.users[job.uid]
		sh.mu.Unlock()
		if !busy {
			p.srv.deliverNow(b, job) // the common case: nothing to wait for
			return
		}
	}
	if err := p.room.take(job); err != nil {
		job.done(b, Outcome{}, err)
		return
	}
	p.flight.Add(1)
	sh.mu.Lock()
	q, busy := sh.users[job.uid]
	if busy {
		if !job.o.persist {
			job.queued = time.Now() // before the sweep can see the job
		}
		sh.users[job.uid] = append(q, job)
		sh.mu.Unlock()
		if !job.o.persist {
			p.waitAtMost(job)
		}
		return
	}
	if !job.o.persist { // the pipe emptied meanwhile
		sh.mu.Unlock()
		p.release(job)
		p.srv.deliverNow(b, job)
		return
	}
	sh.users[job.uid] = append(q, job)
	sh.mu.Unlock()
	p.start(job)
}

// transientWait bounds how long a transient push waits behind a user's
// persistent push whose append is in flight. The store answers in
// milliseconds when it is healthy, and per-user order then holds; when it
// cannot answer (NATS without quorum: seconds), a transient push overtakes
// the stuck persistent ones instead of waiting with them (protocol §12).
const transientWait = 250 * time.Millisecond

// waitAtMost registers a transient job queued in a pipe (its queued time
// set under the shard's lock): the sweep delivers it once it waited
// transientWait.
func (p *pipeline) waitAtMost(job *pushJob) {
	p.lateMu.Lock()
	if p.late == nil {
		p.late = make(map[key]struct{})
	}
	p.late[job.uid] = struct{}{}
	if p.lateTimer == nil {
		p.lateTimer = time.AfterFunc(p.wait/2, p.sweepLate)
	}
	p.lateMu.Unlock()
}

// sweepLate delivers, ahead of the pipe's head, the transient jobs that
// waited transientWait, in the order they were queued.
func (p *pipeline) sweepLate() {
	p.lateMu.Lock()
	uids := p.late
	p.late = nil
	p.lateMu.Unlock()
	now := time.Now()
	p.lateMu.Lock()
	wait := p.wait
	p.lateMu.Unlock()
	b := p.srv.getBatch()
	for uid := range uids {
		sh := p.shard(uid)
		var due []*pushJob
		still := false
		sh.mu.Lock()
		if q, ok := sh.users[uid]; ok {
			kept := q[:1] // the head is running
			for _, job := range q[1:] {
				switch {
				case job.o.persist || job.turn != nil:
					kept = append(kept, job)
				case now.Sub(job.queued) >= wait:
					due = append(due, job)
				default:
					kept = append(kept, job)
					still = true
				}
			}
			clear(q[len(kept):])
			sh.users[uid] = kept
		}
		sh.mu.Unlock()
		for _, job := range due {
			p.srv.metrics.overtaken.Inc()
			p.srv.deliverNow(b, job)
			p.release(job)
		}
		if still {
			p.lateMu.Lock()
			if p.late == nil {
				p.late = make(map[key]struct{})
			}
			p.late[uid] = struct{}{}
			p.lateMu.Unlock()
		}
	}
	p.srv.putBatch(b)
	p.lateMu.Lock()
	if len(p.late) > 0 {
		p.lateTimer.Reset(p.wait / 2)
	} else {
		p.lateTimer = nil
	}
	p.lateMu.Unlock()
}

// release gives a job's room back.
func (p *pipeline) release(job *pushJob) {
	if job.weight > 0 {
		p.room.give(job)
		p.flight.Done()
	}
}

// start starts the append of the pipe's new head job.
func (p *pipeline) start(job *pushJob) {
	p.srv.store.Append(job.ctx, string(job.uid), &job.msg, job.o.ttl, func(a Appended) {
		job.seq, job.prev, job.err = a.Seq, a.Prev, a.Err
		p.mu.Lock()
		p.done = append(p.done, job)
		p.mu.Unlock()
		select {
		case p.wake <- struct{}{}:
		default:
		}
	})
}

// complete is the completer goroutine.
func (p *pipeline) complete() {
	defer close(p.exit)
	var batch []*pushJob
	for {
		select {
		case <-p.wake:
		case <-p.stop:
			return
		}
		for {
			p.mu.Lock()
			batch, p.done = p.done, batch[:0]
			p.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			b := p.srv.getBatch()
			for _, job := range batch {
				p.finish(b, job)
			}
			p.srv.putBatch(b) // one flush per round
			clear(batch)
		}
	}
}

// finish completes one answered append and moves its pipe on. A panic
// (a hook, a store's After in the cluster link) is contained to the job:
// its pusher is answered 3005 and the pipe goes on.
func (p *pipeline) finish(b *batch, job *pushJob) {
	defer p.next(b, job.uid)
	defer p.release(job)
	defer func() {
		if r := recover(); r != nil {
			p.srv.metrics.panics.Inc()
			p.srv.log.Error("panic while completing a persistent push", "uid", job.uid, "panic", r, "stack", string(debug.Stack()))
			job.answer(b, Outcome{}, fmt.Errorf("server: internal error completing the push: %v", r))
		}
	}()
	p.srv.finishStored(b, job)
}

// next removes uid's finished head job and runs what waits behind it:
// transient pushes at once, until a persistent push (its append starts) or
// a login (it gets its turn) is the head, or the pipe is empty.
func (p *pipeline) next(b *batch, uid key) {
	sh := p.shard(uid)
	for {
		sh.mu.Lock()
		q := sh.users[uid]
		q[0] = nil
		q = q[1:]
		if len(q) == 0 {
			delete(sh.users, uid)
			sh.mu.Unlock()
			return
		}
		sh.users[uid] = q
		head := q[0]
		sh.mu.Unlock()
		switch {
		case head.turn != nil:
			close(head.turn) // the login continues the pipe (loginDone)
			return
		case head.o.persist:
			p.start(head)
			return
		default:
			p.srv.deliverNow(b, head)
			p.release(head)
		}
	}
}

// awaitTurn makes a login of uid wait until every push accepted before it
// is written (its replay then covers exactly what was stored before it);
// pushes accepted after it wait until loginDone, which the login must call.
func (p *pipeline) awaitTurn(uid key) {
	job := &pushJob{uid: uid, turn: make(chan struct{})}
	sh := p.shard(uid)
	sh.mu.Lock()
	q, busy := sh.users[uid]
	sh.users[uid] = append(q, job)
	sh.mu.Unlock()
	if busy {
		<-job.turn
	}
}

// loginDone lets the pushes behind a login run.
func (p *pipeline) loginDone(uid key) {
	b := p.srv.getBatch()
	p.next(b, uid)
	p.srv.putBatch(b)
}

// close waits for the appends in flight (the Store's own timeouts bound
// them) and stops the completer.
func (p *pipeline) close() {
	p.flight.Wait() // transient jobs are in flight too: the sweep delivers them
	p.lateMu.Lock()
	if p.lateTimer != nil {
		p.lateTimer.Stop()
	}
	p.lateMu.Unlock()
	close(p.stop)
	<-p.exit
}

// budget bounds the jobs a node holds in its pipes: their number and bytes.
type budget struct {
	mu          sync.Mutex
	jobs, bytes int           // limits
	nJobs, used int           // taken
	freed       chan struct{} // closed (and replaced) when room is given back
	saturated   bool          // a take waited admitWait in vain; until room is given back
}

// admitWait bounds how long a push waits for room in a full budget. A
// healthy store frees room within milliseconds; one that cannot answer
// (NATS without quorum) holds it for its append timeout, and a push client
// whose frames are read in order must not stall behind that: its transient
// pushes, and the pushes of other users, keep flowing, and its persistent
// pushes are answered 3005 (ErrStoreBusy: nothing stored, retry later).
// Once a wait failed, pushes fail at once until room is given back.
const admitWait = 100 * time.Millisecond

// take waits until job fits (a job larger than the whole bound fits an
// empty budget), at most admitWait (then ErrStoreBusy), or until its ctx
// ends.
func (r *budget) take(job *pushJob) error {
	w := len(job.msg.Body) + len(job.msg.URI) + 256
	var timeout <-chan time.Time
	for {
		r.mu.Lock()
		if r.nJobs < r.jobs && (r.used+w <= r.bytes || r.used == 0) {
			r.nJobs++
			r.used += w
			r.mu.Unlock()
			job.weight = w
			return nil
		}
		if r.saturated {
			r.mu.Unlock()
			return ErrStoreBusy
		}
		freed := r.freed
		r.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(admitWait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-freed:
		case <-timeout:
			r.mu.Lock()
			r.saturated = true
			r.mu.Unlock()
			return ErrStoreBusy
		case <-job.ctx.Done():
			return job.ctx.Err()
		}
	}
}

func (r *budget) give(job *pushJob) {
	r.mu.Lock()
	r.nJobs--
	r.used -= job.weight
	r.saturated = false
	close(r.freed)
	r.freed = make(chan struct{})
	r.mu.Unlock()
}
