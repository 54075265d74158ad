package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/plexpush/plex/pack"
)

// Push delivers m to the target and says what happened. The message's URI
// is required and must not be a reserved one; its body must be UTF-8 (JSON
// apps receive it as a JSON string). With Persist, each targeted user gets
// the message under a new seq, stored until acked.
func (srv *Server) Push(ctx context.Context, to Target, m pack.Message, opts ...PushOption) (Outcome, error) {
	var o pushOptions
	for _, opt := range opts {
		opt(&o)
	}
	b := srv.getBatch()
	defer srv.putBatch(b)
	return srv.push(ctx, b, to, m, o)
}

func (srv *Server) validatePush(to Target, m *pack.Message, o *pushOptions) error {
	if err := to.check(); err != nil {
		return err
	}
	switch {
	case m.URI == "":
		return ErrNoURI
	case !pack.PushURI(m.URI):
		return ErrReservedURI
	case len(m.Body)+len(m.URI)+64 > srv.cfg.MaxFrame:
		return ErrBodyTooLarge
	case !utf8.Valid(m.Body):
		return pack.ErrInvalidUTF8
	case o.persist && to.UID == "" && len(to.UIDs) == 0:
		return ErrNotPersistable
	case o.badTTL || o.ttl < 0 || o.ttl > MaxPushTTL:
		return ErrBadTTL
	case o.ackBy < 0 || o.ackBy > 0 && (!o.persist || o.ackBy > srv.pushTTL(o)):
		return ErrBadAckTimeout
	}
	return nil
}

// pushTTL is a push's TTL: its own, else Config.PersistTTL.
func (srv *Server) pushTTL(o *pushOptions) time.Duration {
	if o.ttl <= 0 {
		return srv.cfg.PersistTTL
	}
	return o.ttl
}

// push is Push with the batch supplied: frames queue on b and go out when
// the caller flushes it (the inner protocol flushes once per read). It
// waits for a pipelined push's outcome (pushAsync does not).
func (srv *Server) push(ctx context.Context, b *batch, to Target, m pack.Message, o pushOptions) (Outcome, error) {
	type result struct {
		out Outcome
		err error
	}
	ch := make(chan result, 1)
	srv.pushAsync(ctx, b, to, m, o, func(_ *batch, out Outcome, err error) { ch <- result{out, err} })
	res := <-ch
	return res.out, res.err
}

// pushAsync pushes m to the target and calls done once with the outcome:
// before it returns when nothing waits for a store (done's batch is b
// then), or later from the pipeline's completer (with its own batch).
func (srv *Server) pushAsync(ctx context.Context, b *batch, to Target, m pack.Message, o pushOptions, done pushDone) {
	start := time.Now()
	if err := srv.validatePush(to, &m, &o); err != nil {
		srv.metrics.pushes.WithLabelValues("rejected").Inc()
		done(b, Outcome{}, err)
		return
	}
	o.ttl = srv.pushTTL(&o)
	m = deviceMeta(m, to.Device)
	app := srv.app(to.App)
	if app == nil {
		srv.metrics.pushes.WithLabelValues("rejected").Inc()
		done(b, Outcome{}, ErrUnknownApp)
		return
	}
	if !o.local && !app.allowPush() {
		srv.metrics.rateLimited.WithLabelValues("app_pushes").Inc()
		srv.metrics.pushes.WithLabelValues("rate_limited").Inc()
		done(b, Outcome{}, ErrRateLimited)
		return
	}
	if o.persist && o.ackBy == 0 {
		o.ackBy = min(app.AckTimeout, o.ttl)
	}
	if o.persist && !o.local && !app.allowStore(storedSize(&m)*max(1, len(to.UIDs))) {
		srv.metrics.rateLimited.WithLabelValues("app_store").Inc()
		srv.metrics.pushes.WithLabelValues("rate_limited").Inc()
		done(b, Outcome{}, ErrStoreQuota)
		return
	}
	finish := func(b *batch, out Outcome, err error) {
		if err != nil {
			srv.metrics.pushes.WithLabelValues("failed").Inc()
		} else {
			srv.metrics.pushes.WithLabelValues("ok").Inc()
			srv.metrics.pushLatency.Observe(time.Since(start).Seconds())
		}
		done(b, out, err)
	}
	var uids []key // the users to deliver to
	var sh *pack.Shared
	uo := o
	switch {
	case to.UID != "":
		srv.deliverUserAsync(ctx, b, scope(app, to.UID), &m, o, nil, finish)
		return
	case len(to.UIDs) > 0:
		uids = make([]key, len(to.UIDs))
		for i, uid := range to.UIDs {
			uids[i] = scope(app, uid)
		}
		if !o.persist {
			sh = pack.NewShared(srv.cfg.ByteOrder, m)
		}
	case to.Room != "":
		uids = srv.hub.members(scope(app, to.Room))
		sh = pack.NewShared(srv.cfg.ByteOrder, m)
		uo = srv.roomMemberOptions(o)
	case to.All:
		out := srv.broadcast(b, app, &m)
		finish(b, out, srv.publishGroup(ctx, to, m, o))
		return
	}
	t := &pushTally{n: len(uids) + 1, done: finish}
	for _, uid := range uids {
		srv.deliverUserAsync(ctx, b, uid, &m, uo, sh, t.add)
	}
	t.add(b, Outcome{}, srv.publishGroup(ctx, to, m, o))
}

