package server

import (
	"github.com/plexpush/plex/pack"
)

// online registers an authenticated app and replays what it missed. The
// order lock makes "replay stored, then live pushes" atomic: a push racing
// with the login is either in the replay or after it, never both or lost.
func (srv *Server) online(s *Session, b *batch, resume int64, hasResume bool) {
	if srv.pipes != nil {
		// after the pushes accepted before this login, before later ones
		srv.pipes.awaitTurn(s.uid)
		defer srv.pipes.loginDone(s.uid)
	}
	lock := srv.hub.orderLock(s.uid)
	lock.Lock()
	var from int64
	var told *int64 // the resume point /auth/success reports
	if hasResume && s.acks {
		r, err := srv.store.Resume(srv.baseCtx, string(s.uid), s.device, resume)
		if err != nil {
			srv.log.Error("resume point", "uid", s.uid, "err", err)
			r = resume
		} else if r < resume {
			srv.log.Info("resume point above every stored seq: replaying from the device's cursor",
				"conn", s.id, "uid", s.uid, "resume", resume, "from", r)
		}
		from, told = r, &r
	} else {
		var err error
		if from, err = srv.store.Cursor(srv.baseCtx, string(s.uid), s.device); err != nil {
			// replayed from 0, as for a device the store never saw
			srv.log.Error("device cursor", "conn", s.id, "uid", s.uid, "err", err)
		}
	}
	s.sendMsg(b, srv.authSuccess(s, told)) // before the hub shows s to broadcasts
	first, replaced := srv.hub.add(s, !srv.cfg.DeviceDuplicates)
	msgs, err := srv.store.After(srv.baseCtx, string(s.uid), from, 0)
	if err != nil {
		srv.log.Error("replay stored pushes", "uid", s.uid, "err", err)
	}
	var last int64
	for i := range msgs {
		if !forDevice(s, &msgs[i]) {
			continue // another device's push (push_device.go)
		}
		sh := pack.NewShared(srv.cfg.ByteOrder, msgs[i])
		b.add(s, s.frame(sh))
		last = msgs[i].Seq
	}
	if srv.link != nil {
		srv.link.replayed(s, max(from, last))
	}
	var ackErr error
	switch {
	case !s.acks && last > 0:
		ackErr = srv.store.Ack(srv.baseCtx, string(s.uid), s.device, last) // written = delivered
	case s.acks:
		// registers the device's cursor before any push is written to it
		// (synchronously: other devices' acks must not purge what it lacks)
		ackErr = srv.store.Ack(srv.baseCtx, string(s.uid), s.device, from)
	}
	if ackErr != nil {
		srv.log.Error("store ack at login", "conn", s.id, "uid", s.uid, "err", ackErr)
	}
	srv.metrics.replayed.Add(float64(len(msgs)))
	lock.Unlock()
	if replaced != nil {
		replaced.closeAnswered(pack.CodeReplaced, "replaced by a newer login of the same device")
	}
	if first && replaced == nil {
		srv.hooks.online(s.uid)
		if srv.link != nil {
			if err := srv.link.Subscribe(s.uid); err != nil {
				srv.log.Error("cluster subscribe", "uid", s.uid, "err", err)
			}
		}
	}
}
