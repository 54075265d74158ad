package main

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWSOriginsFlag(t *testing.T) {
	env := func(string) string { return "" }
	o, err := parseOptions([]string{"-ws-origins", "https://app.example.com, *.example.org,,"}, env)
	require.NoError(t, err)
	cfg, err := serverConfig(o, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.Equal(t, []string{"https://app.example.com", "*.example.org"}, cfg.WebSocketOrigins)

	o, err = parseOptions(nil, func(k string) string {
		if k == "PLEX_WS_ORIGINS" {
			return "localhost:*"
		}
		return ""
	})
	require.NoError(t, err)
	cfg, err = serverConfig(o, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.Equal(t, []string{"localhost:*"}, cfg.WebSocketOrigins)
}
