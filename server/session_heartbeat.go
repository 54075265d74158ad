package server

import (
	"time"

	"github.com/plexpush/plex/pack"
)

// Heartbeat echo frames, by the mode they confirm (Server.hbFrame).
const (
	hbPlain      = iota // /heartbeat, no meta
	hbBackground        // mode=background: the node applied background mode
	hbForeground        // mode=foreground: the node applied foreground mode
)

// heartbeat answers an app's /heartbeat. With mode=background (and
// background mode on) the connection's timeout becomes
// BackgroundHeartbeatTimeout until mode=foreground; the echo says which
// mode the node applied, so an app never heartbeats more rarely than the
// node expects (docs/protocol.md §11.1).
func (s *Session) heartbeat(b *batch, m *pack.Message) {
	frame := hbPlain
	switch m.Get(pack.MetaMode) {
	case pack.ModeBackground:
		if s.srv.cfg.BackgroundHeartbeatInterval > 0 {
			s.setBackground(true)
			frame = hbBackground
		} else {
			frame = hbForeground
		}
	case pack.ModeForeground:
		s.setBackground(false)
		frame = hbForeground
	}
	b.add(s, s.srv.hbFrame[frame][s.wireCodec()])
}

// heartbeatTimeout is how long the connection may stay silent. A
// connection that leaves background mode may be looked at by the wheel only
// at its background deadline: a peer that dies right after it came back to
// the foreground is noticed within BackgroundHeartbeatTimeout.
func (s *Session) heartbeatTimeout() time.Duration {
	if s.background() {
		return s.srv.cfg.BackgroundHeartbeatTimeout
	}
	return s.srv.cfg.HeartbeatTimeout
}

// bgBit in Session.codec marks background heartbeat mode (the codec is
// set once, before auth; the mode only after): one word for both keeps
// Session within its size class.
const bgBit = 1 << 31

func (s *Session) background() bool { return s.codec.Load()&bgBit != 0 }

// setBackground switches the mode, counted in plex_background_connections
// until the session closes (closed() takes the bit back).
func (s *Session) setBackground(on bool) {
	if !on {
		s.leaveBackground()
		return
	}
	if s.closed.Load() {
		return
	}
	if s.codec.Or(bgBit)&bgBit == 0 {
		s.srv.metrics.background.Inc()
	}
	if s.closed.Load() { // closed meanwhile: closed() may have looked before the bit was set
		s.leaveBackground()
	}
}

// leaveBackground clears the bit; whoever clears it uncounts it.
func (s *Session) leaveBackground() {
	if s.codec.And(^uint32(bgBit))&bgBit != 0 {
		s.srv.metrics.background.Dec()
	}
}
