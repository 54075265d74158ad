package server

import (
	"context"
	"sync"
)

// A push to one user in a cluster is answered with an Outcome that counts
// the whole cluster: the node publishes it (Bus.Publish), writes its own
// connections, and joins what the other nodes answered (Reach) before it
// answers the pusher. Delivered adds their connections; Offline stays 1
// only when no node holds the user.

// reachWait is one push's wait for Bus.Publish's reach. The reach may come
// before or after the node finished its own part.
type reachWait struct {
	mu   sync.Mutex
	got  bool
	r    Reach
	then func(Reach)
}

// report is the reach callback handed to Bus.Publish.
func (w *reachWait) report(r Reach) {
	w.mu.Lock()
	if then := w.then; then != nil {
		w.mu.Unlock()
		then(r)
		return
	}
	w.got, w.r = true, r
	w.mu.Unlock()
}

// publishTo hands d, a push to one user, to the other nodes; the wait it
// returns gets what they answered.
func (srv *Server) publishTo(ctx context.Context, d Delivery) (*reachWait, error) {
	w := &reachWait{}
	if err := srv.link.bus.Publish(ctx, d, w.report); err != nil {
		return nil, err
	}
	return w, nil
}

// answerReached calls done with out joined with w's reach: at once on b
// when there is nothing to wait for or the reach came already, else when
// it comes, on a batch of its own.
func (srv *Server) answerReached(b *batch, out Outcome, err error, w *reachWait, done pushDone) {
	if w == nil || err != nil {
		done(b, out, err)
		return
	}
	w.mu.Lock()
	if w.got {
		r := w.r
		w.mu.Unlock()
		done(b, joinReach(out, r), nil)
		return
	}
	w.then = func(r Reach) {
		b := srv.getBatch()
		done(b, joinReach(out, r), nil)
		srv.putBatch(b)
	}
	w.mu.Unlock()
}

// joinReach adds the other nodes' answer to this node's outcome.
func joinReach(out Outcome, r Reach) Outcome {
	out.Delivered += r.Delivered
	if out.Delivered > 0 || r.Elsewhere {
		out.Offline = 0
	}
	return out
}
