package server_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"log/slog"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// Input that crashed a node, or could have: the node must survive it, close
// only the connection it came on with a code, and keep serving the others.

// wsCrashFrames are the two frames of issue 12: a text frame with FIN=0 and
// a 1-byte payload, then a continuation with FIN=1 that declares a length
// of 2^63-1 and carries nothing. 1 + (2^63-1) overflowed the limit check,
// and the frame's end offset with it: slice bounds out of range on the
// poller, and the process exited.
func wsCrashFrames() []byte {
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	b := []byte{0x01, 0x80 | 1} // text, FIN=0, masked, length 1
	b = append(b, mask[:]...)
	b = append(b, '{'^mask[0])
	b = append(b, 0x80, 0x80|127) // continuation, FIN=1, masked, 64-bit length
	b = binary.BigEndian.AppendUint64(b, 1<<63-1)
	return append(b, mask[:]...)
}

func TestWSLengthOverflowClosesOnlyThatConnection(t *testing.T) {
	for _, authed := range []bool{false, true} {
		name := "before auth"
		if authed {
			name = "after auth"
		}
		t.Run(name, func(t *testing.T) {
			n := startWSNode(t, server.Config{})
			other := wsApp(t, n.http, "bob", nil)
			tcp := app(t, n.Addr, "carol", nil)

			p := wsDial(t, n.http)
			if authed {
				p.auth("alice", nil)
			}
			_ = p.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			_, err := p.c.Write(wsCrashFrames())
			require.NoError(t, err)
			p.expectClosed(pack.URIDisconnect, pack.CodeFrameTooLarge)

			// the node is up: old and new connections of both transports work
			for _, uid := range []string{"bob", "carol"} {
				_, err := n.Push(ctx(t), server.User(uid), pack.Message{URI: "/after", Body: []byte("x")})
				require.NoError(t, err)
			}
			require.Equal(t, "/after", other.recvSkipHeartbeat().URI)
			require.Equal(t, "/after", tcp.recvSkipHeartbeat().URI)
			again := wsApp(t, n.http, "dave", nil)
			again.send(pack.Message{URI: pack.URIHeartbeat})
			require.Equal(t, pack.URIHeartbeat, again.recv().URI)
			require.Equal(t, 0.0, metricValue(t, n.node, "plex_panics_total", ""), "the overflow is refused, not recovered from")
		})
	}
}

// panicky authenticates the token as the uid, and panics on "boom". It is
// local, so the node calls it on the read path (the event loop for TCP).
type panicky struct{}

func (panicky) Local() bool { return true }

func (panicky) Authenticate(_ context.Context, token string, _ net.Addr) (string, error) {
	if token == "boom" {
		panic("authenticator exploded")
	}
	return token, nil
}

// testConn is what the test needs of a raw peer on any transport.
type testConn interface {
	send(pack.Message)
	auth(token string, meta map[string]string) server.AuthInfo
	recvSkipHeartbeat() pack.Message
	expectClosed(uri string, code pack.Code) pack.Message
}

// A panic while one connection's input is handled, on every read path (the
// TCP event loop, the TLS reader, WebSocket on the event loop and on a
// blocking TLS socket), closes that connection with 3005, is logged with
// its stack and counted, and the node keeps serving everyone else.
func TestPanicClosesOnlyThatConnection(t *testing.T) {
	cert, pool := selfSigned(t)
	transports := []struct {
		name  string
		start func(t *testing.T, cfg server.Config) (n *node, dial func() testConn)
	}{
		{"tcp", func(t *testing.T, cfg server.Config) (*node, func() testConn) {
			n := startNode(t, cfg)
			return n, func() testConn { return dial(t, n.Addr) }
		}},
		{"tls", func(t *testing.T, cfg server.Config) (*node, func() testConn) {
			cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
			n := startNode(t, cfg)
			return n, func() testConn {
				c, err := tls.Dial("tcp", n.Addr, &tls.Config{RootCAs: pool})
				require.NoError(t, err)
				t.Cleanup(func() { c.Close() })
				return &peer{t: t, c: c, r: pack.NewReader(c, pack.BigEndian, pack.JSON, 0),
					w: pack.NewWriter(c, pack.BigEndian, pack.JSON), codec: pack.JSON}
			}
		}},
		{"websocket", func(t *testing.T, cfg server.Config) (*node, func() testConn) {
			n := startWSNode(t, cfg)
			return n.node, func() testConn { return wsDial(t, n.http) }
		}},
		{"websocket over the embedder's tls", func(t *testing.T, cfg server.Config) (*node, func() testConn) {
			n := startNode(t, cfg)
			hs := httptest.NewUnstartedServer(n.Handler())
			hs.EnableHTTP2 = false
			hs.StartTLS()
			t.Cleanup(hs.Close)
			return n, func() testConn {
				p, resp := wsHandshake(t, hs.Listener.Addr().String(), nil, &tls.Config{InsecureSkipVerify: true})
				require.NotNil(t, p, "handshake answered %s", resp.Status)
				return p
			}
		}},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			logs := &syncBuffer{}
			n, dial := tr.start(t, server.Config{
				Authenticator: panicky{},
				Logger:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError})),
				OnUpstream: func(s *server.Session, m *pack.Message) {
					if m.URI == "/boom" {
						panic("upstream hook exploded")
					}
				},
			})
			bystander := dial()
			bystander.auth("bob", nil)

			// in the authenticator, before the connection is online
			p := dial()
			p.send(pack.Message{URI: pack.URIAuth, Body: []byte("boom")})
			p.expectClosed(pack.URIDisconnect, pack.CodeOutcomeUnknown)

			// in OnUpstream, online
			p = dial()
			p.auth("alice", nil)
			p.send(pack.Message{URI: "/boom"})
			p.expectClosed(pack.URIDisconnect, pack.CodeOutcomeUnknown)
			eventually(t, func() bool { return !n.Online(server.User("alice")) }, "alice offline after the panic")

			_, err := n.Push(ctx(t), server.User("bob"), pack.Message{URI: "/still", Body: []byte("up")})
			require.NoError(t, err)
			require.Equal(t, "/still", bystander.recvSkipHeartbeat().URI)
			again := dial()
			again.auth("carol", nil)
			again.send(pack.Message{URI: "/fine"}) // OnUpstream returns normally
			_, err = n.Push(ctx(t), server.User("carol"), pack.Message{URI: "/still"})
			require.NoError(t, err)
			require.Equal(t, "/still", again.recvSkipHeartbeat().URI)

			require.Equal(t, 2.0, metricValue(t, n, "plex_panics_total", ""))
			out := logs.String()
			for _, want := range []string{"authenticator exploded", "upstream hook exploded", "goroutine ", "panic_test.go"} {
				require.Contains(t, out, want, "the Error log has the panic and its stack")
			}
		})
	}
}