// publishGroup sends a room push or broadcast to the other nodes (a push
// to users is published per user by deliverUser). Its Outcome counts this
// node's connections: no node waits for the others' answers to a group.
func (srv *Server) publishGroup(ctx context.Context, to Target, m pack.Message, o pushOptions) error {
	if srv.link == nil || o.local || (to.Room == "" && !to.All) {
		return nil
	}
	if err := srv.link.bus.Publish(ctx, Delivery{Origin: srv.nodeID, To: to, Msg: m}, nil); err != nil {
		srv.log.Warn("publish to cluster failed", "err", err)
		return err // the other nodes did not get it: say so
	}
	return nil
}

// pushTally adds up the outcomes of a push's users (or of a room
// message's copies, one per member) and calls done once, after the last. A failure after some user's push was stored is reported
// wrapping ErrOutcomeUnknown: a retry would store those twice.
type pushTally struct {
	mu   sync.Mutex
	n    int // outcomes still expected
	out  Outcome
	err  error
	done pushDone
}

func (t *pushTally) add(b *batch, out Outcome, err error) {
	t.mu.Lock()
	t.out.Add(out)
	if err != nil && t.err == nil {
		t.err = err
	}
	t.n--
	last := t.n == 0
	t.mu.Unlock()
	if !last {
		return
	}
	t.out.Seq = 0 // a seq is for a push to one user
	if t.err != nil && t.out.Stored > 0 && !errors.Is(t.err, ErrOutcomeUnknown) {
		t.err = fmt.Errorf("%w: stored for %d of the users, then: %w", ErrOutcomeUnknown, t.out.Stored, t.err)
	}
	t.done(b, t.out, t.err)
}

// deliverUserAsync delivers m to uid and calls done with the outcome: at
// once (before it returns) with the memory store or when nothing waits for
// uid, else through uid's pipe (pipe.go).
func (srv *Server) deliverUserAsync(ctx context.Context, b *batch, uid key, m *pack.Message, o pushOptions, sh *pack.Shared, done pushDone) {
	if srv.pipes == nil {
		out, w, err := srv.deliverUser(ctx, b, uid, m, o, sh)
		srv.answerReached(b, out, err, w, done)
		return
	}
	job := &pushJob{ctx: ctx, uid: uid, o: o, sh: sh, done: done}
	if o.persist {
		job.msg = srv.persistMessage(m)
	} else {
		job.msg = *m
	}
	srv.pipes.deliver(b, job)
}

