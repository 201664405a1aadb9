package ovsdb

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder collects handler calls as strings like "add c1", "update c1->c2", "delete c2".
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) handler(name func(any) string) Handler {
	rec := func(s string) {
		r.mu.Lock()
		r.events = append(r.events, s)
		r.mu.Unlock()
	}
	return Handler{
		OnAdd:    func(row any) { rec("add " + name(row)) },
		OnUpdate: func(old, new any) { rec("update " + name(old) + "->" + name(new)) },
		OnDelete: func(row any) { rec("delete " + name(row)) },
	}
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	sort.Strings(out)
	return out
}

func childName(row any) string {
	c := row.(*Child)
	return fmt.Sprintf("%s=%d", c.Name, c.Value)
}

// rawInsertChild builds a wire insert for the harness's raw transact (an independent
// writer that shares no code with the client).
func rawRoot(name string, children ...string) map[string]any {
	return map[string]any{"op": "insert", "table": "Root", "row": map[string]any{
		"name": name, "ports": 1, "color": "red", "token": []any{"uuid", "00000000-0000-0000-0000-000000000001"},
		"children": []any{"set", toNamed(children)},
	}}
}

func toNamed(names []string) []any {
	out := []any{}
	for _, n := range names {
		out = append(out, []any{"named-uuid", n})
	}
	return out
}

func rawChild(uuidName, name string, value int) map[string]any {
	return map[string]any{"op": "insert", "table": "Child", "uuid-name": uuidName,
		"row": map[string]any{"name": name, "value": value, "external_ids": []any{"map", []any{[]any{"owner", "o-" + name}}}}}
}

func TestCacheEventsIndexesAndReads(t *testing.T) {
	srv := startTestServer(t)
	c := connect(t, srv.Endpoint(), WithIndex("Child", "name"), WithExternalIDIndex("Child", "owner"), WithIndex("Root", "name"))
	ctx := testCtx(t, 30*time.Second)

	// Rows that exist before the monitor starts come as "initial".
	if _, err := srv.Transact(ctx, rawChild("a", "c1", 1), rawChild("b", "c2", 2), rawRoot("r", "a", "b")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Monitor(ctx, TableMonitor{Table: "Child"}, TableMonitor{Table: "Root", Columns: []string{"name", "children"}}); err != nil {
		t.Fatal(err)
	}
	var rec recorder
	if err := c.Cache().AddHandler("Child", rec.handler(childName)); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, &rec, "add c1=1", "add c2=2")

	// An independent writer changes the database: insert, modify, delete.
	if _, err := srv.Transact(ctx,
		rawChild("n", "c3", 3),
		map[string]any{"op": "mutate", "table": "Root", "where": []any{[]any{"name", "==", "r"}},
			"mutations": []any{[]any{"children", "insert", []any{"named-uuid", "n"}}}},
		map[string]any{"op": "update", "table": "Child", "where": []any{[]any{"name", "==", "c1"}}, "row": map[string]any{"value": 10}},
	); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, &rec, "add c3=3", "update c1=1->c1=10")
	if _, err := srv.Transact(ctx,
		map[string]any{"op": "update", "table": "Root", "where": []any{[]any{"name", "==", "r"}},
			"row": map[string]any{"children": []any{"set", []any{}}}},
	); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, &rec, "delete c1=10", "delete c2=2", "delete c3=3")

	// Reads: by index, by external id, by predicate, by UUID; results are copies.
	if _, err := srv.Transact(ctx, rawChild("x", "dup", 1), rawChild("y", "dup", 2), rawChild("z", "solo", 3),
		rawRoot("r2", "x", "y", "z")); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, &rec, "add dup=1", "add dup=2", "add solo=3")
	dups, err := Lookup[Child](c.Cache(), "name", "dup")
	if err != nil || len(dups) != 2 {
		t.Fatalf("lookup dup: %v %v", dups, err)
	}
	owned, err := LookupExternalID[Child](c.Cache(), "owner", "o-solo")
	if err != nil || len(owned) != 1 || owned[0].Value != 3 {
		t.Fatalf("lookup by external id: %+v %v", owned, err)
	}
	big, err := List(c.Cache(), func(ch *Child) bool { return ch.Value >= 2 })
	if err != nil || len(big) != 2 {
		t.Fatalf("list: %v %v", big, err)
	}
	solo := &Child{Name: "solo"}
	if err := c.Cache().Get(solo); err != nil || solo.Value != 3 || !IsUUID(solo.UUID) {
		t.Fatalf("get by index: %+v %v", solo, err)
	}
	if err := c.Cache().Get(&Child{Name: "dup"}); err == nil || !strings.Contains(err.Error(), "2 rows match") {
		t.Fatalf("ambiguous get: %v", err)
	}
	if err := c.Cache().Get(&Child{Name: "nobody"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing get: %v", err)
	}
	if err := c.Cache().Get(&Child{Value: 3}); err == nil {
		t.Fatal("get by an unindexed column succeeded")
	}
	solo.ExternalIDs["owner"] = "mutated by the caller"
	again, err := GetByUUID[Child](c.Cache(), solo.UUID)
	if err != nil || again.ExternalIDs["owner"] != "o-solo" {
		t.Fatalf("cache row changed through a returned copy: %+v %v", again, err)
	}
	root := &Root{Name: "r2"}
	if err := c.Cache().Get(root); err != nil || len(root.Children) != 3 || root.Color != "" {
		// Only the monitored columns are cached.
		t.Fatalf("root by index: %+v %v", root, err)
	}

	// The index follows renames and deletes.
	if _, err := srv.Transact(ctx, map[string]any{"op": "update", "table": "Child", "where": []any{[]any{"name", "==", "solo"}},
		"row": map[string]any{"name": "renamed", "external_ids": []any{"map", []any{}}}}); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, &rec, "update solo=3->renamed=3")
	if got, _ := Lookup[Child](c.Cache(), "name", "solo"); len(got) != 0 {
		t.Fatalf("stale index entry: %+v", got)
	}
	if got, _ := Lookup[Child](c.Cache(), "name", "renamed"); len(got) != 1 {
		t.Fatalf("renamed row not indexed: %+v", got)
	}
	if got, _ := LookupExternalID[Child](c.Cache(), "owner", "o-solo"); len(got) != 0 {
		t.Fatalf("stale external id index entry: %+v", got)
	}
	if _, err := Lookup[Child](c.Cache(), "value", 1); err == nil {
		t.Fatal("lookup on an unindexed column succeeded")
	}
}

