package ovsdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

// offlineTransact changes a stopped server's database file with ovsdb-tool: changes the
// client cannot have seen.
func offlineTransact(t *testing.T, srv *ovsdbtest.Server, ops ...any) {
	t.Helper()
	txn, _ := json.Marshal(append([]any{srv.DBName}, ops...))
	out, err := exec.Command("ovsdb-tool", "transact", srv.DBPath, string(txn)).CombinedOutput()
	if err != nil || strings.Contains(string(out), `"error"`) {
		t.Fatalf("ovsdb-tool transact: %v: %s", err, out)
	}
}

// cacheMatchesServer compares the cached Child rows with a fresh select.
func cacheMatchesServer(t *testing.T, c *Client) bool {
	t.Helper()
	res, err := c.Transact(testCtx(t, 10*time.Second), Select(&Child{}).WhereAll())
	if err != nil {
		return false
	}
	var want []*Child
	if err := c.Model().Decode(res[0].Rows, &want); err != nil {
		t.Fatal(err)
	}
	got, err := List[Child](c.Cache(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return childSig(got) == childSig(want)
}

func childSig(rows []*Child) string {
	var parts []string
	for _, r := range rows {
		parts = append(parts, fmt.Sprintf("%s/%s=%d%v", r.UUID, r.Name, r.Value, r.ExternalIDs))
	}
	sort.Strings(parts)
	return fmt.Sprint(parts)
}

func TestServerRestartCacheConverges(t *testing.T) {
	srv := startTestServer(t)
	c := connect(t, srv.Endpoint(), WithReconnect(10*time.Millisecond, 200*time.Millisecond))
	ctx := testCtx(t, 60*time.Second)
	if _, err := srv.Transact(ctx, rawChild("a", "keep", 1), rawChild("b", "gone", 2), rawChild("d", "changed", 3),
		rawRoot("r", "a", "b", "d")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Monitor(ctx, TableMonitor{Table: "Child"}, TableMonitor{Table: "Root"}); err != nil {
		t.Fatal(err)
	}
	var rec recorder
	if err := c.Cache().AddHandler("Child", rec.handler(childName)); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, &rec, "add changed=3", "add gone=2", "add keep=1")

	gone, err := List(c.Cache(), func(ch *Child) bool { return ch.Name == "gone" })
	if err != nil || len(gone) != 1 {
		t.Fatalf("cached %+v %v", gone, err)
	}
	srv.Stop()
	eventually(t, 10*time.Second, "the client to notice", func() bool { return c.Endpoint() == "" })
	// While the client is away: drop "gone", change "changed", add "new".
	offlineTransact(t, srv,
		map[string]any{"op": "insert", "table": "Child", "uuid-name": "n", "row": map[string]any{"name": "new", "value": 4}},
		map[string]any{"op": "update", "table": "Child", "where": []any{[]any{"name", "==", "changed"}}, "row": map[string]any{"value": 30}},
		map[string]any{"op": "mutate", "table": "Root", "where": []any{[]any{"name", "==", "r"}},
			"mutations": []any{
				[]any{"children", "insert", []any{"named-uuid", "n"}},
				[]any{"children", "delete", []any{"uuid", gone[0].UUID}}, // garbage-collects it
			}},
	)
	srv.Start()
	// Exactly the difference is reported: nothing for "keep", no phantom "gone".
	waitEvents(t, &rec, "add new=4", "delete gone=2", "update changed=3->changed=30")
	if !cacheMatchesServer(t, c) {
		t.Fatal("cache differs from the server after the restart")
	}
	// The connection is usable for writes again.
	mustTransact(t, c, Mutate(&Root{}, InsertValues("tags", "after-restart")).Where(Equal("name", "r")))
}

func TestInactivityProbeDetectsHungServer(t *testing.T) {
	srv := startTestServer(t, ovsdbtest.WithTCP())
	probe := 200 * time.Millisecond
	c := connect(t, srv.Endpoint(), WithInactivityProbe(probe), WithReconnect(20*time.Millisecond, 200*time.Millisecond),
		WithConnectTimeout(time.Second))
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Monitor(ctx, TableMonitor{Table: "Child"}); err != nil {
		t.Fatal(err)
	}
	// An idle but healthy connection survives several probe intervals (echoes answered).
	idleStart := time.Now()
	for time.Since(idleStart) < 5*probe {
		if c.Endpoint() == "" {
			t.Fatal("healthy idle connection was dropped")
		}
		time.Sleep(probe / 4)
	}
	srv.Freeze()
	frozen := time.Now()
	eventually(t, 10*probe, "the probe to drop the hung connection", func() bool { return c.Endpoint() == "" })
	t.Logf("hung server detected after %s", time.Since(frozen))
	srv.Thaw()
	eventually(t, 10*time.Second, "reconnect", func() bool { return c.Endpoint() != "" })
	if err := c.Echo(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestEchoAndListDatabases(t *testing.T) {
	srv := startTestServer(t)
	c := connect(t, srv.Endpoint())
	ctx := testCtx(t, 10*time.Second)
	if err := c.Echo(ctx); err != nil {
		t.Fatal(err)
	}
	dbs, err := c.ListDatabases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(dbs)
	if fmt.Sprint(dbs) != "[Test _Server]" {
		t.Fatalf("list_dbs = %v", dbs)
	}
	s, err := c.GetSchema(ctx, "Test")
	if err != nil || s.Table("Root") == nil || c.ServerSchema().Name != "Test" {
		t.Fatalf("get_schema: %v %v", s, err)
	}
	if _, err := c.GetSchema(ctx, "Nope"); err == nil {
		t.Fatal("schema of an unknown database")
	}
}

func TestWithoutReconnectFailsFast(t *testing.T) {
	srv := startTestServer(t)
	c := connect(t, srv.Endpoint(), WithoutReconnect())
	srv.Kill()
	eventually(t, 10*time.Second, "disconnect", func() bool { return c.Endpoint() == "" })
	_, err := c.Transact(testCtx(t, 5*time.Second), Insert(&Other{Name: "x"}))
	if !errors.Is(err, ErrDisconnected) {
		t.Fatalf("transact after loss: %v", err)
	}
	c.Close()
	if _, err := c.Transact(testCtx(t, 5*time.Second), Insert(&Other{Name: "x"})); !errors.Is(err, ErrClosed) {
		t.Fatalf("transact after close: %v", err)
	}
}

func TestConcurrentTransactions(t *testing.T) {
	srv := startTestServer(t)
	c := connect(t, srv.Endpoint())
	ctx := testCtx(t, 60*time.Second)
	if _, err := c.Monitor(ctx, TableMonitor{Table: "Child"}, TableMonitor{Table: "Root"}); err != nil {
		t.Fatal(err)
	}
	res := mustTransact(t, c, Insert(&Root{Name: "parent", Ports: []int{1}, Color: "red", Token: "00000000-0000-0000-0000-000000000001"}))
	parent := res[0].UUID
	const workers, perWorker = 20, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				_, err := c.Transact(ctx,
					Insert(&Child{Name: fmt.Sprintf("w%d-%d", w, i), Value: w*1000 + i}).WithNamedUUID("ch"),
					Mutate(&Root{UUID: parent}, InsertValues("children", []string{"ch"})),
					Mutate(&Root{UUID: parent}, Mutation{Column: "count", Mutator: MutatorAdd, Value: 1}),
				)
				if err != nil {
					errs <- fmt.Errorf("worker %d txn %d: %w", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	root, err := GetByUUID[Root](c.Cache(), parent)
	if err != nil {
		t.Fatal(err)
	}
	if root.Count != workers*perWorker || len(root.Children) != workers*perWorker || c.Cache().Len("Child") != workers*perWorker {
		t.Fatalf("count %d, children %d, cached children %d; want %d", root.Count, len(root.Children), c.Cache().Len("Child"), workers*perWorker)
	}
	if !cacheMatchesServer(t, c) {
		t.Fatal("cache differs from the server")
	}
}

func TestTenThousandRowTransaction(t *testing.T) {
	srv := startTestServer(t)
	c := connect(t, srv.Endpoint())
	ctx := testCtx(t, 60*time.Second)
	if _, err := c.Monitor(ctx, TableMonitor{Table: "Other"}); err != nil {
		t.Fatal(err)
	}
	const n = 10000
	ops := make([]Operation, 0, n)
	for i := range n {
		ops = append(ops, Insert(&Other{Name: fmt.Sprintf("row-%05d", i)}))
	}
	start := time.Now()
	res := mustTransact(t, c, ops...)
	t.Logf("%d inserts in one transaction: %s", n, time.Since(start))
	seen := make(map[string]bool, n)
	for i, r := range res {
		if !IsUUID(r.UUID) || seen[r.UUID] {
			t.Fatalf("result %d: uuid %q invalid or repeated", i, r.UUID)
		}
		seen[r.UUID] = true
	}
	if got := c.Cache().Len("Other"); got != n {
		t.Fatalf("cache has %d rows, want %d", got, n)
	}
	res = mustTransact(t, c, Delete("Other").WhereAll())
	if res[0].Count != n || c.Cache().Len("Other") != 0 {
		t.Fatalf("deleted %d, cache still has %d", res[0].Count, c.Cache().Len("Other"))
	}
}
