package server_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestResumeReportedAndHonoured: /auth/success says where the replay
// starts when the login sent a resume point. A point the memory store can
// continue above is kept (numbering continues above it, §12); one beyond
// what it can number (here 2^62) is not believed: the replay starts at the
// device's cursor, the app is told so, and later pushes reach it live.
func TestResumeReportedAndHonoured(t *testing.T) {
	n := startNode(t, server.Config{})
	p := pusher(t, n.Addr)
	meta := func(resume int64) map[string]string {
		return map[string]string{pack.MetaAcks: "1", pack.MetaDevice: "phone", pack.MetaResume: strconv.FormatInt(resume, 10)}
	}

	a := dial(t, n.Addr)
	info := a.auth("alice", meta(500))
	require.NotNil(t, info.Resume)
	require.Equal(t, int64(500), *info.Resume, "kept: the store numbers above it")
	out, cerr := p.push(1, server.PushRequest{UID: "alice", URI: "/p", Body: "x", Persist: true})
	require.Nil(t, cerr)
	require.Equal(t, int64(501), out.Seq)
	require.Equal(t, 1, out.Delivered)
	require.Equal(t, int64(501), a.recvSkipHeartbeat().Seq)

	b := dial(t, n.Addr)
	info = b.auth("bob", meta(1<<62))
	require.NotNil(t, info.Resume)
	require.Equal(t, int64(0), *info.Resume, "beyond the store: from the device's cursor")
	out, cerr = p.push(2, server.PushRequest{UID: "bob", URI: "/p", Body: "y", Persist: true})
	require.Nil(t, cerr)
	require.Equal(t, 1, out.Delivered, "delivered live, not withheld below the bogus point")
	require.Equal(t, out.Seq, b.recvSkipHeartbeat().Seq)

	c := dial(t, n.Addr)
	require.Nil(t, c.auth("carol", map[string]string{pack.MetaAcks: "1"}).Resume, "no resume sent: none reported")
}
