package pack

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// messageRoomCases are a group message on the wire (docs/protocol.md
// §8.1), in the order the frames travel: the sender's request, a member's
// copy (written before the sender is answered), the sender's reply. They
// are golden vectors (message-room, -delivery, -reply) and the protocol's
// example.
func messageRoomCases() []Message {
	return []Message{
		{Seq: 3, URI: URIMessage, Body: []byte(`{"room":"team-7","body":"lunch?","conversation":"c-42"}`)},
		{Seq: 12, URI: URIMessage, Body: []byte("lunch?"), Meta: meta(MetaFrom, "alice", MetaRoom, "team-7",
			MetaConversation, "c-42", MetaID, "n1-k3x9-1f", MetaTime, "1700000000000", MetaPersist, "1")},
		{Seq: 3, URI: URIReply, Body: []byte(`{"id":"n1-k3x9-1f","seq":5,"stored":3,"delivered":4}`)},
	}
}

// TestProtocolRoomMessageExample: the example of docs/protocol.md §8.1 is
// the JSON encoding of the golden vectors, byte for byte, so the spec and
// the vectors every SDK checks cannot drift apart.
func TestProtocolRoomMessageExample(t *testing.T) {
	b, err := os.ReadFile("../docs/protocol.md")
	require.NoError(t, err)
	doc := string(b)
	start := strings.Index(doc, "\n### 8.1 ")
	require.Positive(t, start, "docs/protocol.md has §8.1")
	doc = doc[start:]
	open := strings.Index(doc, "\n```\n")
	require.Positive(t, open, "§8.1 has an example block")
	block, _, ok := strings.Cut(doc[open+5:], "\n```\n")
	require.True(t, ok, "§8.1's example block is closed")
	var got []string
	for _, line := range strings.Split(block, "\n") {
		if _, frame, ok := strings.Cut(line, ": {"); ok {
			got = append(got, "{"+frame)
		}
	}
	var want []string
	for _, m := range messageRoomCases() {
		enc, err := JSON.Append(nil, &m)
		require.NoError(t, err)
		want = append(want, string(enc))
	}
	require.Equal(t, want, got, "docs/protocol.md §8.1's frames (after \"who → whom: \")")
}
