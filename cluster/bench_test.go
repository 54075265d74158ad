package cluster_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/pack"
)

// BenchmarkStoreAppend compares the store's blocking append, run by many
// goroutines, with the pipelined one, on an embedded JetStream server in
// the same process (as plexd's default). Users: 10,000, one append in
// flight per user at most (as the server keeps it).
//
//	go test ./cluster -run '^$' -bench StoreAppend -benchtime 60000x
func BenchmarkStoreAppend(b *testing.B) {
	const users = 10_000
	const window = 1024
	for _, mode := range []string{"blocking", "pipelined"} {
		b.Run(mode, func(b *testing.B) {
			s := natsServers(b, 1)[0]
			st := newStore(b, s, cluster.Config{Standalone: true})
			ctx := context.Background()
			m := pack.Message{URI: "/p", Body: make([]byte, 64)}
			_, _, err := st.AppendAfter(ctx, "warm", &m, time.Hour)
			require.NoError(b, err)
			sem := make(chan struct{}, window)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var firstErr error
			b.ResetTimer()
			for i := range b.N {
				sem <- struct{}{}
				wg.Add(1)
				uid := "u" + strconv.Itoa(i%users)
				finish := func(_, _ int64, err error) {
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
					<-sem
					wg.Done()
				}
				if mode == "blocking" {
					go func() {
						seq, prev, err := st.AppendAfter(ctx, uid, &m, time.Hour)
						finish(seq, prev, err)
					}()
				} else {
					st.AppendAsync(ctx, uid, &m, time.Hour, finish)
				}
			}
			wg.Wait()
			b.StopTimer()
			require.NoError(b, firstErr)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}
