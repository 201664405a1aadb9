package ovsdb

import (
	"fmt"
	"reflect"
	"testing"
)

// The fuzz targets feed arbitrary bytes where the server's JSON goes. Decoding must never
// panic, and whatever it accepts must leave the cache consistent (indexes agree with
// rows). `go test` runs the seeds below; `go test -fuzz=FuzzUpdates` explores further.

const (
	seedUUID1 = "11111111-1111-1111-1111-111111111111"
	seedUUID2 = "22222222-2222-2222-2222-222222222222"
)

var updateSeeds = []string{
	// update2 with every row kind and value form.
	`{"Child":{"` + seedUUID1 + `":{"initial":{"name":"a","value":1,"external_ids":["map",[["owner","x"]]]}}}}`,
	`{"Child":{"` + seedUUID1 + `":{"modify":{"value":2,"external_ids":["map",[["owner","y"],["k","v"]]]}}}}`,
	`{"Child":{"` + seedUUID1 + `":{"delete":null}}}`,
	`{"Root":{"` + seedUUID2 + `":{"insert":{"name":"r","count":9007199254740993,"ratio":1.5,"enabled":true,` +
		`"color":"red","note":["set",[]],"level":3,"tags":["set",["a","b"]],"ports":80,"scores":["set",[1,2.5]],` +
		`"labels":["map",[]],"numbered":["map",[[1,"x"]]],"children":["uuid","` + seedUUID1 + `"],` +
		`"favorite":["set",[["uuid","` + seedUUID1 + `"]]],"token":["uuid","` + seedUUID2 + `"]}}}}`,
	`{"Root":{"` + seedUUID2 + `":{"modify":{"tags":["set",["a","c"]],"note":"n","level":["set",[]],"labels":["map",[["k","v"]]]}}}}`,
	// Malformed shapes.
	`{"Child":{"not-a-uuid":{"insert":{}}}}`,
	`{"Child":{"` + seedUUID1 + `":{"insert":{"value":"str"}}}}`,
	`{"Child":{"` + seedUUID1 + `":{"modify":{"value":1},"delete":null}}}`,
	`{"Root":{"` + seedUUID2 + `":{"insert":{"ports":["set",[1,2,3,4]],"level":["set",[1,2]]}}}}`,
	`{"Child":[]}`, `[]`, `null`, `{"Child":{"` + seedUUID1 + `":{"bogus":{}}}}`,
	`{"Root":{"` + seedUUID2 + `":{"insert":{"count":1e400,"favorite":["uuid","zz"],"labels":["map",[["a"]]]}}}}`,
}