// deliverNow runs a transient job of a pipe (on the caller's goroutine).
func (srv *Server) deliverNow(b *batch, job *pushJob) {
	out, w, err := srv.deliverUser(job.ctx, b, job.uid, &job.msg, job.o, job.sh)
	if done := job.take(); done != nil {
		srv.answerReached(b, out, err, w, done)
	}
}

// finishStored writes a pipe's persistent push that the Store answered
// (completer goroutine) and reports its outcome.
func (srv *Server) finishStored(b *batch, job *pushJob) {
	if job.err != nil {
		job.answer(b, Outcome{}, job.err)
		return
	}
	out, w := func() (Outcome, *reachWait) {
		lock := srv.hub.orderLock(job.uid)
		lock.Lock()
		defer lock.Unlock() // a panic must not leave it held (pipeline.finish recovers)
		job.msg.Seq = job.seq
		return srv.deliverStored(job.ctx, b, job.uid, pack.NewShared(srv.cfg.ByteOrder, job.msg), job.o, job.prev)
	}()
	if done := job.take(); done != nil {
		srv.answerReached(b, out, nil, w, done)
	}
}

// persistMessage returns the message a persistent push stores: m with meta
// persist, id (the pusher's, else the node's) and ts.
func (srv *Server) persistMessage(m *pack.Message) pack.Message {
	msg := *m
	msg.Meta = make(map[string]string, len(m.Meta)+3)
	for k, v := range m.Meta {
		msg.Meta[k] = v
	}
	msg.Meta[pack.MetaPersist] = "1"
	if msg.Meta[pack.MetaID] == "" {
		msg.Meta[pack.MetaID] = srv.newMessageID()
	}
	msg.Meta[pack.MetaTime] = strconv.FormatInt(time.Now().UnixMilli(), 10)
	return msg
}

// deliverUser queues m on every connection of uid, on the caller's
// goroutine. For a persistent push (the memory store's path: the pipeline
// does it otherwise) it first stores m to get its seq; both happen under
// the user's order lock so that seqs reach each connection in increasing
// order whatever the number of concurrent pushers. sh, when given, is the
// transient message's shared encoding (one encode for many users).
func (srv *Server) deliverUser(ctx context.Context, b *batch, uid key, m *pack.Message, o pushOptions, sh *pack.Shared) (Outcome, *reachWait, error) {
	lock := srv.hub.orderLock(uid)
	lock.Lock()
	defer lock.Unlock()
	if o.persist {
		msg := srv.persistMessage(m)
		seq, prev, err := srv.appendStored(ctx, uid, &msg, o.ttl)
		if err != nil {
			return Outcome{}, nil, err
		}
		msg.Seq = seq
		out, w := srv.deliverStored(ctx, b, uid, pack.NewShared(srv.cfg.ByteOrder, msg), o, prev)
		return out, w, nil
	}
	if sh == nil {
		sh = pack.NewShared(srv.cfg.ByteOrder, *m)
	}
	var out Outcome
	var w *reachWait
	if srv.link != nil && !o.local {
		// other nodes holding uid write the same message
		var err error
		if w, err = srv.publishTo(ctx, uid, Delivery{Origin: srv.nodeID, To: deliveryTo(uid), Msg: *sh.Message()}); err != nil {
			srv.log.Warn("publish to cluster failed", "uid", uid, "err", err)
			return out, nil, err // not routed: say so
		}
	}
	out.Delivered = srv.writeLocal(ctx, b, uid, sh, false)
	srv.undelivered(&out, uid, sh, o, nil)
	return out, w, nil
}

