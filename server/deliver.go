package server

import (
	"context"
	"strconv"
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
	case pack.Reserved(m.URI):
		return ErrReservedURI
	case len(m.Body)+len(m.URI)+64 > srv.cfg.MaxFrame:
		return ErrBodyTooLarge
	case !utf8.Valid(m.Body):
		return pack.ErrInvalidUTF8
	case o.persist && to.UID == "" && len(to.UIDs) == 0:
		return ErrNotPersistable
	}
	return nil
}

// push is Push with the batch supplied: frames queue on b and go out when
// the caller flushes it (the inner protocol flushes once per read).
func (srv *Server) push(ctx context.Context, b *batch, to Target, m pack.Message, o pushOptions) (Outcome, error) {
	start := time.Now()
	if err := srv.validatePush(to, &m, &o); err != nil {
		srv.metrics.pushes.WithLabelValues("rejected").Inc()
		return Outcome{}, err
	}
	if o.ttl <= 0 {
		o.ttl = srv.cfg.PersistTTL
	}
	app := srv.app(to.App)
	if app == nil {
		srv.metrics.pushes.WithLabelValues("rejected").Inc()
		return Outcome{}, ErrUnknownApp
	}
	if !o.local && !app.allowPush() {
		srv.metrics.rateLimited.WithLabelValues("app_pushes").Inc()
		srv.metrics.pushes.WithLabelValues("rate_limited").Inc()
		return Outcome{}, ErrRateLimited
	}
	var out Outcome
	var err error
	switch {
	case to.UID != "":
		out, err = srv.deliverUser(ctx, b, scope(app, to.UID), &m, o, nil)
	case len(to.UIDs) > 0:
		var sh *pack.Shared
		if !o.persist {
			sh = pack.NewShared(srv.cfg.ByteOrder, m)
		}
		for _, uid := range to.UIDs {
			var r Outcome
			if r, err = srv.deliverUser(ctx, b, scope(app, uid), &m, o, sh); err != nil {
				break
			}
			out.add(r)
		}
		out.Seq = 0
	case to.Room != "":
		sh := pack.NewShared(srv.cfg.ByteOrder, m)
		for _, uid := range srv.hub.members(scope(app, to.Room)) { // member keys are scoped
			r, _ := srv.deliverUser(ctx, b, uid, &m, srv.roomMemberOptions(o), sh)
			out.add(r)
		}
	case to.All:
		out = srv.broadcast(b, app, &m)
	}
	if err != nil {
		srv.metrics.pushes.WithLabelValues("failed").Inc()
		return out, err
	}
	if srv.bus != nil && !o.local && (to.Room != "" || to.All) {
		if perr := srv.bus.Publish(ctx, Delivery{Origin: srv.nodeID, To: to, Msg: m}); perr != nil {
			srv.log.Warn("publish to cluster failed", "err", perr)
			srv.metrics.pushes.WithLabelValues("failed").Inc()
			return out, perr // the other nodes did not get it: say so
		}
	}
	srv.metrics.pushes.WithLabelValues("ok").Inc()
	srv.metrics.pushLatency.Observe(time.Since(start).Seconds())
	return out, nil
}

// deliverUser queues m on every connection of uid. For a persistent push
// it first stores m to get its seq; both happen under the user's order lock
// so that seqs reach each connection in increasing order whatever the number
// of concurrent pushers. sh, when given, is the transient message's shared
// encoding (one encode for many users).
func (srv *Server) deliverUser(ctx context.Context, b *batch, uid string, m *pack.Message, o pushOptions, sh *pack.Shared) (Outcome, error) {
	var out Outcome
	lock := srv.hub.orderLock(uid)
	lock.Lock()
	defer lock.Unlock()
	prev := int64(-1) // the user's stored message before this one (ChainStore)
	if o.persist {
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
		seq, p, err := srv.appendStored(ctx, uid, &msg, o.ttl)
		if err != nil {
			return out, err
		}
		msg.Seq, prev = seq, p
		out.Stored, out.Seq = 1, seq
		sh = pack.NewShared(srv.cfg.ByteOrder, msg)
	} else if sh == nil {
		sh = pack.NewShared(srv.cfg.ByteOrder, *m)
	}
	if srv.bus != nil && !o.local {
		// other nodes holding uid write the same message (with its seq)
		if err := srv.bus.Publish(ctx, Delivery{Origin: srv.nodeID, To: User(uid), Msg: *sh.Message(), Persist: o.persist, Prev: prev}); err != nil {
			srv.log.Warn("publish to cluster failed", "uid", uid, "err", err)
			if !o.persist {
				return out, err // not routed: say so (a stored push reaches the other nodes later)
			}
		}
	}
	if o.persist && srv.bus != nil {
		// in seq order after what other nodes stored before it (cluster_link.go)
		out.Delivered = srv.writeStored(ctx, b, uid, sh, prev)
	} else {
		out.Delivered = srv.writeLocal(ctx, b, uid, sh, o.persist)
	}
	if out.Delivered == 0 {
		out.Offline = 1
		if !o.local && srv.cfg.OnUndelivered != nil && (srv.bus == nil || !srv.bus.Online(uid)) {
			srv.hooks.undelivered(uid, sh.Message(), o.persist)
		}
	}
	srv.metrics.delivered.Add(float64(out.Delivered))
	return out, nil
}

