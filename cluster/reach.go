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

// A push to one user is published with a reply subject in the bus's own
// inbox (inbox + "t" + token). Every node holding the user writes it and
// answers with the number of connections it reached (the origin, which
// holds its own subscription when the user is connected to it too,
// answers -1); with no node holding the user NATS answers at once with a
// no-responders status on the reply subject. The origin sums the answers
// until none came for reachQuiet after the last one, or reachWait after
// the publish, then reports a server.Reach: one subscription and one timer
// per push in flight, no goroutine.
//
// Answers are batched: a holder collects them per origin inbox while its
// dispatcher has deliveries queued and sends them as one message (inbox +
// "B", lines "token count") when the queue is empty, so under load an
// answer costs a few bytes, not a message.

const (
	// reachQuiet is how long the origin waits for another holder's answer
	// after one came: holders answer within microseconds of each other on
	// a healthy cluster.
	reachQuiet = 2 * time.Millisecond
	// reachWait bounds the wait for any answer; a holder that did not
	// answer by then is taken to hold the user (not offline), its
	// connections uncounted.
	reachWait = 250 * time.Millisecond
)

// selfAnswer is the origin's answer to its own publish.
const selfAnswer = -1

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

	// holder side: answers to other nodes' pushes not sent yet, by the
	// origin's inbox (dispatcher goroutine only)
	out map[string][]byte
}

// reachOp is one push waiting for its holders' answers.
type reachOp struct {
	report    func(server.Reach)
	delivered int
	answers   int  // including the origin's own
	elsewhere bool // another node answered
	timer     *time.Timer
}

func (r *reaches) start() error {
	r.once.Do(func() {
		r.pending = make(map[string]*reachOp)
		r.inbox = r.b.c.nc.NewInbox() + "."
		r.sub, r.err = r.b.c.nc.Subscribe(r.inbox+"*", r.answer)
		if r.err == nil {
			r.err = r.sub.SetPendingLimits(-1, -1) // a few bytes each; never drop one
		}
	})
	return r.err
}

// add registers report and returns the reply subject for the publish; ""
// when the inbox is unusable (report is then called with an unknown reach).
func (r *reaches) add(report func(server.Reach)) string {
	if r.start() != nil {
		report(server.Reach{Elsewhere: true})
		return ""
	}
	token := "t" + strconv.FormatUint(r.next.Add(1), 36)
	op := &reachOp{report: report}
	r.mu.Lock()
	r.pending[token] = op
	op.timer = time.AfterFunc(reachWait, func() { r.finish(token, false) })
	r.mu.Unlock()
	return r.inbox + token
}

// cancel drops the op of a publish that failed: its report is not called.
func (r *reaches) cancel(reply string) {
	token := strings.TrimPrefix(reply, r.inbox)
	r.mu.Lock()
	op := r.pending[token]
	delete(r.pending, token)
	r.mu.Unlock()
	if op != nil {
		op.timer.Stop()
	}
}

// answer takes a batch of holders' answers, or NATS's no-responders
// status for one push (subscription goroutine).
func (r *reaches) answer(m *nats.Msg) {
	token := strings.TrimPrefix(m.Subject, r.inbox)
	if token != batchSubject {
		if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
			r.finish(token, true) // no node holds the user
		}
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for data := m.Data; len(data) > 0; {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		tok, num, ok := bytes.Cut(line, []byte{' '})
		n, err := strconv.Atoi(string(num))
		if !ok || err != nil || n < selfAnswer {
			continue
		}
		op := r.pending[string(tok)]
		if op == nil {
			continue // after its bound: reported already
		}
		op.answers++
		if n != selfAnswer {
			op.delivered += n
			op.elsewhere = true
		}
		op.timer.Reset(reachQuiet)
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

// finish reports token's reach, once: none when NATS said no node holds
// the user, else what the answers said; with no answer at all by the
// bound, a node that did not answer may hold the user.
func (r *reaches) finish(token string, none bool) {
	r.mu.Lock()
	op := r.pending[token]
	delete(r.pending, token)
	r.mu.Unlock()
	if op == nil {
		return
	}
	op.timer.Stop()
	if none {
		op.report(server.Reach{})
		return
	}
	op.report(server.Reach{Delivered: op.delivered, Elsewhere: op.elsewhere || op.answers == 0})
}

// close reports every push still waiting, as unknown (the bus is closing).
func (r *reaches) close() {
	r.mu.Lock()
	ops := r.pending
	r.pending = make(map[string]*reachOp)
	r.mu.Unlock()
	for _, op := range ops {
		op.timer.Stop()
		op.report(server.Reach{Delivered: op.delivered, Elsewhere: true})
	}
}
