package main

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"

	"github.com/plexpush/plex/server"
	"github.com/plexpush/plex/vendorpush/webpush"
)

// webPushKeyPath is the route that gives browsers the VAPID public key,
// the applicationServerKey of PushManager.subscribe (docs/web.md). It is
// public: the key is in every subscription anyway.
const webPushKeyPath = "/plex/v1/webpush/key"

// webPushKeyFile is the generated VAPID key's name in the data directory.
const webPushKeyFile = "webpush-vapid.pem"

// webPushOptions enable Web Push for browsers whose tab is closed
// (docs/vendor-push.md §10).
type webPushOptions struct {
	WebPushSubject      string // mailto: or https: contact; enables Web Push
	WebPushVAPIDKey     string // PEM or base64url key file; "" = generated in the data directory
	WebPushCA           string // extra PEM roots for push-service endpoints
	WebPushAllowPrivate bool   // endpoints on private addresses allowed

	webPushPublic string // the VAPID public key once started, for the banner
	webPushWhere  string // where that key lives, for the banner
}

func (w *webPushOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&w.WebPushSubject, "webpush-subject", "", "mailto: or https: contact for push services (the VAPID sub); enables Web Push for browsers (docs/vendor-push.md)")
	fs.StringVar(&w.WebPushVAPIDKey, "webpush-vapid-key", "", "VAPID private key file (PEM, or base64url as other Web Push tools print it) (default: generated once as "+webPushKeyFile+" in the data directory)")
	fs.StringVar(&w.WebPushCA, "webpush-ca", "", "PEM CA certificates trusted for push-service endpoints besides the system's (a self-hosted push service)")
	fs.BoolVar(&w.WebPushAllowPrivate, "webpush-allow-private", false, "allow subscription endpoints on loopback and private addresses (a self-hosted push service; otherwise refused, since endpoints come from users)")
}

// startWebPush returns the Web Push sender, or nil without
// -webpush-subject, and mounts GET /plex/v1/webpush/key.
func startWebPush(o *options, cfg *server.Config, cl *clusterNode, log *slog.Logger) (*webpush.Client, error) {
	w := &o.webPushOptions
	if w.WebPushSubject == "" {
		if w.WebPushVAPIDKey != "" || w.WebPushCA != "" || w.WebPushAllowPrivate {
			return nil, errors.New("-webpush-vapid-key, -webpush-ca and -webpush-allow-private need -webpush-subject, which enables Web Push")
		}
		return nil, nil
	}
	key, where, err := w.loadKey(o, cl, log)
	if err != nil {
		return nil, err
	}
	var tlsConf *tls.Config
	if w.WebPushCA != "" {
		pem, err := os.ReadFile(w.WebPushCA)
		if err != nil {
			return nil, fmt.Errorf("-webpush-ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-webpush-ca %s: no PEM certificate", w.WebPushCA)
		}
		tlsConf = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	c, err := webpush.New(webpush.Config{Key: key, Subject: w.WebPushSubject, Logger: log,
		HTTPClient: webpush.NewHTTPClient(tlsConf, w.WebPushAllowPrivate)})
	if err != nil {
		return nil, fmt.Errorf("-webpush-subject: %w", err)
	}
	w.webPushPublic, w.webPushWhere = c.PublicKey(), where
	cfg.HTTPRoutes = maps.Clone(cfg.HTTPRoutes)
	if cfg.HTTPRoutes == nil {
		cfg.HTTPRoutes = map[string]http.Handler{}
	}
	cfg.HTTPRoutes["GET "+webPushKeyPath] = webPushKeyHandler(c.PublicKey())
	return c, nil
}

// loadKey reads -webpush-vapid-key, or the key in the data directory,
// generating it there (0600) on the first start: browsers subscribe with
// the public key, so it must be the same on every start, and on every
// node of a cluster (copy the file, or give each node -webpush-vapid-key).
func (w *webPushOptions) loadKey(o *options, cl *clusterNode, log *slog.Logger) (*ecdsa.PrivateKey, string, error) {
	if w.WebPushVAPIDKey != "" {
		b, err := os.ReadFile(w.WebPushVAPIDKey)
		if err != nil {
			return nil, "", fmt.Errorf("-webpush-vapid-key: %w", err)
		}
		k, err := webpush.ParseKey(b)
		if err != nil {
			return nil, "", fmt.Errorf("-webpush-vapid-key %s: %w", w.WebPushVAPIDKey, err)
		}
		return k, w.WebPushVAPIDKey, nil
	}
	var dir string
	switch {
	case cl != nil && cl.dir != "":
		dir = cl.dir
	case cl != nil && cl.tempDir != "":
		dir = cl.tempDir // this run only: -addr has a random port
	case o.DataDir != "":
		if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
			return nil, "", err
		}
		dir = o.DataDir
	default:
		return nil, "", errors.New("-webpush-subject: no data directory to keep the VAPID key in (-store memory or -nats without -data-dir): set -data-dir, or -webpush-vapid-key FILE")
	}
	path := filepath.Join(dir, webPushKeyFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("the VAPID key file is readable by others; chmod 600 it", "file", path, "mode", fi.Mode().Perm().String())
		}
		k, err := webpush.ParseKey(b)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", path, err)
		}
		return k, path, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, "", err
	}
	k, err := webpush.GenerateKey()
	if err != nil {
		return nil, "", err
	}
	pem, err := webpush.MarshalKey(k)
	if err != nil {
		return nil, "", err
	}
	if err := writeNewFile(path, pem); err != nil {
		return nil, "", fmt.Errorf("keep the VAPID key: %w", err)
	}
	log.Info("generated a VAPID key for Web Push", "file", path)
	return k, path + " (generated)", nil
}

// writeNewFile writes b to a new file readable by its owner only; an
// existing file is an error (another start got there first).
func writeNewFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// webPushKeyHandler answers GET /plex/v1/webpush/key with
// {"public_key":"<base64url uncompressed P-256 point>"}, to any origin
// (pages on another origin subscribe too, as they discover nodes).
func webPushKeyHandler(public string) http.Handler {
	body, _ := json.Marshal(map[string]string{"public_key": public})
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	})
}
