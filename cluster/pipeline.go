package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/plexpush/plex/pack"
)

// pipeline sends the store's appends to JetStream without waiting for each
// answer: every append is published at once with a reply subject of the
// pipeline's own inbox, and one subscription takes the answers as they come
// (JetStream's PubAck), so a node keeps many appends in flight on its one
// connection and pays no goroutine per append. An append is answered (its
// done called) only once JetStream acknowledged it: an acknowledged push
// is stored.
//
// The fast path handles the common case only: the user's last seq is known
// here (expected-last-subject-sequence) and JetStream stores the message.
// Anything else (the last seq unknown, another node appended first, no
// answer within RequestTimeout, NATS away, a duplicate) goes to the careful
// blocking path, appendWithID, on a goroutine of its own, with the same
// message id: JetStream's duplicate window makes a retry of an attempt
// whose answer was lost find the stored message instead of storing it
// twice. Callers bound how many appends they keep in flight (the server
// does); the pipeline itself never blocks.
type pipeline struct {
	s *Store

	once  sync.Once
	inbox string // reply subjects are inbox + token
	sub   *nats.Subscription
	err   error // subscribing failed: every append takes the slow path

	mu      sync.Mutex
	pending map[string]*appendOp // token → op
	sweep   *time.Timer          // armed while pending is not empty
	next    atomic.Uint64
}

// appendOp is one append in flight.
type appendOp struct {
	ctx      context.Context
	uid      string
	m        *pack.Message
	data     []byte
	ttl      time.Duration
	id       string // JetStream message id
	expect   uint64 // the fast path's expected last subject sequence
	deadline time.Time
	done     func(seq, prev int64, err error)
}

// pubAck is JetStream's answer to a publish.
type pubAck struct {
	Error     *jetstream.APIError `json:"error,omitempty"`
	Seq       uint64              `json:"seq"`
	Duplicate bool                `json:"duplicate,omitempty"`
}

// parse reads a PubAck. The common answer, {"stream":"…","seq":N}, is read
// by hand (it comes once per push); anything else by encoding/json.
func (a *pubAck) parse(b []byte) bool {
	if !bytes.HasPrefix(b, []byte(`{"stream":"`)) {
		return json.Unmarshal(b, a) == nil
	}
	i := bytes.Index(b, []byte(`","seq":`))
	if i < 0 {
		return json.Unmarshal(b, a) == nil
	}
	rest := b[i+len(`","seq":`):]
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n == 0 || n > 19 || string(rest[n:]) != "}" {
		return json.Unmarshal(b, a) == nil // more fields (duplicate, domain, …)
	}
	seq, err := strconv.ParseUint(string(rest[:n]), 10, 64)
	a.Seq = seq
	return err == nil
}

// start subscribes the pipeline's inbox, once.
func (p *pipeline) start() error {
	p.once.Do(func() {
		p.pending = make(map[string]*appendOp)
		p.inbox = p.s.c.nc.NewInbox() + "."
		p.sub, p.err = p.s.c.nc.Subscribe(p.inbox+"*", p.answer)
		if p.err == nil {
			// Answers are few bytes each; never drop one for a slow handler.
			p.err = p.sub.SetPendingLimits(-1, -1)
		}
	})
	return p.err
}

// appendAsync stores m for uid and calls done once JetStream acknowledged
// it (or the append failed). done may run on the subscription's goroutine
// or on the slow path's, possibly before appendAsync returns; it must not
// block.
func (s *Store) appendAsync(ctx context.Context, uid string, m *pack.Message, ttl time.Duration, done func(seq, prev int64, err error)) {
	msg := *m
	msg.Seq = 0
	data, err := pack.Protobuf.Append(nil, &msg)
	if err != nil {
		done(0, 0, err)
		return
	}
	op := &appendOp{ctx: ctx, uid: uid, m: m, data: data, id: nuid.Next(), done: done,
		ttl: max(ttl, time.Second).Round(time.Second)} // JetStream TTLs are whole seconds, ≥ 1s
	expect, known := s.lastHint(uid)
	if !known && !s.mayHave(uid) {
		expect, known = 0, true // standalone and nothing stored for uid
	}
	if !known || !s.c.ready.Load() || !s.c.nc.IsConnected() || s.pipe.start() != nil {
		go s.slow(op, false)
		return
	}
	op.expect = expect
	s.pipe.publish(op)
}

