package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/store/redistest"
)

// The fault tests of serve --redis (issue 16): under a stream of OsmAnd
// fixes, redis-server is killed with SIGKILL, a Cluster master hands over
// to its replica, the server itself is killed with SIGKILL; afterwards no
// fix answered 2xx may be missing from Redis.
//
// Durability when redis-server is killed. A fix is answered 2xx once
// redis-server has replied to the script call that stores it. With
// appendonly yes and appendfsync everysec, redis-server writes its
// append-only file buffer to the file before it sends the replies of each
// event-loop turn, so a SIGKILL alone usually loses nothing (the kernel
// holds the data); but while the background fsync of the second before is
// still running (a busy or slow disk) it postpones that write, for up to
// 2 s, and goes on replying: a SIGKILL (an OOM kill, a killed container)
// then loses fixes already answered 2xx, and a crash of the machine loses
// the last second or two whatever the disk. The store cannot wait for the
// fsync itself: WAITAOF, which go-redis v9 has, needs Redis 7.2, and the
// server supports Redis 6.2 and later (7.0 here). A deployment that must
// not lose an answered fix when redis-server or its machine dies runs
// redis-server with appendonly yes and appendfsync always, which writes
// and fsyncs the file before it sends the replies of each turn: one fsync
// for all the commands of the turn, as the store's group commit already
// puts concurrent fixes in one script call. It costs single-fix ingest
// under moderate concurrency (figures in the README, Durability).
// TestFaultRedisKilled runs redis-server so; with everysec it passed too
// on an idle disk, which proves nothing of a busy one.

// faultCity is the city of the Monaco plan (writeMonacoPlan), which names
// its Redis keys.
const faultCity = "Monaco"

// faultLoad is the OsmAnd load of a fault test: 4 goroutines, each
// sending the fixes of 3 of the 12 Monaco units in turn, one every 13 ms
// (about 300 fixes a second), as TestRedisOutage does.
type faultLoad struct {
	rec    *outageRecord
	since  time.Time // before the first fix
	client *http.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startFaultLoad starts the load against base; stop ends it.
func startFaultLoad(base string) *faultLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &faultLoad{rec: &outageRecord{ok: map[string][]int64{}}, since: time.Now().Add(-time.Minute),
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}, cancel: cancel}
	sim := monacoSimUnits()
	for g := range 4 {
		l.wg.Go(func() { l.rec.stream(ctx, l.client, base, sim[g*3:g*3+3], 13*time.Millisecond) })
	}
	return l
}

// stop ends the load and waits for the requests in flight; it may be
// called again.
func (l *faultLoad) stop() {
	l.cancel()
	l.wg.Wait()
	l.client.CloseIdleConnections()
}

// answered returns how many fixes were answered 2xx, and of those how
// many were sent before and after t.
func (l *faultLoad) answered(t time.Time) (total, before, after int) {
	l.rec.mu.Lock()
	defer l.rec.mu.Unlock()
	ms := t.UnixMilli()
	for _, times := range l.rec.ok {
		total += len(times)
		for _, m := range times {
			if m < ms {
				before++
			} else {
				after++
			}
		}
	}
	return total, before, after
}

// checkAnswers fails the test for answers other than 2xx and 503, and for
// 503 answers without Retry-After: 1 and the code store_unavailable.
func (l *faultLoad) checkAnswers(t *testing.T) {
	t.Helper()
	l.rec.mu.Lock()
	defer l.rec.mu.Unlock()
	if len(l.rec.other) > 0 {
		t.Errorf("answers other than 2xx or 503: %v", l.rec.other)
	}
	if l.rec.noRetry > 0 {
		t.Errorf("%d of %d 503 answers lack Retry-After: 1 or the error code store_unavailable", l.rec.noRetry, l.rec.n503)
	}
}

// logFigures logs what the load saw and how many of its 2xx fixes are
// missing from Redis.
func (l *faultLoad) logFigures(t *testing.T, what string, missing int) {
	t.Helper()
	total, _, _ := l.answered(time.Time{})
	l.rec.mu.Lock()
	defer l.rec.mu.Unlock()
	t.Logf("%s: %d fixes answered 2xx, %d of them missing from Redis afterwards, %d answered 503, %d failed on the network",
		what, total, missing, l.rec.n503, l.rec.netFailures)
}

