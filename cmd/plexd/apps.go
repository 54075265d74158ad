package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/plexpush/plex/server"
)

// appConfig is one entry of the config file's "apps" list: a product served
// beside the default app (docs/apps.md). Keys mirror the flags.
type appConfig struct {
	ID           string  `json:"id"`
	Auth         string  `json:"auth"` // none, jwt, webhook
	JWTSecret    string  `json:"jwt-secret"`
	JWTPublicKey string  `json:"jwt-public-key"`
	JWTIssuer    string  `json:"jwt-issuer"`
	JWTAudience  string  `json:"jwt-audience"`
	Webhook      string  `json:"webhook"`
	InnerSecret  string  `json:"inner-secret"`
	PushSecret   string  `json:"push-secret"` // the same, by its former name
	Messages     bool    `json:"messages"`    // allow user-to-user /message within the app
	PushRate     float64 `json:"push-rate"`
	PushBurst    int     `json:"push-burst"`
	StoreRate    float64 `json:"store-rate"`  // bytes per second the app may store
	StoreBurst   int     `json:"store-burst"` // bytes at once
	AckTimeout   string  `json:"ack-timeout"` // e.g. "30s": persistent pushes not acked by then fire the vendor fallback
}

// loadApps reads the "apps" list of the JSON config file (other keys are
// the flags, read by parseOptions). No file or no list: no extra apps.
func loadApps(o *options, log *slog.Logger) ([]server.App, error) {
	if o.Config == "" {
		return nil, nil
	}
	b, err := os.ReadFile(o.Config)
	if err != nil {
		return nil, err
	}
	var file struct {
		Apps []appConfig `json:"apps"`
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("config %s: %w", o.Config, err)
	}
	if raw, ok := keys["apps"]; ok {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields() // a misspelt key must not silently drop a setting
		if err := dec.Decode(&file.Apps); err != nil {
			return nil, fmt.Errorf("config %s: apps: %w", o.Config, err)
		}
	}
	apps := make([]server.App, 0, len(file.Apps))
	for _, a := range file.Apps {
		ao := *o // the app's auth settings, with the node's address rules
		ao.Auth, ao.JWTSecret, ao.JWTPublicKey = a.Auth, a.JWTSecret, a.JWTPublicKey
		ao.JWTIssuer, ao.JWTAudience, ao.Webhook = a.JWTIssuer, a.JWTAudience, a.Webhook
		if ao.Auth == "" {
			ao.Auth = "jwt"
		}
		authn, err := authenticator(&ao, log)
		if err != nil {
			return nil, fmt.Errorf("config %s: app %q: %w", o.Config, a.ID, err)
		}
		switch {
		case a.PushSecret == "":
		case a.InnerSecret != "":
			return nil, fmt.Errorf("config %s: app %q: inner-secret and push-secret (its former name) both set", o.Config, a.ID)
		default:
			log.Warn("config: apps: push-secret is now inner-secret", "app", a.ID)
			a.InnerSecret = a.PushSecret
		}
		var ackTimeout time.Duration
		if a.AckTimeout != "" {
			if ackTimeout, err = time.ParseDuration(a.AckTimeout); err != nil || ackTimeout < 0 {
				return nil, fmt.Errorf("config %s: app %q: ack-timeout %q: a duration such as \"30s\", not negative", o.Config, a.ID, a.AckTimeout)
			}
		}
		app := server.App{ID: a.ID, Authenticator: authn, InnerSecret: a.InnerSecret,
			PushRate: a.PushRate, PushBurst: a.PushBurst, StoreRate: a.StoreRate, StoreBurst: a.StoreBurst,
			AckTimeout: ackTimeout}
		if a.Messages {
			app.MessagePolicy = func(from, to string) bool { return from != to }
		}
		apps = append(apps, app)
	}
	return apps, nil
}
