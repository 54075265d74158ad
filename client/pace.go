package client

import (
	"time"

	"github.com/plexpush/plex/pack"
)

// Background mode (docs/protocol.md §11.1): an app in background asks the
// node for a longer heartbeat timeout with /heartbeat mode=background, and
// heartbeats at the background interval once the node's echo confirms it.
// Back in the foreground it sends mode=foreground and returns to the
// normal pace at once (heartbeating more often is always safe).

// pace is a heartbeat interval and the silence after which a connection is
// dead.
type pace struct {
	heartbeat time.Duration
	timeout   time.Duration
}

// foreground is the normal pace the node announced.
func (s sessionInfo) foreground() pace { return pace{s.heartbeat(), s.timeout()} }

// background is the pace of background mode; zero when the node does not
// offer it (the link then never asks for it).
func (s sessionInfo) background() pace {
	if s.BackgroundHeartbeatMS <= 0 || s.BackgroundTimeoutMS <= s.BackgroundHeartbeatMS {
		return pace{}
	}
	return pace{
		heartbeat: time.Duration(s.BackgroundHeartbeatMS) * time.Millisecond,
		timeout:   time.Duration(s.BackgroundTimeoutMS) * time.Millisecond,
	}
}

func (l *link) heartbeat() time.Duration { return time.Duration(l.hbNanos.Load()) }
func (l *link) timeout() time.Duration   { return time.Duration(l.toNanos.Load()) }

func (l *link) setPace(p pace) {
	l.hbNanos.Store(int64(p.heartbeat))
	l.toNanos.Store(int64(p.timeout))
}

// setBackground asks for background mode (on) or the normal pace; the
// writer sends the request (modeFrame). Safe from any goroutine.
func (l *link) setBackground(on bool) {
	if l.bg.heartbeat == 0 {
		return // the node has no background mode
	}
	l.wantBG.Store(on)
	l.kick()
}

// modeFrame appends the mode request when the wanted mode differs from
// the one last requested (writer goroutine only). Leaving background
// applies the normal pace at once, including the read deadline.
func (l *link) modeFrame(dst []byte) ([]byte, int) {
	want := l.wantBG.Load()
	if want == l.sentBG {
		return dst, 0
	}
	mode := pack.ModeForeground
	if want {
		mode = pack.ModeBackground
	}
	out, err := pack.AppendFrame(dst, l.order, l.codec, &pack.Message{URI: pack.URIHeartbeat, Meta: map[string]string{pack.MetaMode: mode}})
	if err != nil {
		return dst, 0
	}
	l.sentBG = want
	if !want {
		l.setPace(l.fg)
		_ = l.nc.SetReadDeadline(time.Now().Add(l.fg.timeout))
		l.paceChanged.Store(true)
	}
	return out, 1
}

// heartbeatEcho handles the node's /heartbeat (reader goroutine): a
// mode=background echo while background is still wanted switches to the
// background pace; it reports whether the read deadline must be renewed.
func (l *link) heartbeatEcho(m *pack.Message) bool {
	if m.Get(pack.MetaMode) != pack.ModeBackground || !l.wantBG.Load() {
		return false
	}
	l.setPace(l.bg)
	l.paceChanged.Store(true)
	l.kick() // the writer re-arms its heartbeat timer
	return true
}