// waitLatest polls base until every unit with a fix answered 2xx is at
// its latest such fix, or at a later one whose answer was lost (503 or
// none: it may have been stored), for 5 s at most. It returns how many
// units are at such a later fix.
func waitLatest(t *testing.T, base string, rec *outageRecord) int {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		problems, later := latestProblems(unitsOf(t, base), rec)
		if len(problems) == 0 {
			return later
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s, 5 s after the last fix: %s", base, strings.Join(problems, "; "))
		}
	}
}

// latestProblems says which of units is not where the fixes of rec leave
// it (see waitLatest), and how many are at a fix whose answer was lost.
func latestProblems(units []unitState, rec *outageRecord) (problems []string, later int) {
	sim := monacoSimUnits()
	for _, u := range units {
		times := rec.ok[u.ID]
		if len(times) == 0 {
			continue
		}
		latest := slices.Max(times)
		got := mustTime(u.Time).UnixMilli()
		if u.Time == "" || got < latest || got > latest && !slices.Contains(rec.unsure[u.ID], got) {
			problems = append(problems, fmt.Sprintf("unit %s is at its fix of %q, want %v (its latest answered 2xx)",
				u.ID, u.Time, time.UnixMilli(latest).UTC()))
			continue
		}
		if got > latest {
			later++
		}
		i, _ := strconv.Atoi(strings.TrimPrefix(u.ID, "M"))
		p, _ := sim[i-1].At(got)
		lat, _ := strconv.ParseFloat(strconv.FormatFloat(p.Lat(), 'f', 7, 64), 64) // as OsmAndURL sends it
		lon, _ := strconv.ParseFloat(strconv.FormatFloat(p.Lon(), 'f', 7, 64), 64)
		if u.Lat != lat || u.Lon != lon {
			problems = append(problems, fmt.Sprintf("unit %s is at (%v, %v), want (%v, %v) of its fix of %s",
				u.ID, u.Lat, u.Lon, lat, lon, u.Time))
		}
	}
	return problems, later
}

// TestFaultRedisKilled streams OsmAnd fixes into serve --redis, kills
// redis-server with SIGKILL in the middle of the stream and starts it
// again on the same port a second later: the server answers 503 with
// Retry-After while it is away, takes fixes again once it is back, and no
// fix answered 2xx, before the kill or after, is missing from Redis. Redis
// runs with appendfsync always, which that takes (see the note at the top
// of this file).
func TestFaultRedisKilled(t *testing.T) {
	rs := redistest.Start(t, redistest.Args("--appendfsync", "always"))
	base := startRedisServe(t, writeMonacoPlan(t, t.TempDir()), rs.URL(), "")
	load := startFaultLoad(base)
	defer load.stop()

	time.Sleep(time.Second)
	killed := time.Now()
	rs.Kill()
	down := waitReadyz(t, base, http.StatusServiceUnavailable, "store_unavailable", 3*time.Second)
	time.Sleep(time.Second - time.Since(killed))
	rs.Restart()
	restarted := time.Now()
	back := waitReadyz(t, base, http.StatusOK, "", 10*time.Second)
	time.Sleep(time.Second)
	load.stop()

	missing := checkAllInRedis(t, rs.URL(), faultCity, load.since, load.rec.ok)
	_, before, _ := load.answered(killed)
	_, _, after := load.answered(restarted)
	t.Logf("redis-server killed: /readyz 503 %v after SIGKILL, 200 again %v after restart; "+
		"%d fixes answered 2xx were sent before the kill, %d after the restart",
		down.Round(time.Millisecond), back.Round(time.Millisecond), before, after)
	load.logFigures(t, "redis-server killed -9", missing)
	load.checkAnswers(t)
	if load.rec.n503 == 0 {
		t.Error("no fix was answered 503 while redis-server was down")
	}
	if before == 0 || after == 0 {
		t.Errorf("%d fixes answered 2xx before the kill and %d after the restart, want some of each", before, after)
	}
	waitLatest(t, base, load.rec)
}

