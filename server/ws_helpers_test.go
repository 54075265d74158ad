package server_test

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// The WebSocket peer below is written from RFC 6455 on purpose: it sends
// exactly the bytes a test needs (masked frames, oversized messages, no
// reads at all), which a client library would not let a test do.

// wsNode is a node serving its HTTP API (with /plex/v1/ws) on loopback.
type wsNode struct {
	*node
	http string
}

func startWSNode(t *testing.T, cfg server.Config) *wsNode {
	t.Helper()
	n := startNode(t, cfg)
	ln := listen(t)
	go func() { _ = n.ServeAPI(ln) }()
	return &wsNode{node: n, http: ln.Addr().String()}
}

// wsPeer is a raw WebSocket client speaking plex messages.
type wsPeer struct {
	t     *testing.T
	c     net.Conn
	br    *bufio.Reader
	codec pack.Codec
}

// wsClosed is the close frame the node ended the connection with.
type wsClosed struct {
	status int
	reason string
}

func (e *wsClosed) Error() string {
	return fmt.Sprintf("websocket closed with status %d %q", e.status, e.reason)
}

// wsHandshake dials addr and sends an upgrade request with the extra
// headers; it returns the response and, on 101, the peer.
func wsHandshake(t *testing.T, addr string, hdr http.Header, tlsConf *tls.Config) (*wsPeer, *http.Response) {
	t.Helper()
	var nc net.Conn
	var err error
	if tlsConf != nil {
		nc, err = tls.Dial("tcp", addr, tlsConf)
	} else {
		nc, err = net.DialTimeout("tcp", addr, 5*time.Second)
	}
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	var req strings.Builder
	host := addr
	if h := hdr.Get("Host"); h != "" { // the name the browser used (e.g. a rebinding attacker's)
		host = h
		hdr = hdr.Clone()
		hdr.Del("Host")
	}
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", server.WebSocketPath, host)
	fmt.Fprintf(&req, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	for name, vs := range hdr {
		for _, v := range vs {
			fmt.Fprintf(&req, "%s: %s\r\n", name, v)
		}
	}
	req.WriteString("\r\n")
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = io.WriteString(nc, req.String())
	require.NoError(t, err)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_ = nc.SetDeadline(time.Time{})
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, resp
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	require.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), resp.Header.Get("Sec-WebSocket-Accept"))
	return &wsPeer{t: t, c: nc, br: br, codec: pack.JSON}, resp
}

func wsDial(t *testing.T, addr string) *wsPeer {
	t.Helper()
	p, resp := wsHandshake(t, addr, nil, nil)
	require.NotNil(t, p, "handshake answered %s", resp.Status)
	return p
}

// wsApp dials and authenticates an app with uid as the token (auth.None).
func wsApp(t *testing.T, addr, uid string, meta map[string]string) *wsPeer {
	t.Helper()
	p := wsDial(t, addr)
	p.auth(uid, meta)
	return p
}

// writeFrame writes one masked frame (clients must mask, RFC 6455 §5.3).
func (p *wsPeer) writeFrame(op byte, payload []byte) error {
	hdr := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = binary.BigEndian.AppendUint64(append(hdr, 0x80|127), uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	masked := make([]byte, len(payload))
	for i, b := range payload {
		masked[i] = b ^ mask[i%4]
	}
	_ = p.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := p.c.Write(append(hdr, masked...))
	return err
}

func (p *wsPeer) send(m pack.Message) {
	p.t.Helper()
	body, err := p.codec.Append(nil, &m)
	require.NoError(p.t, err)
	op := byte(0x1)
	if p.codec == pack.Protobuf {
		op = 0x2
	}
	require.NoError(p.t, p.writeFrame(op, body))
}

// readFrame reads one frame (the node never fragments and never masks).
func (p *wsPeer) readFrame(d time.Duration) (op byte, payload []byte, err error) {
	_ = p.c.SetReadDeadline(time.Now().Add(d))
	var h [2]byte
	if _, err = io.ReadFull(p.br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x80 == 0 || h[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("unexpected frame header % x (fragmented or masked)", h)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err = io.ReadFull(p.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err = io.ReadFull(p.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(p.br, payload)
	return h[0] & 0x0f, payload, err
}

// tryRecv returns the next plex message; a close frame is a *wsClosed error.
func (p *wsPeer) tryRecv(d time.Duration) (pack.Message, byte, error) {
	for {
		op, payload, err := p.readFrame(d)
		if err != nil {
			return pack.Message{}, 0, err
		}
		switch op {
		case 0x1, 0x2:
			var m pack.Message
			codec := pack.JSON
			if op == 0x2 {
				codec = pack.Protobuf
			}
			if err := codec.Decode(payload, &m); err != nil {
				return m, op, err
			}
			return m, op, nil
		case 0x8:
			c := &wsClosed{}
			if len(payload) >= 2 {
				c.status = int(binary.BigEndian.Uint16(payload))
				c.reason = string(payload[2:])
			}
			_ = p.writeFrame(0x8, payload) // complete the closing handshake, as browsers do
			return pack.Message{}, op, c
		case 0x9:
			_ = p.writeFrame(0xA, payload) // pong
		}
	}
}

func (p *wsPeer) recv() pack.Message {
	p.t.Helper()
	m, op, err := p.tryRecv(5 * time.Second)
	require.NoError(p.t, err)
	want := byte(0x1)
	if p.codec == pack.Protobuf {
		want = 0x2
	}
	require.Equal(p.t, want, op, "message type of %+v", m)
	return m
}

func (p *wsPeer) recvSkipHeartbeat() pack.Message {
	p.t.Helper()
	for {
		if m := p.recv(); m.URI != pack.URIHeartbeat {
			return m
		}
	}
}

// expectStatus reads until the close frame and asserts its status, then EOF.
func (p *wsPeer) expectStatus(status int) {
	p.t.Helper()
	for {
		m, _, err := p.tryRecv(5 * time.Second)
		if err == nil {
			require.Equal(p.t, pack.URIHeartbeat, m.URI, "before the close frame: %+v", m)
			continue
		}
		var c *wsClosed
		require.ErrorAs(p.t, err, &c)
		require.Equal(p.t, status, c.status, "close status")
		break
	}
	_, _, err := p.readFrame(5 * time.Second)
	require.True(p.t, errors.Is(err, io.EOF) || isReset(err), "want EOF after the close frame, got %v", err)
}

// expectClosed asserts the final plex frame (uri, code), then a close
// frame whose status is the same code, then EOF.
func (p *wsPeer) expectClosed(uri string, code pack.Code) pack.Message {
	p.t.Helper()
	m := p.recvSkipHeartbeat()
	require.Equal(p.t, uri, m.URI, "final frame: %+v", m)
	require.Equal(p.t, code, pack.ErrorOf(&m).Code, "code in %+v", m)
	p.expectStatus(int(code))
	return m
}

func (p *wsPeer) auth(token string, meta map[string]string) server.AuthInfo {
	p.t.Helper()
	p.send(pack.Message{URI: pack.URIAuth, Body: []byte(token), Meta: meta})
	m := p.recv()
	require.Equal(p.t, pack.URIAuthSuccess, m.URI, "auth reply: %+v", m)
	var info server.AuthInfo
	require.NoError(p.t, json.Unmarshal(m.Body, &info))
	return info
}
