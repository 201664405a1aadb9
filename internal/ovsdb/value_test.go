package ovsdb

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/schema"
)

func TestUUIDAndNames(t *testing.T) {
	for s, want := range map[string]bool{
		"3c9b0d4e-2f0a-4e5b-9f7c-1a2b3c4d5e6f": true,
		"3C9B0D4E-2F0A-4E5B-9F7C-1A2B3C4D5E6F": true,
		"3c9b0d4e-2f0a-4e5b-9f7c-1a2b3c4d5e6":  false,
		"3c9b0d4e+2f0a-4e5b-9f7c-1a2b3c4d5e6f": false,
		"3c9b0d4e-2f0a-4e5b-9f7c-1a2b3c4d5e6g": false,
		"":                                     false,
	} {
		if IsUUID(s) != want {
			t.Errorf("IsUUID(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{"p1": true, "_x": true, "Row_9": true, "1p": false, "a-b": false, "": false} {
		if isNamedUUID(s) != want {
			t.Errorf("isNamedUUID(%q) = %v", s, !want)
		}
	}
}

func TestEncodeDecodeForms(t *testing.T) {
	str := schema.BaseType{Type: schema.String}
	uuid := schema.BaseType{Type: schema.UUID}
	integer := schema.BaseType{Type: schema.Integer}
	set := schema.ColumnType{Key: str, Min: 0, Max: schema.Unlimited}
	opt := schema.ColumnType{Key: uuid, Min: 0, Max: 1}
	scalar := schema.ColumnType{Key: integer, Min: 1, Max: 1}
	smap := schema.ColumnType{Key: str, Value: &integer, Min: 0, Max: schema.Unlimited}
	id := "3c9b0d4e-2f0a-4e5b-9f7c-1a2b3c4d5e6f"

	cases := []struct {
		name string
		t    schema.ColumnType
		v    any
		wire string
	}{
		{"set", set, []string{"a", "b"}, `["set",["a","b"]]`},
		{"empty set", set, []string(nil), `["set",[]]`},
		{"bare atom for a set", set, "a", `"a"`},
		{"optional uuid", opt, ptr(id), `["uuid","` + id + `"]`},
		{"optional named uuid", opt, ptr("row1"), `["named-uuid","row1"]`},
		{"absent optional", opt, (*string)(nil), `["set",[]]`},
		{"nil interface", opt, nil, `["set",[]]`},
		{"scalar", scalar, 42, `42`},
		{"map", smap, map[string]int{"a": 1}, `["map",[["a",1]]]`},
	}
	for _, tc := range cases {
		w, err := encodeValue(&tc.t, reflect.ValueOf(tc.v))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, _ := json.Marshal(w)
		if string(b) != tc.wire {
			t.Errorf("%s: encoded %s, want %s", tc.name, b, tc.wire)
		}
	}
	for name, bad := range map[string]struct {
		t schema.ColumnType
		v any
	}{
		"string for integer": {scalar, "x"},
		"slice for map":      {smap, []string{"a"}},
		"bad uuid":           {opt, ptr("no good")},
	} {
		if _, err := encodeValue(&bad.t, reflect.ValueOf(bad.v)); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}

	// Decoding accepts the server's shorthand forms.
	decode := func(ct schema.ColumnType, wire string, dst any) error {
		w, err := decodeJSON([]byte(wire))
		if err != nil {
			return err
		}
		return decodeValue(&ct, w, reflect.ValueOf(dst).Elem())
	}
	var tags []string
	if err := decode(set, `"solo"`, &tags); err != nil || !reflect.DeepEqual(tags, []string{"solo"}) {
		t.Errorf("bare atom as set: %v %v", tags, err)
	}
	if err := decode(set, `["set",["b","a"]]`, &tags); err != nil || !reflect.DeepEqual(tags, []string{"a", "b"}) {
		t.Errorf("set is sorted: %v %v", tags, err)
	}
	var n int
	if err := decode(scalar, `["set",[7]]`, &n); err != nil || n != 7 {
		t.Errorf("one-element set as scalar: %v %v", n, err)
	}
	if err := decode(scalar, `1.5`, &n); err == nil {
		t.Error("real accepted as integer")
	}
	var p *string
	if err := decode(opt, `["set",[]]`, &p); err != nil || p != nil {
		t.Errorf("empty optional: %v %v", p, err)
	}
	if err := decode(opt, `["set",[["uuid","`+id+`"],["uuid","`+id+`"]]]`, &p); err == nil {
		t.Error("two-element optional accepted")
	}
	var m map[string]int
	if err := decode(smap, `["map",[["a",1],["b",2]]]`, &m); err != nil || m["b"] != 2 {
		t.Errorf("map: %v %v", m, err)
	}
	if err := decode(smap, `["set",[]]`, &m); err == nil {
		t.Error("set accepted as map")
	}
}

// TestApplyDiff covers the update2 "modify" rules on a cached row.
func TestApplyDiff(t *testing.T) {
	dm := testModel(t)
	ti := dm.tables["Root"]
	row := &Root{Tags: []string{"a", "b"}, Note: ptr("n"), Labels: map[string]string{"k": "v", "x": "1"}, Count: 1}
	diff, err := decodeJSON([]byte(`{"tags":["set",["b","c"]],"note":"m","labels":["map",[["k","v"],["x","2"],["y","3"]]],"count":5}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := ti.applyDiff(reflect.ValueOf(row).Elem(), diff.(map[string]any)); err != nil {
		t.Fatal(err)
	}
	want := &Root{Tags: []string{"a", "c"}, Note: ptr("m"), Labels: map[string]string{"x": "2", "y": "3"}, Count: 5}
	if !reflect.DeepEqual(row, want) {
		t.Fatalf("after diff %+v, want %+v", row, want)
	}
	// Clearing an optional: the empty set, or (as a symmetric difference) its value.
	for _, d := range []string{`{"note":["set",[]]}`, `{"note":"m"}`} {
		r := &Root{Note: ptr("m")}
		w, _ := decodeJSON([]byte(d))
		if err := ti.applyDiff(reflect.ValueOf(r).Elem(), w.(map[string]any)); err != nil || r.Note != nil {
			t.Errorf("diff %s: note %v, err %v", d, r.Note, err)
		}
	}
}
