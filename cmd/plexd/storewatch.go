package main

import (
	"errors"
	"log/slog"
	"syscall"
	"time"

	"github.com/plexpush/plex/cluster"
)

// storeWatch recovers the embedded JetStream from a full disk without a
// restart of plexd. A stream that failed a write keeps the error in
// nats-server until JetStream restarts, so once the node's probe finds
// that nothing is stored (cluster.ErrNotStoring) and the data directory
// has room again, the watch restarts JetStream on the same files. It
// logs the condition once and the recovery.
type storeWatch struct {
	cn   *clusterNode
	dir  string // the embedded server's files
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}
}

const (
	storeWatchEvery   = 2 * time.Second
	storeRestartEvery = 30 * time.Second // at most one JetStream restart per
	storeRoomNeeded   = 4 << 20          // free bytes that count as "room again"
)

func startStoreWatch(cn *clusterNode, dir string, log *slog.Logger) *storeWatch {
	w := &storeWatch{cn: cn, dir: dir, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *storeWatch) run() {
	defer close(w.done)
	t := time.NewTicker(storeWatchEvery)
	defer t.Stop()
	var stuck, restarted time.Time
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		err := w.cn.c.Bus().StoreHealth()
		if !errors.Is(err, cluster.ErrNotStoring) {
			if !stuck.IsZero() && err == nil {
				w.log.Info("JetStream stores pushes again", "after", time.Since(stuck).Round(time.Second))
			}
			stuck = time.Time{}
			continue
		}
		if stuck.IsZero() {
			stuck = time.Now()
			w.log.Error("JetStream stores nothing: persistent pushes fail (3005/3008) until it does; "+
				"free space in the data directory and plexd recovers by itself", "dir", w.dir, "err", err)
		}
		free, ferr := freeBytes(w.dir)
		if ferr != nil || free < storeRoomNeeded || time.Since(restarted) < storeRestartEvery {
			continue
		}
		restarted = time.Now()
		w.log.Warn("restarting JetStream on the same files: the disk has room again", "free_bytes", free)
		if err := w.cn.ns.RestartJetStream(); err != nil {
			w.log.Error("JetStream restart failed", "err", err)
		}
	}
}

func (w *storeWatch) close() {
	close(w.stop)
	<-w.done
}

// freeBytes returns the bytes available to an unprivileged writer on dir's
// file system.
func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
