package ovsdb

import (
	"reflect"
	"testing"
	"time"
)

// fullRoot returns a Root with every column set to a non-default value; children are
// referred to by the uuid-names of rows inserted in the same transaction.
func fullRoot(name string) *Root {
	return &Root{
		Name:        name,
		Count:       1<<60 + 1, // not representable as a float64: numbers must stay exact
		Ratio:       -2.5,
		Enabled:     true,
		Color:       "blue",
		Note:        ptr("a note"),
		Level:       ptr(-3),
		Flag:        ptr(false),
		Weight:      ptr(0.125),
		Tags:        []string{"a", "b", "c d"},
		Ports:       []int{22, 80, 443},
		Scores:      []float64{1.5, 2},
		Bits:        []bool{false, true},
		Labels:      map[string]string{"k1": "v1", "k2": ""},
		Limits:      map[string]int{"max": 10, "min": -10},
		Numbered:    map[int]string{1: "one", 2: "two"},
		Children:    []string{"child0", "child1"},
		Watched:     []string{"child1"},
		Favorite:    ptr("child0"),
		ByName:      map[string]string{"first": "child0"},
		Token:       "3c9b0d4e-2f0a-4e5b-9f7c-1a2b3c4d5e6f",
		Created:     "at insert",
		ExternalIDs: map[string]string{"ycloud.io/owner": "ns/" + name},
	}
}

func TestRoundTripEveryType(t *testing.T) {
	srv := startTestServer(t)
	c := connect(t, srv.Endpoint())
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Monitor(ctx, TableMonitor{Table: "Root"}, TableMonitor{Table: "Child"}); err != nil {
		t.Fatal(err)
	}

	want := fullRoot("r1")
	ops := []Operation{
		Insert(&Child{Name: "c0", Value: 7}).WithNamedUUID("child0"),
		Insert(&Child{Name: "c1", Value: -7}).WithNamedUUID("child1"),
		Insert(want).WithNamedUUID("root"),
		// A second row with every column at its default.
		Insert(&Root{Name: "empty", Ports: []int{1}, Color: "red", Token: "00000000-0000-0000-0000-000000000001"}),
	}
	res := mustTransact(t, c, ops...)
	for i, r := range res {
		if !IsUUID(r.UUID) {
			t.Fatalf("insert %d returned uuid %q", i, r.UUID)
		}
	}
	// Named uuids come back as the real ones.
	want.UUID = res[2].UUID
	want.Children = sortedCopy([]string{res[0].UUID, res[1].UUID})
	want.Watched = []string{res[1].UUID}
	want.Favorite = ptr(res[0].UUID)
	want.ByName = map[string]string{"first": res[0].UUID}

	// 1. Read back with select and decode.
	sel := mustTransact(t, c, Select(&Root{}).Where(Equal("_uuid", want.UUID)))
	var got []*Root
	if err := c.Model().Decode(sel[0].Rows, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("select round trip:\n got %+v\nwant %+v", got, want)
	}

	// 2. The cache saw the same row (our own transaction's updates precede its reply).
	cached := &Root{UUID: want.UUID}
	if err := c.Cache().Get(cached); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cached, want) {
		t.Fatalf("cache round trip:\n got %+v\nwant %+v", cached, want)
	}

	// 3. The default row reads back as zero values (nil sets/maps/pointers).
	empty := &Root{UUID: res[3].UUID}
	if err := c.Cache().Get(empty); err != nil {
		t.Fatal(err)
	}
	wantEmpty := &Root{UUID: res[3].UUID, Name: "empty", Ports: []int{1}, Color: "red", Token: "00000000-0000-0000-0000-000000000001"}
	if !reflect.DeepEqual(empty, wantEmpty) {
		t.Fatalf("default row:\n got %+v\nwant %+v", empty, wantEmpty)
	}

	// 4. Update every mutable column to other values, including clearing; the monitor's
	// modify diffs must rebuild exactly what a fresh select returns.
	upd := fullRoot("r1-renamed")
	upd.UUID = want.UUID
	upd.Note, upd.Level, upd.Flag, upd.Weight = nil, ptr(4), ptr(true), nil
	upd.Tags = []string{"b", "z"}
	upd.Ports = []int{80}
	upd.Scores = nil
	upd.Bits = []bool{true}
	upd.Labels = map[string]string{"k1": "changed", "k3": "new"}
	upd.Limits = nil
	upd.Numbered = map[int]string{2: "two", 3: "three"}
	upd.Children = []string{res[1].UUID}
	upd.Watched = nil
	upd.Favorite = ptr(res[1].UUID)
	upd.ByName = map[string]string{"second": res[1].UUID}
	upd.Created = want.Created // immutable: not written by Update (all mutable columns)
	mustTransact(t, c, Update(upd))
	// child0 lost its last strong reference and was garbage-collected; weak refs to it
	// are gone with it.
	sel = mustTransact(t, c, Select(&Root{}).Where(Equal("_uuid", want.UUID)))
	got = nil
	if err := c.Model().Decode(sel[0].Rows, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got[0], upd) {
		t.Fatalf("after update, select:\n got %+v\nwant %+v", got[0], upd)
	}
	cached = &Root{UUID: want.UUID}
	if err := c.Cache().Get(cached); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cached, upd) {
		t.Fatalf("after update, cache:\n got %+v\nwant %+v", cached, upd)
	}
	eventually(t, 5*time.Second, "garbage collection of child0", func() bool { return c.Cache().Len("Child") == 1 })
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
