package cluster

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDevCursors: the slice behaves as the map it replaced, and is stored
// in the bucket in the same format (a JSON object with sorted keys).
func TestDevCursors(t *testing.T) {
	var d devCursors
	_, known := d.get("phone")
	require.False(t, known)
	require.EqualValues(t, -1, d.low())

	d1 := d.with("phone", 5, 0)
	d2 := d1.with("", 3, 0).with("tablet", 9, 0).with("phone", 7, 0)
	require.Equal(t, devCursors{{"phone", 5}}, d1, "with copies")
	for dev, want := range map[string]int64{"": 3, "phone": 7, "tablet": 9} {
		got, known := d2.get(dev)
		require.True(t, known, dev)
		require.Equal(t, want, got, dev)
	}
	require.EqualValues(t, 3, d2.low())

	b, err := json.Marshal(d2)
	require.NoError(t, err)
	m := map[string]int64{"": 3, "phone": 7, "tablet": 9}
	want, _ := json.Marshal(m)
	require.Equal(t, string(want), string(b))

	var back devCursors
	require.NoError(t, json.Unmarshal([]byte(`{"tablet":9,"":3,"phone":7}`), &back))
	require.Equal(t, d2, back)
	require.NoError(t, json.Unmarshal([]byte(`null`), &back))
	require.Empty(t, back)
	require.Error(t, json.Unmarshal([]byte(`{"x":"y"}`), &back))
}

// TestDevCursorsBounded: a new device beyond the bound evicts the device
// furthest behind; a known device's update never evicts.
func TestDevCursorsBounded(t *testing.T) {
	d := devCursors{}.with("a", 5, 3).with("b", 2, 3).with("c", 9, 3)
	d = d.with("c", 10, 3)
	require.Len(t, d, 3, "an update of a known device")
	d2 := d.with("d", 0, 3)
	require.Equal(t, devCursors{{"a", 5}, {"c", 10}, {"d", 0}}, d2, "b, the lowest, evicted")
	require.Len(t, d, 3, "with copies")
}
