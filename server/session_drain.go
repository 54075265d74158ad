package server

import (
	"context"
	"time"

	"github.com/plexpush/plex/pack"
)

// Closing a connection with docs/protocol.md §13.4's promise (announced
// as "drain" in /auth/success): every request the connection executed is
// answered before its /disconnect, and nothing it sends after the close
// began is executed. So a client that reads /disconnect knows that an
// unanswered request was not executed and may send it again.
//
// Synchronous requests are answered before their reader lets go of inMu.
// What runs elsewhere is waited for: a push client's pipelined pushes
// (session_offload.go) and /message on the messenger (message_queue.go).
// The close begins with stopBit in closeCode: readers execute nothing
// more (they check closeCode under inMu), writers still queue answers;
// the final frame's code replaces the bit, and nothing is queued after it.

// stopBit in closeCode: closing, the final frame not queued yet.
const stopBit = 1 << 31

// closeAnswerWait bounds the wait for the answers of what a closing
// connection executed; a store slower than that (it bounds its own writes
// well inside it) leaves those requests' outcome unknown.
const closeAnswerWait = 30 * time.Second

// finalCode is the code of the final frame queued (0: none yet).
func (s *Session) finalCode() pack.Code { return pack.Code(s.closeCode.Load() &^ stopBit) }

// stop makes s execute nothing more.
func (s *Session) stop() { s.closeCode.CompareAndSwap(0, stopBit) }

// setFinal records c as the code of the final frame; only the first one
// wins (false for the others). Called with outMu held.
func (s *Session) setFinal(c pack.Code) bool {
	for {
		old := s.closeCode.Load()
		if old&^stopBit != 0 {
			return false
		}
		if s.closeCode.CompareAndSwap(old, uint32(c)) {
			return true
		}
	}
}

// answered reports whether nothing s executed is still running elsewhere.
func (s *Session) answered() bool {
	if m := s.srv.messages; m != nil && m.busy(s) {
		return false
	}
	return s.srv.pushesDone(s)
}

// closeAnswered closes s with /disconnect c keeping §13.4's promise. It
// never blocks: when something s executed is still running (or a reader
// is inside a frame, e.g. the caller itself), a goroutine waits for it,
// at most closeAnswerWait, and then closes.
func (s *Session) closeAnswered(c pack.Code, reason string) {
	s.stop()
	if s.inMu.TryLock() {
		idle := s.answered()
		if idle {
			s.closeWith(c, reason)
		}
		s.inMu.Unlock()
		if idle {
			return
		}
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeAnswerWait)
		defer cancel()
		s.drainClose(ctx, c, reason)
	}()
}

// drainClose closes s with /disconnect c once the frames s is executing
// were answered (their answers are queued before the executor lets go of
// inMu) and what they started elsewhere was too; stop makes every reader
// execute nothing more. If ctx ends first (a store that does not answer),
// s is closed without waiting and the promise is not kept for those.
func (s *Session) drainClose(ctx context.Context, c pack.Code, reason string) {
	s.stop()
	if !pollUntil(ctx, s.inMu.TryLock) {
		s.closeWith(c, reason)
		return
	}
	pollUntil(ctx, s.answered)
	s.closeWith(c, reason)
	s.inMu.Unlock()
}

// pollUntil checks done every millisecond until it reports true (true) or
// ctx ends (false). For closing only: it is not made to be cheap.
func pollUntil(ctx context.Context, done func() bool) bool {
	for !done() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Millisecond):
		}
	}
	return true
}