// writeLocal queues sh on every open connection of uid here and returns
// how many got it; called under uid's order lock. For a stored message, apps
// without ack support get it once: its write is its ack.
func (srv *Server) writeLocal(ctx context.Context, b *batch, uid string, sh *pack.Shared, persisted bool) int {
	n := 0
	var buf [4]*Session
	for _, s := range srv.hub.conns(uid, buf[:0]) {
		if s.closed.Load() {
			continue
		}
		b.add(s, s.frame(sh))
		n++
		if persisted && !s.acks {
			srv.recordAck(ctx, uid, s.device, sh.Message().Seq)
		}
	}
	return n
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

// online registers an authenticated app and replays what it missed. The
// order lock makes "replay stored, then live pushes" atomic: a push racing
// with the login is either in the replay or after it, never both or lost.
func (srv *Server) online(s *Session, b *batch, resume int64, hasResume bool) {
	lock := srv.hub.orderLock(s.uid)
	lock.Lock()
	var from int64
	var told *int64 // the resume point /auth/success reports
	if hasResume && s.acks {
		r, err := srv.store.Resume(srv.baseCtx, s.uid, s.device, resume)
		if err != nil {
			srv.log.Error("resume point", "uid", s.uid, "err", err)
			r = resume
		} else if r < resume {
			srv.log.Info("resume point above every stored seq: replaying from the device's cursor",
				"conn", s.id, "uid", s.uid, "resume", resume, "from", r)
		}
		from, told = r, &r
	} else {
		from, _ = srv.store.Cursor(srv.baseCtx, s.uid, s.device)
	}
	s.sendMsg(b, srv.authSuccess(s, told)) // before the hub shows s to broadcasts
	first, replaced := srv.hub.add(s, srv.cfg.OnePerDevice)
	msgs, err := srv.store.After(srv.baseCtx, s.uid, from, 0)
	if err != nil {
		srv.log.Error("replay stored pushes", "uid", s.uid, "err", err)
	}
	var last int64
	for i := range msgs {
		sh := pack.NewShared(srv.cfg.ByteOrder, msgs[i])
		b.add(s, s.frame(sh))
		last = msgs[i].Seq
	}
	srv.storedReplayed(s, max(from, last))
	switch {
	case !s.acks && last > 0:
		_ = srv.store.Ack(srv.baseCtx, s.uid, s.device, last) // written = delivered
	case s.acks:
		_ = srv.store.Ack(srv.baseCtx, s.uid, s.device, from) // registers the device's cursor
	}
	srv.metrics.replayed.Add(float64(len(msgs)))
	lock.Unlock()
	if replaced != nil {
		replaced.closeWith(pack.CodeReplaced, "replaced by a newer login of the same device")
	}
	if first && replaced == nil {
		srv.hooks.online(s.uid)
		if srv.bus != nil {
			if err := srv.bus.Subscribe(s.uid); err != nil {
				srv.log.Error("cluster subscribe", "uid", s.uid, "err", err)
			}
		}
	}
}

// ack records an app's cumulative ack.
func (srv *Server) ack(s *Session, seq int64) {
	if seq <= 0 {
		return
	}
	srv.recordAck(srv.baseCtx, s.uid, s.device, seq)
	srv.metrics.acks.Inc()
}

// recordAck writes a device's cumulative ack: at once with a local store,
// through the acker otherwise (it must not wait for I/O: it runs on the
// event loop or in the middle of a delivery).
func (srv *Server) recordAck(ctx context.Context, uid, device string, seq int64) {
	if srv.acks != nil {
		srv.acks.add(uid, device, seq)
		return
	}
	if err := srv.store.Ack(ctx, uid, device, seq); err != nil {
		srv.log.Error("store ack", "uid", uid, "err", err)
	}
}