// deliverStored writes the stored message sh (its seq set; prev its
// predecessor, -1 unknown) to uid's connections, here and, through the
// bus, on other nodes; called under uid's order lock.
func (srv *Server) deliverStored(ctx context.Context, b *batch, uid key, sh *pack.Shared, o pushOptions, prev int64) (Outcome, *reachWait) {
	out := Outcome{Stored: 1, Seq: sh.Message().Seq}
	var w *reachWait
	if srv.link != nil && !o.local {
		// other nodes holding uid write the same message (with its seq); a
		// stored push that is not routed reaches them later from the store
		var err error
		if w, err = srv.publishTo(ctx, uid, Delivery{Origin: srv.nodeID, To: deliveryTo(uid), Msg: *sh.Message(), Persist: true, Prev: prev}); err != nil {
			srv.log.Warn("publish to cluster failed", "uid", uid, "err", err)
		}
	}
	if srv.link != nil {
		// in seq order after what other nodes stored before it (cluster_link.go)
		out.Delivered = srv.link.writeStored(ctx, b, uid, sh, prev)
	} else {
		out.Delivered = srv.writeLocal(ctx, b, uid, sh, true)
	}
	srv.undelivered(&out, uid, sh, o, srv.ackDeadline(uid, sh, o))
	return out, w
}

// undelivered counts a push that reached no connection of uid and fires
// Config.OnUndelivered when no node holds the user. It files the push's ack
// deadline d (nil: none) unless the push found the user offline: the
// offline fallback was its fallback.
func (srv *Server) undelivered(out *Outcome, uid key, sh *pack.Shared, o pushOptions, d *AckDeadline) {
	srv.metrics.delivered.Add(float64(out.Delivered))
	if out.Delivered > 0 {
		srv.keepAck(d)
		return
	}
	out.Offline = 1
	if o.local || srv.cfg.OnUndelivered == nil {
		srv.keepAck(d)
		return
	}
	// asked on the hooks goroutine: Bus.Online may wait on the network,
	// and this runs under the user's order lock
	var elsewhere func() bool
	if srv.link != nil {
		bus := srv.link.bus
		elsewhere = func() bool { return bus.Online(string(uid)) }
	}
	srv.hooks.undelivered(uid, sh.Message(), o.persist, elsewhere,
		func() { srv.metrics.fallbacks.WithLabelValues("offline").Inc() },
		func() { srv.keepAck(d) })
}

// writeLocal queues sh on every open connection of uid here and returns
// how many got it; called under uid's order lock. For a stored message, apps
// without ack support get it once: its write is its ack.
func (srv *Server) writeLocal(ctx context.Context, b *batch, uid key, sh *pack.Shared, persisted bool) int {
	n := 0
	var buf [4]*Session
	for _, s := range srv.hub.conns(uid, buf[:0]) {
		if s.closed.Load() || !forDevice(s, sh.Message()) {
			continue
		}
		if persisted {
			srv.queueStored(ctx, b, uid, s, sh)
		} else {
			b.add(s, s.frame(sh))
		}
		n++
	}
	return n
}

// queueStored queues the stored message sh on s, a connection of uid: the
// one write path of persistent pushes (writeLocal, and the cluster link's
// ordered writes). An app without ack support gets each stored message
// once, so its write is its ack, recorded like an /ack (recordAck).
func (srv *Server) queueStored(ctx context.Context, b *batch, uid key, s *Session, sh *pack.Shared) {
	b.add(s, s.frame(sh))
	if !s.acks {
		srv.recordAck(ctx, uid, s.device, sh.Message().Seq)
	}
}

// newMessageID returns the meta "id" of a push the node stores: the node,
// a random word drawn when the process started and a counter, so ids stay
// unique when a node restarts with the same NodeID. It is a label for apps
// and logs only; no store deduplicates by it.
func (srv *Server) newMessageID() string {
	return srv.nodeID + "-" + srv.msgBoot + "-" + strconv.FormatUint(srv.msgIDs.Add(1), 36)
}

// broadcast queues m on every connection of app; the frame is encoded once
// per codec.
func (srv *Server) broadcast(b *batch, app *appState, m *pack.Message) Outcome {
	sh := pack.NewShared(srv.cfg.ByteOrder, *m)
	var out Outcome
	srv.hub.each(func(s *Session) {
		if s.state.Load() != stateApp || s.closed.Load() || s.app != app {
			return
		}
		b.add(s, s.frame(sh))
		out.Delivered++
	})
	srv.metrics.delivered.Add(float64(out.Delivered))
	return out
}
