package client

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/plexpush/plex/pack"
)

// request is one frame on its way to a node, with someone waiting for it:
// a push waiting for its /reply, or an upstream message or legacy push
// waiting until it is written (onWrite).
//
// Its state answers the one question that decides between retrying and
// reporting ErrOutcomeUnknown: could the node have received it?
//
//	queued ──writer takes it──▶ taken ──written──▶ written ──▶ finished
//	   └──waiter gives up──▶ cancelled (never written: safe to retry)
//
// Any state but cancelled can become finished (reply, link death,
// abandoned by its waiter); finished and cancelled are final. The
// transitions are compare-and-swap, so exactly one side wins each race.
type request struct {
	id      int64
	frame   []byte
	onWrite bool // finished as soon as it is written (no reply expected)
	state   atomic.Int32
	done    chan reply // capacity 1: finish never blocks
}

const (
	reqQueued int32 = iota
	reqTaken
	reqWritten
	reqFinished
	reqCancelled
)

// reply is how a request ends: the node's /reply or /error, or an error.
type reply struct {
	msg *pack.Message
	err error
}

func newRequest(id int64, frame []byte, onWrite bool) *request {
	return &request{id: id, frame: frame, onWrite: onWrite, done: make(chan reply, 1)}
}

// finish delivers rep to the waiter unless the request already ended.
func (r *request) finish(rep reply) bool {
	for {
		s := r.state.Load()
		if s == reqFinished || s == reqCancelled {
			return false
		}
		if r.state.CompareAndSwap(s, reqFinished) {
			r.done <- rep
			return true
		}
	}
}

// cancel withdraws a request the writer has not taken; true means it was
// provably never written.
func (r *request) cancel() bool { return r.state.CompareAndSwap(reqQueued, reqCancelled) }

// abandon ends a taken or written request for a waiter that stops
// waiting. It returns false when a reply won the race: it is in done.
func (r *request) abandon() bool {
	for {
		s := r.state.Load()
		if s == reqFinished {
			return false
		}
		if r.state.CompareAndSwap(s, reqFinished) {
			return true
		}
	}
}

// requeue makes a request that came back with errNotSent sendable again;
// only its waiter calls it, after receiving that reply.
func (r *request) requeue() { r.state.Store(reqQueued) }

// wait waits for r's end. errNotSent means r came back unwritten: the
// caller may requeue it. When ctx ends first, r is withdrawn if the writer
// has not taken it (a "not sent" error wrapping ctx's), else abandoned
// (ErrOutcomeUnknown wrapping ctx's error).
func (r *request) wait(ctx context.Context) (reply, error) {
	select {
	case rep := <-r.done:
		return rep, rep.err
	case <-ctx.Done():
		if r.cancel() {
			return reply{}, notSent(ctx.Err())
		}
		if r.abandon() {
			return reply{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ctx.Err())
		}
		rep := <-r.done // the reply won the race
		return rep, rep.err
	}
}

// await waits for r's end on the link it was handed to. retry reports that
// the link died before r was written and ctx allows another try: r is
// queued again for the caller to hand to the next link.
func (r *request) await(ctx context.Context) (rep reply, retry bool, err error) {
	rep, err = r.wait(ctx)
	if !errors.Is(err, errNotSent) {
		return rep, false, err
	}
	if err := ctx.Err(); err != nil {
		return reply{}, false, notSent(err)
	}
	r.requeue()
	return reply{}, true, nil
}

func notSent(err error) error { return fmt.Errorf("client: not sent: %w", err) }
