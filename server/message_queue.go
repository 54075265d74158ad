package server

import (
	"encoding/json"
	"errors"
	"sync"

	"github.com/plexpush/plex/pack"
)

// messenger stores and delivers apps' /message off the event loop when the
// Store does I/O (see offload.go): a message is persistent, so delivering
// it is a store round trip, which must not hold up the poller's other
// connections. A fixed set of workers, each with a bounded queue; a
// sender's messages all go to the same worker (by uid), so they are
// stored and delivered in the order it sent them. A full queue is answered
// at once with 4029, never dropped silently.
type messenger struct {
	queues []chan messageJob
	wg     sync.WaitGroup

	mu       sync.Mutex
	inflight map[*Session]int // queued or running jobs per sender (drainClose waits for them)
}

// messageJob is one accepted /message: msg is the delivery (owned by the
// job), to the recipient's internal key (empty for a room's message:
// members are its recipients, each getting its own copy), seq the sender's
// request id.
type messageJob struct {
	s       *Session
	seq     int64
	to      key
	members []key
	msg     pack.Message
	id      string
}

const (
	messengerWorkers = 8
	messengerQueue   = 1024 // per worker
)

func newMessenger(srv *Server) *messenger {
	m := &messenger{queues: make([]chan messageJob, messengerWorkers), inflight: make(map[*Session]int)}
	for i := range m.queues {
		q := make(chan messageJob, messengerQueue)
		m.queues[i] = q
		m.wg.Go(func() {
			for j := range q {
				b := srv.getBatch()
				// the answer is queued before the job counts as done
				srv.sendMessage(b, j, func() { m.done(j.s) })
				srv.putBatch(b)
			}
		})
	}
	return m
}

// submit queues j on its sender's worker; false when that queue is full.
func (m *messenger) submit(srv *Server, j messageJob) bool {
	q := m.queues[srv.hub.hash(j.s.uid)%uint64(len(m.queues))]
	m.mu.Lock()
	m.inflight[j.s]++
	m.mu.Unlock()
	select {
	case q <- j:
		return true
	default:
		m.done(j.s)
		return false
	}
}

func (m *messenger) done(s *Session) {
	m.mu.Lock()
	if m.inflight[s]--; m.inflight[s] <= 0 {
		delete(m.inflight, s)
	}
	m.mu.Unlock()
}

// busy reports whether s has a message queued or running.
func (m *messenger) busy(s *Session) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.inflight[s] > 0
}

// close stops the workers after they ran what was queued.
func (m *messenger) close() {
	for _, q := range m.queues {
		close(q)
	}
	m.wg.Wait()
}

// sendMessage stores and delivers an accepted /message and answers its
// sender: /reply {"id","seq","delivered"}, or /error 3005 when the store
// failed without storing it, 3008 when it may have stored it. end, when
// not nil, runs after the answer is queued (pipelined: possibly later, on
// the pipeline's completer).
func (srv *Server) sendMessage(b *batch, j messageJob, end func()) {
	if j.to == "" { // a room's message: members are its recipients
		srv.sendRoomMessage(b, j, end)
		return
	}
	srv.deliverUserAsync(srv.baseCtx, b, j.to, &j.msg, srv.messageOptions(j.s), nil, func(b *batch, out Outcome, err error) {
		srv.answerMessage(b, j, out, err)
		if end != nil {
			end()
		}
	})
}

// messageOptions are the delivery options of a /message copy sent by s:
// persistent, with the node's TTL and the app's ack timeout (a message
// not acked in time fires Config.OnUnacked, like a push).
func (srv *Server) messageOptions(s *Session) pushOptions {
	o := pushOptions{persist: true, ttl: srv.cfg.PersistTTL}
	if s.app != nil {
		o.ackBy = min(s.app.AckTimeout, o.ttl)
	}
	return o
}

func (srv *Server) answerMessage(b *batch, j messageJob, out Outcome, err error) {
	if err != nil {
		srv.metrics.messages.WithLabelValues("failed").Inc()
		if errors.Is(err, ErrOutcomeUnknown) {
			j.s.replyError(b, j.seq, pack.CodeOutcomeUnknown, "message may have been stored; check before sending it again")
			return
		}
		j.s.replyError(b, j.seq, pack.CodeInternal, "message not stored, retry")
		return
	}
	srv.metrics.messages.WithLabelValues("ok").Inc()
	reply, _ := json.Marshal(map[string]any{"id": j.id, "seq": out.Seq, "delivered": out.Delivered})
	j.s.sendMsg(b, &pack.Message{Seq: j.seq, URI: pack.URIReply, Body: reply})
}
