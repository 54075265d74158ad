package server

import (
	"runtime"
	"sync"
)

// batch collects the connections that got frames while one unit of work ran
// (one read's worth of frames, one push, one broadcast) and flushes each of
// them once at the end: however many frames a connection got, they go out
// with one writev. This is what makes coalescing deterministic instead of
// depending on a flusher goroutine's timing.
type batch struct {
	dirty []*Session
}

// add queues frame on s; s is remembered if it needs a flush. A nil frame
// (Session.frame skipped the message for s) queues nothing.
func (b *batch) add(s *Session, frame []byte) {
	if frame == nil {
		return
	}
	if first, _ := s.enqueue(frame); first {
		b.dirty = append(b.dirty, s)
	}
}

// parallelFlush is the number of dirty connections above which flushing is
// spread over GOMAXPROCS goroutines: each flush is a ~10 µs syscall and a
// goroutine costs ~1 µs, so a few dozen connections are already worth it
// (it halves unicast latency when pushes arrive in batches).
const parallelFlush = 32

func (b *batch) flush() {
	d := b.dirty
	switch {
	case len(d) == 0:
		return
	case len(d) < parallelFlush:
		for _, s := range d {
			s.flush()
		}
	default:
		workers := runtime.GOMAXPROCS(0)
		chunk := (len(d) + workers - 1) / workers
		var wg sync.WaitGroup
		for i := 0; i < len(d); i += chunk {
			part := d[i:min(i+chunk, len(d))]
			wg.Go(func() {
				for _, s := range part {
					s.flush()
				}
			})
		}
		wg.Wait()
	}
	clear(d)
	if cap(d) > 4096 {
		b.dirty = nil
	} else {
		b.dirty = d[:0]
	}
}

type batchPool struct{ p sync.Pool }

func (srv *Server) getBatch() *batch {
	if b, ok := srv.batches.p.Get().(*batch); ok {
		return b
	}
	return &batch{}
}

func (srv *Server) putBatch(b *batch) {
	b.flush() // never lose a frame by recycling an unflushed batch
	srv.batches.p.Put(b)
}