// slow runs op on the blocking path; unknown says an earlier attempt may
// have stored it.
func (s *Store) slow(op *appendOp, unknown bool) {
	seq, prev, err := s.appendWithID(op.ctx, op.uid, op.m, op.ttl, op.id, unknown)
	op.done(seq, prev, err)
}

func (p *pipeline) publish(op *appendOp) {
	s := p.s
	token := strconv.FormatUint(p.next.Add(1), 36)
	last := strconv.FormatUint(op.expect, 10)
	nm := &nats.Msg{Subject: s.subject(op.uid), Reply: p.inbox + token, Data: op.data, Header: nats.Header{
		jetstream.MsgIDHeader:  []string{op.id},
		jetstream.MsgTTLHeader: []string{op.ttl.String()},
		hdrPrev:                []string{last},
	}}
	if !s.c.cfg.Standalone {
		// Another node may append for the user: JetStream checks that the
		// predecessor is still the last message (which costs it a read of
		// that message); standalone, this node's hint is the truth, and
		// the server keeps one append per user in flight.
		nm.Header[jetstream.ExpectedLastSubjSeqHeader] = []string{last}
	}
	op.deadline = time.Now().Add(s.c.cfg.RequestTimeout)
	p.mu.Lock()
	p.pending[token] = op
	if p.sweep == nil {
		p.sweep = time.AfterFunc(s.c.cfg.RequestTimeout/4, p.expire)
	}
	p.mu.Unlock()
	if err := s.c.nc.PublishMsg(nm); err != nil {
		if p.take(token) != nil {
			go s.slow(op, false) // not sent
		}
	}
}

// take removes and returns the op waiting under token (nil: none).
func (p *pipeline) take(token string) *appendOp {
	p.mu.Lock()
	defer p.mu.Unlock()
	op := p.pending[token]
	delete(p.pending, token)
	return op
}

// answer handles JetStream's answer to one publish (subscription goroutine).
func (p *pipeline) answer(msg *nats.Msg) {
	op := p.take(strings.TrimPrefix(msg.Subject, p.inbox))
	if op == nil {
		return // answered after its deadline: the slow path owns it
	}
	s := p.s
	var ack pubAck
	switch {
	case len(msg.Data) == 0 && msg.Header.Get("Status") == "503":
		go s.slow(op, false) // no stream listening: not stored
		return
	case !ack.parse(msg.Data):
		go s.slow(op, true) // an answer we cannot read
		return
	case ack.Error != nil || ack.Duplicate || ack.Seq == 0:
		// rejected (another node appended first, no leader, …), or a
		// duplicate to prove: the slow path sorts it out
		go s.slow(op, ack.Duplicate)
		return
	}
	s.setPending(op.uid, true)
	s.setLast(op.uid, ack.Seq)
	op.done(int64(ack.Seq), int64(op.expect), nil)
}

// expire hands appends whose answer is overdue to the slow path (their
// outcome is unknown: they may be stored), and re-arms while any wait.
func (p *pipeline) expire() {
	now := time.Now()
	var late []*appendOp
	p.mu.Lock()
	for token, op := range p.pending {
		if now.After(op.deadline) {
			late = append(late, op)
			delete(p.pending, token)
		}
	}
	if len(p.pending) > 0 {
		p.sweep.Reset(p.s.c.cfg.RequestTimeout / 4)
	} else {
		p.sweep = nil
	}
	p.mu.Unlock()
	for _, op := range late {
		go p.s.slow(op, true)
	}
}