func FuzzUpdates(f *testing.F) {
	for _, s := range updateSeeds {
		f.Add(s, s)
	}
	dm := testModel(f)
	f.Fuzz(func(t *testing.T, first, second string) {
		c, err := newCache(dm, []indexSpec{
			{table: "Child", column: "name"},
			{table: "Child", column: "external_ids", extKey: "owner"},
			{table: "Root", column: "note"},
		}, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		for _, in := range []string{first, second} {
			w, err := decodeJSON([]byte(in))
			if err != nil {
				continue
			}
			// Exercise every way updates reach the cache.
			_ = c.applyUpdates2(w)
			checkCacheInvariants(t, c)
			_ = c.applyUpdates1(w)
			checkCacheInvariants(t, c)
			if snap, err := c.collectSnapshot(w, true, []string{"Child", "Root"}); err == nil {
				_ = c.replace(snap)
				checkCacheInvariants(t, c)
			}
		}
	})
}

// checkCacheInvariants verifies that each index holds exactly the cached rows' keys.
func checkCacheInvariants(t *testing.T, c *Cache) {
	t.Helper()
	c.mu.RLock()
	defer c.mu.RUnlock()
	for name, tc := range c.tables {
		for _, ix := range append(mapValues(tc.byCol), mapValues(tc.byExtID)...) {
			n := 0
			for k, set := range ix.m {
				if len(set) == 0 {
					t.Fatalf("%s: empty index bucket %v", name, k)
				}
				for id := range set {
					p, ok := tc.rows[id]
					if !ok {
						t.Fatalf("%s: index entry %v -> %s for a missing row", name, k, id)
					}
					if got, ok := ix.key(reflect.ValueOf(p).Elem()); !ok || got != k {
						t.Fatalf("%s: index entry %v -> %s, row key is %v", name, k, id, got)
					}
					n++
				}
			}
			for id, p := range tc.rows {
				if k, ok := ix.key(reflect.ValueOf(p).Elem()); ok {
					if _, in := ix.m[k][id]; !in {
						t.Fatalf("%s: row %s (key %v) missing from index", name, id, k)
					}
					n--
				}
			}
			if n != 0 {
				t.Fatalf("%s: index and rows disagree by %d", name, n)
			}
		}
	}
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

var resultSeeds = []string{
	`[{"uuid":["uuid","` + seedUUID1 + `"]},{"count":1},{"rows":[{"_uuid":["uuid","` + seedUUID1 + `"],"name":"a","value":1}]},{}]`,
	`[{"uuid":["uuid","` + seedUUID1 + `"]},{"error":"constraint violation","details":"dup"},null,null]`,
	`[{"uuid":["uuid","` + seedUUID1 + `"]},{"count":0},{"rows":[]},{},{"error":"referential integrity violation","details":"x"}]`,
	`[{"uuid":"bad"},{"count":"1"},{"rows":{}},{}]`,
	`[{"error":{"nested":true}},null]`, `{}`, `[1,2,3,4]`, `[null,null,null,null]`,
	`[{"uuid":["uuid","` + seedUUID1 + `"]},{"count":1},{"rows":[{"_uuid":["named-uuid","x"],"value":"s"}]},{}]`,
}

func FuzzTransactReply(f *testing.F) {
	for _, s := range resultSeeds {
		f.Add(s)
	}
	dm := testModel(f)
	ops := []Operation{Insert(&Child{}), Delete("Child").WhereAll(), Select("Child"), Comment("c")}
	tables := []string{"Child", "Child", "Child", ""}
	f.Fuzz(func(t *testing.T, in string) {
		res, err := parseResults(ops, tables, []byte(in))
		if err != nil {
			if te, ok := err.(*TxnError); ok {
				if len(te.Errors) == 0 || te.Error() == "" {
					t.Fatalf("empty TxnError for %s", in)
				}
				for _, oe := range te.Errors {
					if oe.Index < 0 || oe.Err == "" {
						t.Fatalf("operation error without index or message: %+v", oe)
					}
				}
			}
			return
		}
		if len(res) != len(ops) {
			t.Fatalf("%d results for %d ops", len(res), len(ops))
		}
		if res[0].UUID != "" && !IsUUID(res[0].UUID) {
			t.Fatalf("insert result uuid %q", res[0].UUID)
		}
		var rows []*Child
		if err := dm.Decode(res[2].Rows, &rows); err == nil && len(rows) != len(res[2].Rows) {
			t.Fatalf("decoded %d of %d rows", len(rows), len(res[2].Rows))
		}
	})
}

// TestFuzzSeedsAreMeaningful makes sure the seeds reach the interesting paths (and are not
// all rejected early), so the seed run is a real regression test.
func TestFuzzSeedsAreMeaningful(t *testing.T) {
	dm := testModel(t)
	c, err := newCache(dm, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	applied := 0
	for _, s := range updateSeeds[:5] {
		w, err := decodeJSON([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.applyUpdates2(w); err != nil {
			t.Fatalf("seed %s: %v", s, err)
		}
		applied++
	}
	r, err := GetByUUID[Root](c, seedUUID2)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%d %v %v %v %v", r.Count, r.Tags, *r.Note, r.Level, r.Labels)
	if got != "9007199254740993 [b c] n <nil> map[k:v]" {
		t.Fatalf("root after seeds: %s", got)
	}
	if c.Len("Child") != 0 || applied != 5 {
		t.Fatalf("child rows %d", c.Len("Child"))
	}
}
