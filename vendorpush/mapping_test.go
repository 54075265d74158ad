package vendorpush_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/vendorpush"
)

func TestMapMessage(t *testing.T) {
	three := 3
	tests := []struct {
		name      string
		m         pack.Message
		persisted bool
		want      vendorpush.Notification
		ok        bool
	}{
		{
			name: "alert with every key",
			m: pack.Message{Seq: 42, URI: "/chat/msg", Body: []byte(`{"text":"hi"}`), Meta: map[string]string{
				"title": "Alice", "alert": "hi", "sound": "default", "badge": "3", "collapse": "c1",
				"thread": "conv-9", "priority": "high", "ttl": "600", "data.conv": "9", "data.aps": "x",
				"data.google.x": "x", "data.": "x", "id": "m-1", "ts": "1760000000000", "other": "ignored",
			}},
			persisted: true,
			want: vendorpush.Notification{
				Title: "Alice", Body: "hi", Sound: "default", Badge: &three, Collapse: "c1", ThreadID: "conv-9",
				Priority: vendorpush.PriorityHigh, TTL: 10 * time.Minute,
				Data: map[string]string{"conv": "9", "uri": "/chat/msg", "body": `{"text":"hi"}`, "seq": "42",
					"persist": "1", "id": "m-1", "ts": "1760000000000"},
			},
			ok: true,
		},
		{
			name: "plain push becomes a background notification",
			m:    pack.Message{URI: "/sync"},
			want: vendorpush.Notification{Data: map[string]string{"uri": "/sync"}},
			ok:   true,
		},
		{
			name: "ttl 0 is now or never; bad values are ignored",
			m:    pack.Message{URI: "/x", Meta: map[string]string{"ttl": "0", "badge": "-1", "priority": "urgent"}},
			want: vendorpush.Notification{TTL: -1, Data: map[string]string{"uri": "/x"}},
			ok:   true,
		},
		{
			name: "ttl that does not parse",
			m:    pack.Message{URI: "/x", Meta: map[string]string{"ttl": "1h", "priority": "normal"}},
			want: vendorpush.Notification{Priority: vendorpush.PriorityNormal, Data: map[string]string{"uri": "/x"}},
			ok:   true,
		},
		{
			name: "large body is left out",
			m:    pack.Message{URI: "/x", Body: []byte(strings.Repeat("a", vendorpush.MaxDataBody+1))},
			want: vendorpush.Notification{Data: map[string]string{"uri": "/x", "body_omitted": "1"}},
			ok:   true,
		},
		{
			name: "binary body is left out",
			m:    pack.Message{URI: "/x", Body: []byte{0xff, 0x00}},
			want: vendorpush.Notification{Data: map[string]string{"uri": "/x", "body_omitted": "1"}},
			ok:   true,
		},
		{
			name: "push=0 opts out",
			m:    pack.Message{URI: "/typing", Meta: map[string]string{"push": "0", "alert": "typing"}},
			ok:   false,
		},
		{
			name: "data keys cannot override plex's",
			m:    pack.Message{URI: "/real", Meta: map[string]string{"data.uri": "/fake"}},
			want: vendorpush.Notification{Data: map[string]string{"uri": "/real"}},
			ok:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := vendorpush.MapMessage("alice", &tt.m, tt.persisted)
			require.Equal(t, tt.ok, ok, "ok")
			require.Equal(t, tt.want, got)
		})
	}
}

func TestMapMessageSharesNothing(t *testing.T) {
	m := pack.Message{URI: "/x", Body: []byte("hello"), Meta: map[string]string{"data.k": "v"}}
	n, ok := vendorpush.MapMessage("u", &m, false)
	require.True(t, ok)
	m.Body[0] = 'J'
	m.Meta["data.k"] = "changed"
	require.Equal(t, "hello", n.Data["body"])
	require.Equal(t, "v", n.Data["k"])
}

func TestReservedDataKey(t *testing.T) {
	for key, want := range map[string]bool{
		"aps": true, "from": true, "notification": true, "message_type": true, "collapse_key": true,
		"google.c.a": true, "gcm.n.e": true, "googlefoo": true, "conv": false, "body": false, "apsx": false,
	} {
		require.Equal(t, want, vendorpush.ReservedDataKey(key), "ReservedDataKey(%q)", key)
	}
}

func TestNotificationKinds(t *testing.T) {
	zero := 0
	tests := []struct {
		n          vendorpush.Notification
		background bool
		high       bool
	}{
		{vendorpush.Notification{}, true, false},
		{vendorpush.Notification{Title: "t"}, false, true},
		{vendorpush.Notification{Sound: "default"}, false, true},
		{vendorpush.Notification{Badge: &zero}, false, true},
		{vendorpush.Notification{Priority: vendorpush.PriorityHigh}, true, true},
		{vendorpush.Notification{Body: "b", Priority: vendorpush.PriorityNormal}, false, false},
	}
	for i, tt := range tests {
		require.Equal(t, tt.background, tt.n.Background(), "%d: Background", i)
		require.Equal(t, tt.high, tt.n.High(), "%d: High", i)
	}
}
