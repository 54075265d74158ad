package server

import (
	"context"
	"sync"
)

// A push to one user in a cluster is answered with an Outcome that is true
// for the whole cluster. When this node holds the user, the user is not
// offline and Delivered counts this node's connections; the others are not
// asked (a user connected to several nodes is counted here). Otherwise the
// node publishes the push asking for an answer (Bus.Publish's reach) and
// joins it before it answers the pusher: Delivered counts the connections
// of the first node holding the user that answered, and Offline stays 1
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

// publishTo hands d, a push to uid, to the other nodes; the wait it
// returns (nil: none) gets what they answered when this node does not
// hold uid. Called under uid's order lock.
func (srv *Server) publishTo(ctx context.Context, uid key, d Delivery) (*reachWait, error) {
	if srv.hub.online(uid) {
		return nil, srv.link.bus.Publish(ctx, d, nil)
	}
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
