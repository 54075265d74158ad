package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plexpush/plex/server"
)

// printBanner tells whoever started plexd what runs where and what to type
// next: an app to connect, the console, a push; and where stored pushes
// live and how many wait, since a data directory outlives the process.
func printBanner(ctx context.Context, w io.Writer, o *options, cfg *server.Config, cl *clusterNode, ready map[string]string) {
	addr := ready["addr"]
	fmt.Fprintf(w, "plexd %s listening\n  apps connect to   %s (auth %s, %s-endian frames)\n", cfg.NodeID, addr, o.Auth, o.Order)
	fmt.Fprintf(w, "  version           %s\n", readVersion())
	if line := appCommand(o, cfg, addr); line != "" {
		fmt.Fprintf(w, "  connect an app    %s\n", line)
	}
	fmt.Fprintf(w, "  cluster and store %s\n", cl.where)
	if line := cl.storedLine(ctx); line != "" {
		fmt.Fprintf(w, "  stored pushes     %s\n", line)
	}
	if k := o.webPushPublic; k != "" {
		fmt.Fprintf(w, "  web push key      %s (%s)\n", k, o.webPushWhere)
	}
	h := ready["http"]
	if h == "" {
		return
	}
	shown := "<your -inner-secret>"
	if o.InnerSecret == "" {
		shown = cfg.InnerSecret // generated for this run only: the operator needs it to push
	}
	fmt.Fprintf(w, "  console           http://%s/console (inner secret %s)\n", h, shown)
	fmt.Fprintf(w, "  discovery         curl http://%s/plex/v1/host\n", h)
	fmt.Fprintf(w, "  push              curl -H 'Authorization: Bearer %s' -d '{\"uid\":\"alice\",\"uri\":\"/hello\",\"body\":\"hi\"}' http://%s/plex/v1/push\n",
		shown, h)
}

// appCommand is one line that connects an app (examples/app) to addr, or
// "" when that example cannot speak to this node (TLS, little-endian
// frames, protobuf pinned: it dials plain TCP with JSON, big-endian).
func appCommand(o *options, cfg *server.Config, addr string) string {
	if cfg.TLS != nil || o.Order != "big" || (o.Codec != "auto" && o.Codec != "json") {
		return ""
	}
	token := "alice"
	if o.Auth != "none" {
		token = "<a token -auth " + o.Auth + " accepts>"
	}
	prog := modulePath + "/examples/app@latest"
	if wd, err := os.Getwd(); err == nil {
		if root := checkoutRoot(wd); root != "" {
			if rel, err := filepath.Rel(wd, filepath.Join(root, "examples", "app")); err == nil {
				prog = filepath.ToSlash(rel)
				if !strings.HasPrefix(prog, "../") {
					prog = "./" + prog
				}
			}
		}
	}
	return fmt.Sprintf("go run %s -addr %s -token %s", prog, addr, token)
}

// storedLine says how many stored pushes the store holds, and how to start
// clean when some do. "" without a NATS store (-store memory starts empty)
// or when the store cannot answer now (plexd logs why).
func (cn *clusterNode) storedLine(ctx context.Context) string {
	if cn.c == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	pushes, users, err := cn.c.StoredPushes(ctx)
	switch {
	case err != nil:
		return ""
	case pushes == 0:
		return "none wait"
	}
	line := fmt.Sprintf("%d wait for %d %s (delivered at their next login; kept until acked or expired)",
		pushes, users, plural(users, "user", "users"))
	if cn.dir != "" {
		line += "; to start clean, stop plexd and remove " + cn.dir
	}
	return line
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
