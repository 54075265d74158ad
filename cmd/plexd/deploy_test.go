package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDeployFilesNameRealSettings: every PLEX_* variable that deploy/'s
// Dockerfile, compose file and systemd unit set is a plexd flag that the
// environment can set, and the values they give parse. plexd ignores an
// unknown variable, so a misspelt one would silently run a default.
// (scripts/deploy-check.sh checks what needs docker or systemd.)
func TestDeployFilesNameRealSettings(t *testing.T) {
	setting := regexp.MustCompile(`\b(PLEX_[A-Z0-9_]+)(?:[:=] *"?([^"\s]*))?`)
	flags := newFlagSet(&options{})
	for _, file := range []string{"../../deploy/Dockerfile", "../../deploy/compose.yaml", "../../deploy/plexd.service"} {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		env := map[string]string{}
		for _, m := range setting.FindAllStringSubmatch(string(b), -1) {
			name := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(m[1], "PLEX_"), "_", "-"))
			require.NotNil(t, flags.Lookup(name), "%s: %s names no flag (-%s)", file, m[1], name)
			require.False(t, actionFlag(name), "%s: %s is a command-line action", file, m[1])
			// a value in prose ends before its punctuation; placeholders are skipped
			if v := strings.TrimRight(m[2], ":.,;)"); v != "" && !strings.HasPrefix(v, "$") && !strings.Contains(v, "…") {
				env[m[1]] = v
			}
		}
		require.NotEmpty(t, env, "%s: no PLEX_ settings found", file)
		_, err = parseOptions(nil, func(k string) string { return env[k] })
		require.NoError(t, err, "%s: its settings %v", file, env)
	}
}

// TestDeployPortsAreTheDefaults: the Dockerfile exposes the ports of
// plexd's defaults for -addr (server.DefaultAddr) and -http.
func TestDeployPortsAreTheDefaults(t *testing.T) {
	b, err := os.ReadFile("../../deploy/Dockerfile")
	require.NoError(t, err)
	flags := newFlagSet(&options{})
	expose := regexp.MustCompile(`(?m)^EXPOSE (.*)$`).FindStringSubmatch(string(b))
	require.NotNil(t, expose, "no EXPOSE line")
	for _, name := range []string{"addr", "http"} {
		def := flags.Lookup(name).DefValue
		port := def[strings.LastIndex(def, ":")+1:]
		require.Contains(t, strings.Fields(expose[1]), port, "-%s's default %s: its port is not exposed", name, def)
		require.Contains(t, string(b), "PLEX_"+strings.ToUpper(name)+"=0.0.0.0:"+port, "-%s on every interface, same port", name)
	}
}
