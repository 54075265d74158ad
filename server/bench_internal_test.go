package server

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"github.com/plexpush/plex/pack"
)

// nullTransport counts what would be written: the benchmarks below measure
// the node's own CPU per push and per recipient, without the kernel (which
// cmd/plexbench measures end to end).
type nullTransport struct{ writes, frames atomic.Int64 }

func (t *nullTransport) Writev(b [][]byte) (int, error) {
	t.writes.Add(1)
	t.frames.Add(int64(len(b)))
	return 0, nil
}
func (t *nullTransport) Close() error         { return nil }
func (t *nullTransport) RemoteAddr() net.Addr { return &net.TCPAddr{} }

func benchServer(b *testing.B, conns int) (*Server, *nullTransport) {
	b.Helper()
	srv, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	tr := &nullTransport{}
	for i := range conns {
		s := &Session{srv: srv, id: uint64(i), tr: tr, uid: key(fmt.Sprintf("u%d", i)), app: srv.defaultApp}
		s.codec.Store(uint32(pack.JSON))
		s.state.Store(stateApp)
		srv.hub.add(s, false)
	}
	return srv, tr
}

// BenchmarkBroadcast: one broadcast to 10,000 connections per op; divide
// ns/op by 10,000 for the node's CPU per recipient (excluding the syscall).
func BenchmarkBroadcast(b *testing.B) {
	srv, tr := benchServer(b, 10000)
	m := pack.Message{URI: "/b", Body: make([]byte, 64)}
	for i := range m.Body {
		m.Body[i] = 'x'
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := srv.Push(context.Background(), Everyone(), m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/recipient")
	_ = tr
}

// BenchmarkInnerPushes: 1,000 pipelined /inner/push frames (10 users × 100)
// decoded and delivered as one read; reports the node's CPU per push and
// the resulting frames per write.
func BenchmarkInnerPushes(b *testing.B) {
	srv, tr := benchServer(b, 10)
	inner := &Session{srv: srv, tr: &nullTransport{}, app: srv.defaultApp}
	inner.codec.Store(uint32(pack.Protobuf))
	inner.state.Store(stateInner)
	inner.dec = *pack.NewDecoder(pack.BigEndian, 0)
	var stream []byte
	for i := range 1000 {
		body, _ := pack.AppendPushRequest(nil, &pack.PushRequest{UID: fmt.Sprintf("u%d", i%10), URI: "/n", Body: "0123456789abcdef0123456789abcdef"})
		var err error
		if stream, err = pack.AppendFrame(stream, pack.BigEndian, pack.Protobuf, &pack.Message{Seq: int64(i + 1), URI: pack.URIPush, Body: body}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		inner.onData(stream)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/push")
	b.ReportMetric(float64(tr.frames.Load())/float64(max(1, tr.writes.Load())), "frames/write")
}
