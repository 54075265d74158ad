package client

import "time"

// A node that stops answering (frozen, its host paused, a network path
// that silently drops) would hold every request a PlexClient gives it
// until RequestTimeout, and with round-robin that is a share of every
// burst. So while a link holds requests, its node must say something at
// least every silentAfter: a reply, or the echo of a heartbeat the link
// sends when the node has been quiet that long. A node that does not echo
// within silentAfter either is suspect: new requests go to the other nodes
// (pick), while those it holds keep waiting for their honest outcome (a
// reply, or ErrOutcomeUnknown at RequestTimeout, when the link is killed
// as stalled). Any frame from the node clears the suspicion. A frozen node
// is left for new requests within about 2 × silentAfter plus a tick.
//
// A node silent for silentDead (or RequestTimeout, if shorter) while it
// holds requests is taken for dead, as a missed heartbeat would be: the
// link is killed, the requests it held end with ErrOutcomeUnknown (they
// may have been executed) and the node is redialled. A node that is only
// slow to answer requests (a store that cannot store) still echoes
// heartbeats and keeps its requests until RequestTimeout.
const (
	silentAfter = 750 * time.Millisecond
	silentDead  = 4 * time.Second
)

// silentFor returns how long the node has sent nothing while the link
// held requests (0 when it holds none): since its last frame or since the
// link began to hold requests, whichever is later (an idle node need not
// speak).
func (l *link) silentFor(now time.Time) time.Duration {
	if l.load() == 0 {
		return 0
	}
	return now.Sub(time.Unix(0, max(l.lastRead.Load(), l.busySince.Load())))
}

// watchSilence runs on the node's supervisor every tick; it reports
// whether the link's suspicion changed, and to what.
func (l *link) watchSilence(now time.Time) (changed, suspect bool) {
	if l.silentFor(now) < silentAfter {
		l.probeAt.Store(0)
		return l.suspect.Swap(false), false // holds nothing, or the node spoke lately
	}
	last := max(l.lastRead.Load(), l.busySince.Load())
	switch p := l.probeAt.Load(); {
	case p < last: // no probe since the node last spoke: send one
		l.probeAt.Store(now.UnixNano())
		l.wantProbe.Store(true)
		l.kick()
	case now.Sub(time.Unix(0, p)) >= silentAfter && !l.suspect.Load():
		l.suspect.Store(true)
		return true, true
	}
	return false, l.suspect.Load()
}
