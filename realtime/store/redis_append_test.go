package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/store/redistest"
)

// BenchmarkRedisAppend measures the store layer's ingest into one
// redis-server, started by the harness or, for bench/ingest.sh, the one at
// PATROLGRID_BENCH_REDIS (host:port): 88 units, each fix newer than the
// last (the full script path: stream, hash, GEO set, event). Batches of 1
// go through Append (concurrent callers are grouped), larger ones through
// AppendBatch (one pipeline); callers run at once, each on its own
// connection when needed. server-µs/fix is the script time Redis reports.
func BenchmarkRedisAppend(b *testing.B) {
	var c redis.UniversalClient
	if addr := os.Getenv("PATROLGRID_BENCH_REDIS"); addr != "" {
		var err error
		if c, err = NewRedisClient("redis://" + addr); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
	} else {
		c = redistest.Start(b).Client(NewRedisClient)
	}
	ctx := context.Background()
	for _, bc := range []struct {
		batch, parallel int
	}{{1, 1}, {1, 16}, {100, 1}, {1000, 1}, {1000, 4}} {
		b.Run(fmt.Sprintf("batch=%d/callers=%d", bc.batch, bc.parallel), func(b *testing.B) {
			s, err := NewRedis(c, RedisConfig{City: fmt.Sprintf("bench.%d.%d.%d", bc.batch, bc.parallel, time.Now().UnixNano())})
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now().UTC()
			usec0 := evalUsec(b, c)
			b.ReportAllocs()
			var wg sync.WaitGroup
			var mu sync.Mutex
			var firstErr error
			per := b.N/bc.parallel + 1
			b.ResetTimer()
			for p := range bc.parallel {
				units := make([]string, 88)
				for i := range units {
					units[i] = fmt.Sprintf("V%02d.%d", i, p)
				}
				wg.Go(func() {
					fixes := make([]fix.Fix, bc.batch)
					for i := 0; i < per; i++ {
						for j := range fixes {
							n := (i*bc.batch + j) * bc.parallel
							fixes[j] = fixAt(units[n%88], t0, time.Duration(n)*time.Microsecond)
						}
						var err error
						if bc.batch == 1 {
							_, err = s.Append(ctx, fixes[0])
						} else {
							_, err = s.AppendBatch(ctx, fixes)
						}
						if err != nil {
							mu.Lock()
							firstErr = err
							mu.Unlock()
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			if firstErr != nil {
				b.Fatal(firstErr)
			}
			n := float64(per * bc.parallel * bc.batch)
			b.ReportMetric(n/b.Elapsed().Seconds(), "fixes/s")
			b.ReportMetric((evalUsec(b, c)-usec0)/n, "server-µs/fix")
			_ = c.Del(ctx, s.keys.fixes).Err()
		})
	}
}

// evalUsec returns the server time spent in scripts so far, in µs
// (INFO commandstats).
func evalUsec(b *testing.B, c redis.UniversalClient) float64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		if !strings.HasPrefix(line, "cmdstat_eval") {
			continue
		}
		for _, kv := range strings.Split(strings.TrimSpace(line), ",") {
			if v, ok := strings.CutPrefix(kv, "usec="); ok {
				u, _ := strconv.ParseFloat(v, 64)
				total += u
			}
		}
	}
	return total
}

// BenchmarkRedisAppendCall measures building one script call, without
// Redis: a group as single-fix ingest makes them (25 fixes of 23 units)
// and a batch of defaultAppendBatchMax fixes of 88 units.
func BenchmarkRedisAppendCall(b *testing.B) {
	s, err := NewRedis(nil, RedisConfig{City: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	t0 := baseTime()
	for _, bc := range []struct{ fixes, units int }{{25, 23}, {defaultAppendBatchMax, 88}} {
		b.Run(fmt.Sprintf("fixes=%d/units=%d", bc.fixes, bc.units), func(b *testing.B) {
			fixes := make([]fix.Fix, bc.fixes)
			for i := range fixes {
				fixes[i] = fixAt(fmt.Sprintf("V%02d", i%bc.units), t0, time.Duration(i)*time.Millisecond)
				fixes[i].AccuracyM, fixes[i].Source = 5, fix.SourceOsmAnd
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.appendCall(fixes); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*bc.fixes), "ns/fix")
		})
	}
}

func TestAppendRedisTime(t *testing.T) {
	times := []time.Time{
		time.Unix(0, 0), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 2, 3, 4, 5, 6, 7, time.FixedZone("", 8*3600)),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		times = append(times, time.Unix(r.Int64N(253402300800), r.Int64N(1e9)))
	}
	for _, at := range times {
		if got, want := string(appendRedisTime(nil, at)), at.UTC().Format(redisTimeLayout); got != want {
			t.Errorf("appendRedisTime(%v) = %s, want %s", at, got, want)
		}
	}
}