// waitEvents waits until exactly the given events (in any order) have been delivered.
func waitEvents(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	sort.Strings(want)
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = append(got, rec.take()...)
		sort.Strings(got)
		if len(got) >= len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events: got %q, want %q", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("events: got %q, want %q", got, want)
	}
}

func TestMonitorRejectsBadRequests(t *testing.T) {
	srv := startTestServer(t)
	c := connect(t, srv.Endpoint())
	ctx := testCtx(t, 10*time.Second)
	if _, err := c.Monitor(ctx, TableMonitor{Table: "Nope"}); err == nil {
		t.Error("monitor of an unmapped table accepted")
	}
	if _, err := c.Monitor(ctx, TableMonitor{Table: "Child", Columns: []string{"nope"}}); err == nil {
		t.Error("monitor of an unknown column accepted")
	}
	m, err := c.Monitor(ctx, TableMonitor{Table: "Child"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Monitor(ctx, TableMonitor{Table: "Child"}); err == nil {
		t.Error("a table monitored twice accepted")
	}
	if err := m.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	// After cancel the table can be monitored again.
	if _, err := c.Monitor(ctx, TableMonitor{Table: "Child"}); err != nil {
		t.Fatal(err)
	}
}

func TestMonitorFallbackMethods(t *testing.T) {
	srv := startTestServer(t)
	ctx := testCtx(t, 30*time.Second)
	for _, method := range []string{methodMonitorCond, methodMonitor} {
		t.Run(method, func(t *testing.T) {
			c := connect(t, srv.Endpoint())
			if _, err := srv.Transact(ctx, rawChild("a", "f-"+method, 1), rawRoot("root-"+method, "a")); err != nil {
				t.Fatal(err)
			}
			// Start the monitor as if newer methods had been refused.
			m, err := c.monitorWith(ctx, method, TableMonitor{Table: "Child"})
			if err != nil {
				t.Fatal(err)
			}
			if m.Method() != method {
				t.Fatalf("method %s, want %s", m.Method(), method)
			}
			var rec recorder
			if err := c.Cache().AddHandler("Child", rec.handler(childName)); err != nil {
				t.Fatal(err)
			}
			waitEventsPrefix(t, &rec, "add f-"+method+"=1")
			if _, err := srv.Transact(ctx, map[string]any{"op": "update", "table": "Child",
				"where": []any{[]any{"name", "==", "f-" + method}}, "row": map[string]any{"value": 2}}); err != nil {
				t.Fatal(err)
			}
			waitEventsPrefix(t, &rec, "update f-"+method+"=1->f-"+method+"=2")
		})
	}
}

// waitEventsPrefix waits for one event and ignores others (rows from other subtests).
func waitEventsPrefix(t *testing.T, rec *recorder, want string) {
	t.Helper()
	eventually(t, 10*time.Second, want, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, e := range rec.events {
			if e == want {
				return true
			}
		}
		return false
	})
}
