package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// hostPath is the original plex discovery endpoint: GET → {"host":"ip:port"}.
const hostPath = "/plex/v1/host"

// newHTTPClient returns the client used for discovery. Keep-alives are off:
// discovery runs once per connection attempt, and an idle pooled connection
// would outlive Close.
func newHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, DisableKeepAlives: true},
	}
}

// discoveryURL completes a base URL ("http://host:port") with hostPath.
func discoveryURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("client: discovery url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("client: discovery url %q: scheme must be http or https", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = hostPath
	}
	return u.String(), nil
}

// discover asks a node's HTTP API which node to dial.
func discover(ctx context.Context, hc *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("client: discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("client: discovery: %s answered %s", u, resp.Status)
	}
	var v struct {
		Host string `json:"host"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&v); err != nil {
		return "", fmt.Errorf("client: discovery: %w", err)
	}
	if v.Host == "" {
		return "", fmt.Errorf("client: discovery: %s named no host", u)
	}
	return v.Host, nil
}
