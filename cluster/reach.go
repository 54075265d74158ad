package cluster

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/plexpush/plex/server"
)

// A push to a user whom the pushing node does not hold is published with a
// reply subject in the bus's own inbox (inbox + "t" + token). Every node
// holding the user writes it and answers with the number of connections it
// reached; with no node holding the user NATS answers at once with a
// no-responders status on the reply subject. The first of the two settles
// the push's Reach: the holder's count, or nobody. With neither by the
// bound (a holder frozen, or too busy to answer in time) the user counts
// as held elsewhere, unconfirmed. One subscription and one timer per push
// in flight, no goroutine, and no wait for further holders: a user held by
// several other nodes is counted on the first that answered.
//
// Answers are batched: a holder collects them per origin inbox while its
// dispatcher has deliveries queued and sends them as one message (inbox +
// "B", lines "token count") when the queue is empty, so under load an
// answer costs a few bytes, not a message.
//
// The bound adapts to how fast holders answer: reachFactor times a moving
// average of the answer time, within [Config.AnswerWait (reachMin by
// default), reachMax]. A frozen node
// then costs a push to its users a few milliseconds on a healthy cluster,
// while a loaded one still gets its answers counted. A user whose push got
// no answer is not asked about again for reachQuiet: pushes to users of a
// frozen node are unconfirmed at once instead of each waiting the bound.
const (
	reachMin    = 2 * time.Millisecond
	reachMax    = 250 * time.Millisecond
	reachFactor = 4
	reachQuiet  = 2 * time.Second
	// reachFirstAvg is the answer time assumed before any was measured.
	reachFirstAvg = 10 * time.Millisecond
	reachMuted    = 1 << 14 // users remembered as unanswered, at most
)

// batchSubject ends the subject of a batch of answers (tokens are "t" and
// base 36 digits, so they never equal it).
const batchSubject = "B"

type reaches struct {
	b *Bus

	once  sync.Once
	inbox string // reply subjects are inbox + token
	sub   *nats.Subscription
	err   error

	mu      sync.Mutex
	pending map[string]*reachOp
	next    atomic.Uint64
	avg     time.Duration        // moving average of the answer time (under mu)
	muted   map[string]time.Time // uid → until when its pushes are not asked about (under mu)

	// holder side: answers to other nodes' pushes not sent yet, by the
	// origin's inbox (dispatcher goroutine only)
	out map[string][]byte
}

// reachOp is one push waiting for a holder's answer.
type reachOp struct {
	report func(server.Reach)
	sent   time.Time
	timer  *time.Timer
}

func (r *reaches) start() error {
	r.once.Do(func() {
		r.pending = make(map[string]*reachOp)
		r.avg = reachFirstAvg // until answers were timed: a node's first pushes do not race a 2 ms bound
		r.inbox = r.b.c.nc.NewInbox() + "."
		r.sub, r.err = r.b.c.nc.Subscribe(r.inbox+"*", r.answer)
		if r.err == nil {
			r.err = r.sub.SetPendingLimits(-1, -1) // a few bytes each; never drop one
		}
	})
	return r.err
}

// add registers report for a push to uid and returns the reply subject
// for the publish; "" when the push is not asked about (report was called
// with an unconfirmed reach): the inbox is unusable, or uid is muted.
func (r *reaches) add(uid string, report func(server.Reach)) string {
	if r.start() != nil {
		report(server.Reach{Elsewhere: true})
		return ""
	}
	now := time.Now()
	r.mu.Lock()
	if until, ok := r.muted[uid]; ok {
		if now.Before(until) {
			r.mu.Unlock()
			report(server.Reach{Elsewhere: true})
			return ""
		}
		delete(r.muted, uid)
	}
	token := "t" + strconv.FormatUint(r.next.Add(1), 36)
	op := &reachOp{report: report, sent: now}
	bound := min(max(reachFactor*r.avg, r.b.c.cfg.AnswerWait), max(reachMax, r.b.c.cfg.AnswerWait))
	r.pending[token] = op
	op.timer = time.AfterFunc(bound, func() {
		if op := r.take(token); op != nil {
			r.mute(uid)
			op.report(server.Reach{Elsewhere: true}) // unconfirmed: not offline
		}
	})
	r.mu.Unlock()
	return r.inbox + token
}

// mute stops asking about uid's pushes for reachQuiet.
func (r *reaches) mute(uid string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.muted == nil || len(r.muted) >= reachMuted {
		r.muted = make(map[string]time.Time) // bounded: forget them all
	}
	r.muted[uid] = time.Now().Add(reachQuiet)
}

// take removes and returns the op waiting under token (nil: settled).
func (r *reaches) take(token string) *reachOp {
	r.mu.Lock()
	defer r.mu.Unlock()
	op := r.pending[token]
	delete(r.pending, token)
	return op
}

// cancel drops the op of a publish that failed: its report is not called.
func (r *reaches) cancel(reply string) {
	if op := r.take(strings.TrimPrefix(reply, r.inbox)); op != nil {
		op.timer.Stop()
	}
}

// answer takes a batch of holders' answers, or NATS's no-responders
// status for one push (subscription goroutine).
func (r *reaches) answer(m *nats.Msg) {
	token := strings.TrimPrefix(m.Subject, r.inbox)
	if token != batchSubject {
		if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
			if op := r.take(token); op != nil {
				op.timer.Stop()
				op.report(server.Reach{}) // no node holds the user
			}
		}
		return
	}
	now := time.Now()
	for data := m.Data; len(data) > 0; {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		tok, num, ok := bytes.Cut(line, []byte{' '})
		n, err := strconv.Atoi(string(num))
		if !ok || err != nil || n < 0 {
			continue
		}
		r.mu.Lock()
		op := r.pending[string(tok)]
		delete(r.pending, string(tok))
		if op != nil {
			r.avg += (now.Sub(op.sent) - r.avg) / 8
		}
		r.mu.Unlock()
		if op == nil {
			continue // settled already (another holder, or the bound)
		}
		op.timer.Stop()
		op.report(server.Reach{Delivered: n, Elsewhere: true})
	}
}

// answerLater queues a holder's answer n to the push whose reply subject
// is reply (dispatcher goroutine); flush sends what is queued.
func (r *reaches) answerLater(reply string, n int) {
	i := strings.LastIndexByte(reply, '.')
	if i < 0 || i == len(reply)-1 {
		return
	}
	inbox, token := reply[:i+1], reply[i+1:]
	if r.out == nil {
		r.out = make(map[string][]byte)
	}
	buf := r.out[inbox]
	buf = append(buf, token...)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, int64(n), 10)
	r.out[inbox] = append(buf, '\n')
}

// flush sends the queued answers, one message per origin (dispatcher
// goroutine, when no delivery waits).
func (r *reaches) flush() {
	for inbox, buf := range r.out {
		_ = r.b.c.nc.Publish(inbox+batchSubject, buf)
		delete(r.out, inbox)
	}
}

// close reports every push still waiting as unconfirmed (the bus is
// closing).
func (r *reaches) close() {
	r.mu.Lock()
	ops := r.pending
	r.pending = make(map[string]*reachOp)
	r.mu.Unlock()
	for _, op := range ops {
		op.timer.Stop()
		op.report(server.Reach{Elsewhere: true})
	}
}
