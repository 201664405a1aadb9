package ovsdb

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOperations(t *testing.T) {
	srv := startTestServer(t)
	c := connect(t, srv.Endpoint())
	dm := c.Model()

	res := mustTransact(t, c,
		Comment("ycloud test: setup"),
		Insert(&Child{Name: "c0", Value: 10}).WithNamedUUID("c0"),
		Insert(&Root{Name: "r", Ports: []int{1}, Color: "red", Token: "00000000-0000-0000-0000-000000000001",
			Tags: []string{"a"}, Labels: map[string]string{"x": "1", "y": "2"}, Limits: map[string]int{"n": 5},
			Children: []string{"c0"}, Count: 7}),
	)
	rootID, childID := res[2].UUID, res[1].UUID

	t.Run("mutate sets, maps and numbers", func(t *testing.T) {
		res := mustTransact(t, c, Mutate(&Root{UUID: rootID},
			InsertValues("tags", []string{"b", "c"}),
			DeleteValues("tags", []string{"a"}),
			InsertValues("labels", map[string]string{"z": "3", "x": "ignored: key exists"}),
			DeleteValues("labels", []string{"y"}),          // delete by key
			DeleteValues("limits", map[string]int{"n": 6}), // pair does not match: kept
			Mutation{Column: "count", Mutator: MutatorMultiply, Value: 3},
			Mutation{Column: "count", Mutator: MutatorAdd, Value: 1},
			Mutation{Column: "ports", Mutator: MutatorAdd, Value: 100},
		))
		if res[0].Count != 1 {
			t.Fatalf("mutate count = %d, want 1", res[0].Count)
		}
		got := selectRoot(t, c, rootID)
		if !reflect.DeepEqual(got.Tags, []string{"b", "c"}) ||
			!reflect.DeepEqual(got.Labels, map[string]string{"x": "1", "z": "3"}) ||
			!reflect.DeepEqual(got.Limits, map[string]int{"n": 5}) ||
			got.Count != 22 || !reflect.DeepEqual(got.Ports, []int{101}) {
			t.Fatalf("after mutate: %+v", got)
		}
	})

	t.Run("update selected columns by condition", func(t *testing.T) {
		res := mustTransact(t, c, Update(&Root{Note: ptr("n"), Enabled: true}, "note", "enabled").
			Where(Equal("name", "r"), Includes("tags", "b")))
		if res[0].Count != 1 {
			t.Fatalf("update count = %d", res[0].Count)
		}
		got := selectRoot(t, c, rootID)
		if got.Note == nil || *got.Note != "n" || !got.Enabled || got.Count != 22 {
			t.Fatalf("after update: %+v", got)
		}
	})

	t.Run("select with conditions on every kind", func(t *testing.T) {
		for _, cond := range []Condition{
			Equal("name", "r"), NotEqual("name", "x"), Includes("tags", []string{"b", "c"}),
			Excludes("tags", "a"), {Column: "count", Function: FuncGreater, Value: 21},
			{Column: "count", Function: FuncLessEq, Value: 22}, Includes("children", childID),
			Equal("note", ptr("n")), Includes("labels", map[string]string{"z": "3"}),
		} {
			res := mustTransact(t, c, Select("Root", "name").Where(cond))
			if len(res[0].Rows) != 1 {
				t.Errorf("condition %v selected %d rows", cond, len(res[0].Rows))
			}
		}
	})

	t.Run("wait guards a write", func(t *testing.T) {
		// Insert "w" only if no row is named "w": the first succeeds, the second fails
		// with "timed out" at the wait, naming its index and table.
		guard := Wait("Root", FuncEqual).Where(Equal("name", "w"))
		ins := Insert(&Root{Name: "w", Ports: []int{1}, Color: "red", Token: "00000000-0000-0000-0000-000000000001"})
		mustTransact(t, c, guard, ins)
		_, err := c.Transact(testCtx(t, 10*time.Second), guard, ins)
		var te *TxnError
		if !errors.As(err, &te) || !IsError(err, ErrTimedOut) {
			t.Fatalf("second guarded insert: %v", err)
		}
		oe := te.Errors[0]
		if oe.Index != 0 || oe.Op != "wait" || oe.Table != "Root" || !strings.Contains(err.Error(), "operation 0 (wait on Root)") {
			t.Fatalf("error does not name the operation: %+v / %v", oe, err)
		}
		// Wait with rows: the row named "w" has count 0.
		mustTransact(t, c, Wait("Root", FuncEqual, &Root{Name: "w"}).Where(Equal("name", "w")).WithColumns("name", "count"))
	})

	t.Run("errors name operation, table and details", func(t *testing.T) {
		cases := []struct {
			name string
			ops  []Operation
			kind string
			idx  int
		}{
			{"unique index", []Operation{Insert(&Other{Name: "o"}), Insert(&Root{Name: "r", Ports: []int{1}, Color: "red", Token: "00000000-0000-0000-0000-000000000001"})}, ErrConstraintViolation, 2},
			{"dangling strong ref", []Operation{Update(&Root{Favorite: ptr("00000000-0000-0000-0000-0000000000ff")}, "favorite").Where(Equal("_uuid", rootID))}, ErrReferentialIntegrity, 1},
			{"enum", []Operation{Update(&Root{Color: "purple"}, "color").Where(Equal("_uuid", rootID))}, ErrConstraintViolation, 0},
			{"immutable column", []Operation{Update(&Root{Created: "x"}, "created").Where(Equal("_uuid", rootID))}, ErrConstraintViolation, 0},
			{"too many ports", []Operation{Update(&Root{Ports: []int{1, 2, 3, 4}}, "ports").Where(Equal("_uuid", rootID))}, ErrSyntax, 0},
		}
		for _, tc := range cases {
			_, err := c.Transact(testCtx(t, 10*time.Second), tc.ops...)
			var te *TxnError
			if !errors.As(err, &te) {
				t.Fatalf("%s: want a TxnError, got %v", tc.name, err)
			}
			if !IsError(err, tc.kind) || te.Errors[0].Index != tc.idx || te.Errors[0].Details == "" {
				t.Errorf("%s: got %+v (%v), want %q at %d with details", tc.name, te.Errors[0], err, tc.kind, tc.idx)
			}
		}
	})

	t.Run("client-side refusals", func(t *testing.T) {
		for name, op := range map[string]Operation{
			"delete without condition": Delete("Root"),
			"bad uuid-name":            Insert(&Child{}).WithNamedUUID("1bad"),
			"bad uuid value":           Update(&Root{Favorite: ptr("not a uuid")}, "favorite").Where(Equal("name", "r")),
			"unknown column":           Select("Root").Where(Equal("nope", 1)),
			"wrong value type":         Select("Root").Where(Equal("count", "seven")),
			"unknown table":            Delete("Nope").WhereAll(),
			"wait rows need columns":   Wait("Root", FuncEqual, &Root{}).Where(Equal("name", "r")),
		} {
			if _, err := c.Transact(testCtx(t, 10*time.Second), op); err == nil || !strings.Contains(err.Error(), "operation 0") {
				t.Errorf("%s: err = %v", name, err)
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		res := mustTransact(t, c, Delete(&Root{}).Where(Equal("name", "w")), Delete(&Root{UUID: rootID}))
		if res[0].Count != 1 || res[1].Count != 1 {
			t.Fatalf("delete counts %d, %d", res[0].Count, res[1].Count)
		}
		// The child lost its only strong reference: garbage-collected.
		sel := mustTransact(t, c, Select(&Child{}).WhereAll())
		var children []Child
		if err := dm.Decode(sel[0].Rows, &children); err != nil || len(children) != 0 {
			t.Fatalf("children after delete: %+v (%v)", children, err)
		}
	})
}

func selectRoot(t *testing.T, c *Client, id string) *Root {
	t.Helper()
	res := mustTransact(t, c, Select(&Root{UUID: id}))
	var rows []*Root
	if err := c.Model().Decode(res[0].Rows, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("select %s: %d rows", id, len(rows))
	}
	return rows[0]
}

func TestDatabaseModelValidation(t *testing.T) {
	s := testSchema(t)
	cases := map[string]any{
		"not a pointer":    Root{},
		"unknown table":    &noTable{},
		"unknown column":   &unknownCol{},
		"wrong atom type":  &wrongAtom{},
		"set as scalar":    &setAsScalar{},
		"pointer for set":  &ptrForSet{},
		"uuid not string":  &uuidInt{},
		"duplicate column": &dupCol{},
	}
	for name, m := range cases {
		if _, err := NewDatabaseModel(s, m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewDatabaseModel(s, (*Root)(nil), (*Child)(nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := NewDatabaseModel(s, (*Root)(nil), (*Root)(nil)); err == nil {
		t.Error("table mapped twice: accepted")
	}
}

type noTable struct {
	X string `ovsdb:"name"`
}

func (*noTable) Table() string { return "Nope" }

type unknownCol struct {
	X string `ovsdb:"nope"`
}

func (*unknownCol) Table() string { return "Child" }

type wrongAtom struct {
	V string `ovsdb:"value"`
}

func (*wrongAtom) Table() string { return "Child" }

type setAsScalar struct {
	Tags string `ovsdb:"tags"`
}

func (*setAsScalar) Table() string { return "Root" }

type ptrForSet struct {
	Tags *string `ovsdb:"tags"`
}

func (*ptrForSet) Table() string { return "Root" }

type uuidInt struct {
	U int `ovsdb:"_uuid"`
}

func (*uuidInt) Table() string { return "Child" }

type dupCol struct {
	A string `ovsdb:"name"`
	B string `ovsdb:"name"`
}

func (*dupCol) Table() string { return "Child" }

type countingObserver struct {
	mu       sync.Mutex
	ok, fail int
}

func (o *countingObserver) TxnDone(d time.Duration, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d <= 0 {
		panic("non-positive transaction duration")
	}
	if ok {
		o.ok++
	} else {
		o.fail++
	}
}

func TestObserverSeesEveryTransaction(t *testing.T) {
	srv := startTestServer(t)
	var ob countingObserver
	c := connect(t, srv.Endpoint(), WithObserver(&ob))
	mustTransact(t, c, Insert(&Other{Name: "a"}))
	mustTransact(t, c, Comment("two"))
	if _, err := c.Transact(testCtx(t, 5*time.Second), Wait("Other", FuncEqual).Where(Equal("name", "a"))); err == nil {
		t.Fatal("wait on an existing row succeeded")
	}
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if ob.ok != 2 || ob.fail != 1 {
		t.Fatalf("observer saw %d ok, %d failed; want 2, 1", ob.ok, ob.fail)
	}
}
