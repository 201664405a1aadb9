package ovsdb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

// TestRaftLeaderFailover kills the leader in the middle of a stream of writes. Each write
// inserts a uniquely named row guarded by a wait ("only if no such row exists"), and is
// retried until it commits or its guard proves an earlier attempt committed: so after
// the failover every row exists exactly once, none lost, none applied twice.
func TestRaftLeaderFailover(t *testing.T) {
	cl := ovsdbtest.StartCluster(t, testSchemaPath, 3)
	leader := cl.Leader()
	c := connect(t, cl.Endpoints(), WithReconnect(20*time.Millisecond, 300*time.Millisecond))
	if c.Endpoint() != cl.Members[leader].Endpoint() {
		t.Fatalf("connected to %s, leader is %s", c.Endpoint(), cl.Members[leader].Endpoint())
	}
	ctx := testCtx(t, 90*time.Second)
	mon, err := c.Monitor(ctx, TableMonitor{Table: "Other"})
	if err != nil {
		t.Fatal(err)
	}

	// Four writers stream guarded inserts; the leader is killed while they run, so some
	// transactions are in flight when their connection dies (outcome unknown).
	const total, killAt, writers = 400, 100, 4
	names := make(chan string, total)
	for i := range total {
		names <- fmt.Sprintf("w%03d", i)
	}
	close(names)
	var done, retried, provenByGuard atomic.Int64
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range names {
				if err := guardedInsert(ctx, c, name, &retried, &provenByGuard); err != nil {
					errs <- err
					return
				}
				done.Add(1)
			}
		}()
	}
	eventually(t, 30*time.Second, "the first writes", func() bool { return done.Load() >= killAt })
	cl.Kill(leader)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	newLeader := cl.Leader()
	if newLeader == leader || c.Endpoint() != cl.Members[newLeader].Endpoint() {
		t.Fatalf("client on %s; old leader %d, new leader %d", c.Endpoint(), leader, newLeader)
	}
	t.Logf("failover: %d retried attempts, %d writes proven committed by their guard", retried.Load(), provenByGuard.Load())

	res := mustTransact(t, c, Select("Other", "name").WhereAll())
	var rows []*Other
	if err := c.Model().Decode(res[0].Rows, &rows); err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(rows))
	for i, r := range rows {
		got[i] = r.Name
	}
	sort.Strings(got)
	if len(got) != total {
		t.Fatalf("%d rows after failover, want %d", len(got), total)
	}
	for i, n := range got {
		if n != fmt.Sprintf("w%03d", i) {
			t.Fatalf("row %d is %q: a write was lost or duplicated", i, n)
		}
	}
	eventually(t, 10*time.Second, "the cache to converge", func() bool { return c.Cache().Len("Other") == total })
	mon.mu.Lock()
	starts, resumes, last := mon.starts, mon.resumes, mon.lastTxnID
	mon.mu.Unlock()
	if starts < 2 || last == "" {
		t.Fatalf("monitor started %d times, last txn id %q", starts, last)
	}
	t.Logf("monitor restarts: %d, resumed from history: %d", starts-1, resumes)
}

// guardedInsert inserts an Other row named name exactly once: retried after a lost
// connection; a "timed out" guard on a retry proves that an earlier attempt committed.
func guardedInsert(ctx context.Context, c *Client, name string, retried, proven *atomic.Int64) error {
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			return fmt.Errorf("write %s not done before the deadline", name)
		}
		_, err := c.Transact(ctx,
			Wait("Other", FuncEqual).Where(Equal("name", name)),
			Insert(&Other{Name: name}))
		switch {
		case err == nil:
			return nil
		case IsError(err, ErrTimedOut) && attempt > 0:
			proven.Add(1)
			return nil
		case errors.Is(err, ErrDisconnected):
			retried.Add(1)
		default:
			return fmt.Errorf("write %s attempt %d: %w", name, attempt, err)
		}
	}
}

// TestRaftResumeFromHistory checks the monitor_cond_since path where the new server still
// has our last transaction in its history: only the delta is sent (found=true), and the
// cache ends up equal to the server's state with events for the changes only.
func TestRaftResumeFromHistory(t *testing.T) {
	cl := ovsdbtest.StartCluster(t, testSchemaPath, 3)
	c := connect(t, cl.Endpoints(), WithReconnect(20*time.Millisecond, 300*time.Millisecond))
	writer := connect(t, cl.Endpoints())
	ctx := testCtx(t, 60*time.Second)
	mon, err := c.Monitor(ctx, TableMonitor{Table: "Child"}, TableMonitor{Table: "Root"})
	if err != nil {
		t.Fatal(err)
	}
	res := mustTransact(t, writer, Insert(&Root{Name: "r", Ports: []int{1}, Color: "red", Token: "00000000-0000-0000-0000-000000000001"}))
	root := res[0].UUID
	for i := range 20 {
		mustTransact(t, writer, Insert(&Child{Name: fmt.Sprintf("c%d", i), Value: i}).WithNamedUUID("n"),
			Mutate(&Root{UUID: root}, InsertValues("children", "n")))
	}
	eventually(t, 10*time.Second, "cache", func() bool { return c.Cache().Len("Child") == 20 })
	var rec recorder
	if err := c.Cache().AddHandler("Child", rec.handler(childName)); err != nil {
		t.Fatal(err)
	}
	waitEventsPrefix(t, &rec, "add c19=19")
	rec.take()

	// Kill the member the monitored client uses, then write through the writer, which
	// may itself have to fail over.
	victim := -1
	for i, m := range cl.Members {
		if m.Endpoint() == c.Endpoint() {
			victim = i
		}
	}
	cl.Kill(victim)
	eventually(t, 10*time.Second, "disconnect", func() bool { return c.Endpoint() != cl.Members[victim].Endpoint() })
	for {
		_, err := writer.Transact(ctx, Update(&Child{Value: 100}, "value").Where(Equal("name", "c3")))
		if err == nil {
			break
		}
		if !errors.Is(err, ErrDisconnected) {
			t.Fatal(err)
		}
	}
	waitEvents(t, &rec, "update c3=3->c3=100")
	eventually(t, 10*time.Second, "cache to match the server", func() bool { return cacheMatchesServer(t, c) })
	mon.mu.Lock()
	defer mon.mu.Unlock()
	if mon.resumes < 1 {
		t.Fatalf("monitor restarted %d times without resuming from history", mon.starts-1)
	}
}
