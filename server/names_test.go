package server_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// badNames are what every path into a node must refuse. The separator row
// is issue 12's attack: "shop\x1falice" was app shop's alice to anyone
// holding the default app's secret.
var badNames = []struct {
	name, uid, room string
}{
	{"app key separator", "shop\x1falice", "shop\x1fteam"},
	{"control character", "alice\x00", "team\n"},
	{"DEL", "alice\x7f", "team\x7f"},
	{"over the limit", strings.Repeat("a", pack.MaxNameLen+1), strings.Repeat("r", pack.MaxNameLen+1)},
	{"not UTF-8", "alice\xff", "team\xff"},
}

// namesNode serves the default app, whose authenticator is the embedder's
// and takes the token for the uid unchecked, and app shop, whose alice is
// online and a member of shop's room "team".
type namesNode struct {
	*wsNode
	alice *peer
}

// tokenIsUID takes any token as the uid, unchecked (auth.None and
// auth.Func check uids; these tests need the node's checks alone).
type tokenIsUID struct{}

func (tokenIsUID) Authenticate(_ context.Context, token string, _ net.Addr) (string, error) {
	return token, nil
}

func startNamesNode(t *testing.T) *namesNode {
	t.Helper()
	n := startWSNode(t, server.Config{
		Authenticator:  tokenIsUID{}, // no uid checks: the node's own must hold
		Apps:           []server.App{{ID: "shop", Authenticator: auth.None{}, InnerSecret: "shop-secret"}},
		RoomAuthorizer: func(*server.Session, string, bool) bool { return true },
		MessagePolicy:  func(string, string) bool { return true },
	})
	alice := dialWith(t, n.Addr, pack.BigEndian, pack.Protobuf)
	alice.auth("alice", appAuth("shop"))
	require.NoError(t, n.Join(server.Room("team").In("shop"), "alice"))
	return &namesNode{wsNode: n, alice: alice}
}

// untouched asserts that app shop's alice received nothing and is still
// the only member of shop's "team".
func (n *namesNode) untouched(t *testing.T) {
	t.Helper()
	m, err := n.alice.tryRecv(50 * time.Millisecond)
	require.Error(t, err, "shop's alice received %+v", m)
	require.Equal(t, []string{"alice"}, n.Members(server.Room("team").In("shop")))
	require.Empty(t, n.Members(server.Room("shop\x1fteam")))
	require.Empty(t, n.Members(server.Room("team")))
	require.True(t, n.Online(server.User("alice").In("shop")))
}

