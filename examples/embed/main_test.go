package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestEmbedOutput(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var out bytes.Buffer
	require.NoError(t, run(&out))
	require.Equal(t, `online: alice
push: delivered=1
app got /chat "hello from the node"
send: delivered=1 stored=1 seq=1
app got /chat "hello from a service" seq=1
node got /hello from alice: hi node
offline: alice
send: delivered=0 offline=1
bad token refused: true true
node stopped
`, out.String())
}