// TestFaultClusterFailover streams OsmAnd fixes into serve --redis on a
// Redis Cluster of 3 masters with a replica each, and in the middle of the
// stream has the replica of the master that holds the city's hash slot
// take over with CLUSTER FAILOVER (a coordinated manual failover: the
// master holds writes until the replica has caught up). The server follows
// the slot to its new master and keeps answering 2xx, no fix answered 2xx
// is missing from Redis afterwards, and the units the server shows are at
// their latest fixes.
func TestFaultClusterFailover(t *testing.T) {
	rc := redistest.StartClusterReplicas(t, 3, 1)
	key := "pg:{" + faultCity + "}:fixes"
	master := rc.MasterOf(key)
	replica := rc.Replicas(master)[0]
	base := startRedisServe(t, writeMonacoPlan(t, t.TempDir()), rc.URL(), "")
	load := startFaultLoad(base)
	defer load.stop()

	time.Sleep(time.Second)
	failover := time.Now()
	took := rc.Failover(replica)
	promoted := time.Now()
	if now := rc.MasterOf(key); now != replica {
		t.Fatalf("after CLUSTER FAILOVER on %s the city's slot is served by %s", replica.Addr(), now.Addr())
	}
	time.Sleep(1500 * time.Millisecond)
	load.stop()

	missing := checkAllInRedis(t, rc.URL(), faultCity, load.since, load.rec.ok)
	_, before, _ := load.answered(failover)
	_, _, after := load.answered(promoted)
	t.Logf("cluster failover: %s took over from %s in %v (every node agreeing); "+
		"%d fixes answered 2xx were sent before CLUSTER FAILOVER, %d after the promotion",
		replica.Addr(), master.Addr(), took.Round(time.Millisecond), before, after)
	load.logFigures(t, "cluster failover", missing)
	load.checkAnswers(t)
	if after == 0 {
		t.Error("no fix answered 2xx after the replica took over")
	}
	if late := load.unsureAfter(promoted.Add(time.Second)); late > 0 {
		t.Errorf("%d fixes sent more than 1 s after the promotion were answered 503 or not at all", late)
	}
	waitLatest(t, base, load.rec)
}

// unsureAfter returns how many fixes sent after t were answered 503 or not
// at all.
func (l *faultLoad) unsureAfter(t time.Time) int {
	l.rec.mu.Lock()
	defer l.rec.mu.Unlock()
	n := 0
	for _, times := range l.rec.unsure {
		for _, ms := range times {
			if ms > t.UnixMilli() {
				n++
			}
		}
	}
	return n
}

// TestFaultServerKilled streams OsmAnd fixes into the built binary
// serving with --redis and kills it with SIGKILL in the middle of the
// stream; a second instance started on the same Redis then finds every
// fix the first answered 2xx in Redis, and shows each unit at its latest
// fix answered 2xx (or at a later one whose answer the kill cut off,
// which may have been stored).
func TestFaultServerKilled(t *testing.T) {
	redistest.Require(t)
	bin := filepath.Join(t.TempDir(), "patrolgrid")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rs := redistest.Start(t)
	args := []string{"--plan", writeMonacoPlan(t, t.TempDir()), "--redis", rs.URL(),
		"--viewer-token", viewerToken, "--device-token", deviceToken}
	first := startBinary(t, bin, args...)
	load := startFaultLoad(first.base)
	defer load.stop()

	time.Sleep(1500 * time.Millisecond)
	first.kill(t)
	time.Sleep(200 * time.Millisecond) // the load finds the server gone
	load.stop()

	second := startBinary(t, bin, args...)
	missing := checkAllInRedis(t, rs.URL(), faultCity, load.since, load.rec.ok)
	later := waitLatest(t, second.base, load.rec)
	load.logFigures(t, "server killed -9", missing)
	t.Logf("second instance: every unit at its latest fix answered 2xx, %d of them at a later fix whose answer the kill cut off", later)
	load.checkAnswers(t)
	if load.rec.netFailures == 0 {
		t.Error("no request failed on the network after the server was killed")
	}
}