// jstr quotes s as a JSON string byte for byte: control characters are
// escaped, bytes that are not UTF-8 are kept (json.Marshal would replace
// them with U+FFFD and test another name).
func jstr(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteString(strconv.FormatUint(uint64(c)>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(c)&0xf, 16))
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// pbPeer dials with the protobuf codec, whose bodies are bytes: a name
// that is not UTF-8 reaches the node's checks instead of the JSON codec's.
func pbPeer(t *testing.T, addr string) *peer { return dialWith(t, addr, pack.BigEndian, pack.Protobuf) }

func pbPusher(t *testing.T, addr string) *peer {
	t.Helper()
	p := pbPeer(t, addr)
	p.send(pack.Message{URI: pack.URIInnerAuth, Body: []byte(secret)})
	require.Equal(t, pack.URIAuthSuccess, p.recv().URI)
	return p
}

// refused asserts a /error reply with seq and 4004.
func (p *peer) refused(seq int64) {
	p.t.Helper()
	m := p.recvSkipHeartbeat()
	require.Equal(p.t, pack.URIError, m.URI, "reply: %+v", m)
	require.Equal(p.t, seq, m.Seq)
	require.Equal(p.t, pack.CodeBadRequest, pack.ErrorOf(&m).Code, "reply: %+v", m)
}

func httpRefused(t *testing.T, n *namesNode, method, path, body string) {
	t.Helper()
	code, out := do(t, n.Handler(), method, path, secret, body)
	require.Equal(t, 400, code, "%s %q: %v", method, path, out)
	require.EqualValues(t, pack.CodeBadRequest, out["code"], "%v", out)
}

// TestEveryPathRefusesBadNames drives every way a name reaches a node with
// each bad name, with the default app's credentials, and proves that app
// shop's alice got nothing, her presence was not revealed and shop's room
// did not change.
func TestEveryPathRefusesBadNames(t *testing.T) {
	n := startNamesNode(t)
	paths := []struct {
		path string
		run  func(t *testing.T, uid, room string)
	}{
		{"/inner/push uid", func(t *testing.T, uid, _ string) {
			p := pbPusher(t, n.Addr)
			p.send(pack.Message{Seq: 1, URI: pack.URIPush, Body: []byte(`{"uid":` + jstr(uid) + `,"uri":"/x","body":"leak"}`)})
			p.refused(1)
		}},
		{"/inner/push uid persistent", func(t *testing.T, uid, _ string) {
			p := pbPusher(t, n.Addr)
			p.send(pack.Message{Seq: 2, URI: pack.URIPush, Body: []byte(`{"uid":` + jstr(uid) + `,"uri":"/x","body":"leak","persist":true}`)})
			p.refused(2)
		}},
		{"/inner/push uids", func(t *testing.T, uid, _ string) {
			p := pbPusher(t, n.Addr)
			p.send(pack.Message{Seq: 3, URI: pack.URIPush, Body: []byte(`{"uids":["bob",` + jstr(uid) + `],"uri":"/x","body":"leak","persist":true}`)})
			p.refused(3)
		}},
		{"/inner/push room", func(t *testing.T, _, room string) {
			p := pbPusher(t, n.Addr)
			p.send(pack.Message{Seq: 4, URI: pack.URIPush, Body: []byte(`{"room":` + jstr(room) + `,"uri":"/x","body":"leak"}`)})
			p.refused(4)
		}},
		{"/logic/send/msg (original, no reply)", func(t *testing.T, uid, _ string) {
			p := pbPusher(t, n.Addr)
			before := metricValue(t, n.node, "plex_pushes_total", "rejected")
			p.send(pack.Message{URI: pack.URILegacyPush, Body: []byte(`{"uid":` + jstr(uid) + `,"uri":"/x","body":"leak"}`)})
			p.send(pack.Message{URI: pack.URIHeartbeat}) // answered after the push ran
			require.Equal(t, pack.URIHeartbeat, p.recv().URI)
			require.Equal(t, before+1, metricValue(t, n.node, "plex_pushes_total", "rejected"))
		}},
		{"POST /plex/v1/push uid", func(t *testing.T, uid, _ string) {
			httpRefused(t, n, "POST", "/plex/v1/push", `{"uid":`+jstr(uid)+`,"uri":"/x","body":"leak"}`)
			httpRefused(t, n, "POST", "/plex/v1/push", `{"uid":`+jstr(uid)+`,"uri":"/x","body":"leak","persist":true}`)
		}},
		{"POST /plex/v1/push uids", func(t *testing.T, uid, _ string) {
			httpRefused(t, n, "POST", "/plex/v1/push", `{"uids":[`+jstr(uid)+`],"uri":"/x","body":"leak"}`)
		}},
		{"POST /plex/v1/push room", func(t *testing.T, _, room string) {
			httpRefused(t, n, "POST", "/plex/v1/push", `{"room":`+jstr(room)+`,"uri":"/x","body":"leak"}`)
		}},
		{"GET /plex/v1/online", func(t *testing.T, uid, _ string) {
			httpRefused(t, n, "GET", "/plex/v1/online?uid=bob&uid="+url.QueryEscape(uid), "")
		}},
		{"GET /plex/v1/rooms/{room}", func(t *testing.T, _, room string) {
			httpRefused(t, n, "GET", "/plex/v1/rooms/"+url.PathEscape(room), "")
		}},
		{"POST /plex/v1/rooms/{room}/join|leave", func(t *testing.T, uid, room string) {
			for _, op := range []string{"join", "leave"} {
				httpRefused(t, n, "POST", "/plex/v1/rooms/"+url.PathEscape(room)+"/"+op, `{"uid":"bob"}`)
				httpRefused(t, n, "POST", "/plex/v1/rooms/team/"+op, `{"uid":`+jstr(uid)+`}`)
			}
		}},
		{"app /room/join and /room/leave", func(t *testing.T, _, room string) {
			p := pbPeer(t, n.Addr)
			p.auth("bob", nil)
			p.send(pack.Message{Seq: 5, URI: pack.URIRoomJoin, Body: []byte(room)})
			p.refused(5)
			p.send(pack.Message{Seq: 6, URI: pack.URIRoomLeave, Body: []byte(room)})
			p.refused(6)
		}},
		{"app /message to", func(t *testing.T, uid, _ string) {
			p := pbPeer(t, n.Addr)
			p.auth("bob", nil)
			p.send(pack.Message{Seq: 7, URI: pack.URIMessage, Body: []byte(`{"to":` + jstr(uid) + `,"body":"leak"}`)})
			p.refused(7)
		}},
		{"login: the authenticator's uid (TCP)", func(t *testing.T, uid, _ string) {
			p := pbPeer(t, n.Addr)
			p.send(pack.Message{URI: pack.URIAuth, Body: []byte(uid)})
			p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
		}},
		{"login: the authenticator's uid (WebSocket)", func(t *testing.T, uid, _ string) {
			p := wsDial(t, n.http)
			p.codec = pack.Protobuf
			p.send(pack.Message{URI: pack.URIAuth, Body: []byte(uid)})
			p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
		}},
		{"login: meta device", func(t *testing.T, uid, _ string) {
			p := pbPeer(t, n.Addr)
			if !utf8.ValidString(uid) {
				// meta is text on both codecs: the decoder refuses the frame
				p.sendRaw(rawProtobufAuth("bob", uid))
				p.expectClosed(pack.URIDisconnect, pack.CodeBadFrame)
				return
			}
			p.send(pack.Message{URI: pack.URIAuth, Body: []byte("bob"), Meta: map[string]string{pack.MetaDevice: uid}})
			p.expectClosed(pack.URIAuthFailed, pack.CodeBadRequest)
		}},
		{"Go API: Push", func(t *testing.T, uid, room string) {
			for _, to := range []server.Target{server.User(uid), server.Users("bob", uid), server.Room(room)} {
				_, err := n.Push(ctx(t), to, pack.Message{URI: "/x", Body: []byte("leak")})
				require.ErrorIs(t, err, pack.ErrBadName)
				require.ErrorIs(t, err, server.ErrBadTarget)
			}
			_, err := n.Push(ctx(t), server.User(uid), pack.Message{URI: "/x"}, server.Persist(0))
			require.ErrorIs(t, err, pack.ErrBadName)
		}},
		{"Go API: Join, Leave, Members, Online", func(t *testing.T, uid, room string) {
			require.ErrorIs(t, n.Join(server.Room(room), "bob"), pack.ErrBadName)
			require.ErrorIs(t, n.Join(server.Room("team"), uid), pack.ErrBadName)
			require.ErrorIs(t, n.Leave(server.Room("team"), uid), pack.ErrBadName)
			require.ErrorIs(t, n.Join(server.Room("team").In("shop"), uid), pack.ErrBadName)
			require.Nil(t, n.Members(server.Room(room)))
			require.False(t, n.Online(server.User(uid)))
			require.False(t, n.Online(server.User(uid).In("shop")))
		}},
	}
	for _, bad := range badNames {
		t.Run(bad.name, func(t *testing.T) {
			for _, p := range paths {
				t.Run(p.path, func(t *testing.T) {
					p.run(t, bad.uid, bad.room)
					n.untouched(t)
				})
			}
		})
	}
}

// rawProtobufAuth is an /auth/server frame (protobuf, big-endian) with
// meta device taken byte for byte: pack's encoder refuses one that is not
// UTF-8, which is what a node must survive.
func rawProtobufAuth(token, device string) []byte {
	field := func(b []byte, num int, v []byte) []byte {
		b = append(b, byte(num<<3|2))
		b = binary.AppendUvarint(b, uint64(len(v)))
		return append(b, v...)
	}
	entry := field(field(nil, 1, []byte(pack.MetaDevice)), 2, []byte(device))
	body := field(field(field(nil, 2, []byte(pack.URIAuth)), 3, []byte(token)), 4, entry)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// TestValidNamesWork: the rule refuses control characters, not unusual
// names. Spaces, punctuation, any script and exactly MaxNameLen bytes
// log in, receive pushes and join rooms.
func TestValidNamesWork(t *testing.T) {
	n := startNamesNode(t)
	for _, uid := range []string{"Zoë 日本 #1", "a.b*c>d", strings.Repeat("é", pack.MaxNameLen/2)} {
		p := pbPeer(t, n.Addr)
		require.Equal(t, uid, p.auth(uid, map[string]string{pack.MetaDevice: uid}).UID)
		out, err := n.Push(ctx(t), server.User(uid), pack.Message{URI: "/x", Body: []byte("hi")}, server.Persist(0))
		require.NoError(t, err)
		require.Equal(t, 1, out.Delivered)
		require.Equal(t, "hi", string(p.recv().Body))
		require.NoError(t, n.Join(server.Room(uid), uid))
		require.Equal(t, []string{uid}, n.Members(server.Room(uid)))
		code, body := do(t, n.Handler(), "GET", "/plex/v1/online?uid="+url.QueryEscape(uid), secret, "")
		require.Equal(t, 200, code)
		require.Equal(t, map[string]any{uid: true}, body["online"])
	}
	n.untouched(t)
}

// Rooms and presence take the same targets as pushes: a room for Join,
// Leave and Members, one user for Online, each scoped with In(app).
func TestRoomAndPresenceTakeTheirTargetsOnly(t *testing.T) {
	n := startNode(t, server.Config{})
	for _, bad := range []server.Target{server.User("team"), server.Everyone(), server.Users("a"), {}, {Room: "team", All: true}} {
		require.ErrorIs(t, n.Join(bad, "alice"), server.ErrBadTarget, "%+v", bad)
		require.ErrorIs(t, n.Leave(bad, "alice"), server.ErrBadTarget, "%+v", bad)
		require.Nil(t, n.Members(bad), "%+v", bad)
	}
	require.ErrorIs(t, n.Join(server.Room("team").In("nope"), "alice"), server.ErrUnknownApp)
	require.NoError(t, n.Join(server.Room("team"), "alice"))
	require.Equal(t, []string{"alice"}, n.Members(server.Room("team")))

	app(t, n.Addr, "alice", nil)
	require.True(t, n.Online(server.User("alice")))
	require.False(t, n.Online(server.Room("alice")), "a room is not a user")
	require.False(t, n.Online(server.Users("alice")), "nor a list of users")
	require.False(t, n.Online(server.User("alice").In("nope")), "unknown app")
}
