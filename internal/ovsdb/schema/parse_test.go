package schema

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// oneColumn wraps a <type> in a database with table T (column c) and table R (so that
// refTable "R" resolves).
func oneColumn(typ string) string {
	return `{"name":"D","version":"1.0.0","tables":{
		"T":{"columns":{"c":{"type":` + typ + `}}},
		"R":{"columns":{"x":{"type":"string"}}}}}`
}

func TestParseColumnTypes(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		want ColumnType
	}{
		{"bare string", `"string"`, ColumnType{Key: BaseType{Type: String}, Min: 1, Max: 1}},
		{"bare integer", `"integer"`, ColumnType{Key: BaseType{Type: Integer}, Min: 1, Max: 1}},
		{"bare real", `"real"`, ColumnType{Key: BaseType{Type: Real}, Min: 1, Max: 1}},
		{"bare boolean", `"boolean"`, ColumnType{Key: BaseType{Type: Boolean}, Min: 1, Max: 1}},
		{"bare uuid", `"uuid"`, ColumnType{Key: BaseType{Type: UUID}, Min: 1, Max: 1}},
		{"object with defaults", `{"key":"string"}`, ColumnType{Key: BaseType{Type: String}, Min: 1, Max: 1}},
		{"key as object", `{"key":{"type":"integer"}}`, ColumnType{Key: BaseType{Type: Integer}, Min: 1, Max: 1}},
		{"optional", `{"key":"boolean","min":0,"max":1}`, ColumnType{Key: BaseType{Type: Boolean}, Min: 0, Max: 1}},
		{"bounded set", `{"key":"string","min":1,"max":4}`, ColumnType{Key: BaseType{Type: String}, Min: 1, Max: 4}},
		{"unlimited set", `{"key":"string","min":0,"max":"unlimited"}`,
			ColumnType{Key: BaseType{Type: String}, Min: 0, Max: Unlimited}},
		{"map", `{"key":"string","value":"string","min":0,"max":"unlimited"}`,
			ColumnType{Key: BaseType{Type: String}, Value: &BaseType{Type: String}, Min: 0, Max: Unlimited}},
		{"map to integer range", `{"key":"string","value":{"type":"integer","minInteger":0,"maxInteger":63}}`,
			ColumnType{Key: BaseType{Type: String}, Value: &BaseType{Type: Integer, MinInteger: ptr[int64](0), MaxInteger: ptr[int64](63)}, Min: 1, Max: 1}},
		{"integer range", `{"key":{"type":"integer","minInteger":-5,"maxInteger":9007199254740993}}`,
			ColumnType{Key: BaseType{Type: Integer, MinInteger: ptr[int64](-5), MaxInteger: ptr[int64](9007199254740993)}, Min: 1, Max: 1}},
		{"integer min only", `{"key":{"type":"integer","minInteger":1}}`,
			ColumnType{Key: BaseType{Type: Integer, MinInteger: ptr[int64](1)}, Min: 1, Max: 1}},
		{"real range", `{"key":{"type":"real","minReal":0,"maxReal":1.5}}`,
			ColumnType{Key: BaseType{Type: Real, MinReal: ptr(0.0), MaxReal: ptr(1.5)}, Min: 1, Max: 1}},
		{"string length", `{"key":{"type":"string","minLength":1,"maxLength":63}}`,
			ColumnType{Key: BaseType{Type: String, MinLength: ptr(1), MaxLength: ptr(63)}, Min: 1, Max: 1}},
		{"strong ref by default", `{"key":{"type":"uuid","refTable":"R"},"min":0,"max":"unlimited"}`,
			ColumnType{Key: BaseType{Type: UUID, RefTable: "R", RefType: RefStrong}, Min: 0, Max: Unlimited}},
		{"explicit strong ref", `{"key":{"type":"uuid","refTable":"R","refType":"strong"}}`,
			ColumnType{Key: BaseType{Type: UUID, RefTable: "R", RefType: RefStrong}, Min: 1, Max: 1}},
		{"weak ref", `{"key":{"type":"uuid","refTable":"R","refType":"weak"},"min":0,"max":1}`,
			ColumnType{Key: BaseType{Type: UUID, RefTable: "R", RefType: RefWeak}, Min: 0, Max: 1}},
		{"map to refs", `{"key":"integer","value":{"type":"uuid","refTable":"R"},"min":0,"max":"unlimited"}`,
			ColumnType{Key: BaseType{Type: Integer}, Value: &BaseType{Type: UUID, RefTable: "R", RefType: RefStrong}, Min: 0, Max: Unlimited}},
		{"string enum set", `{"key":{"type":"string","enum":["set",["a","b-c",""]]}}`,
			ColumnType{Key: BaseType{Type: String, Enum: []any{"a", "b-c", ""}}, Min: 1, Max: 1}},
		{"string enum single atom", `{"key":{"type":"string","enum":"only"}}`,
			ColumnType{Key: BaseType{Type: String, Enum: []any{"only"}}, Min: 1, Max: 1}},
		{"integer enum", `{"key":{"type":"integer","enum":["set",[1,2,3]]},"min":0,"max":1}`,
			ColumnType{Key: BaseType{Type: Integer, Enum: []any{int64(1), int64(2), int64(3)}}, Min: 0, Max: 1}},
		{"integer enum single atom", `{"key":{"type":"integer","enum":7}}`,
			ColumnType{Key: BaseType{Type: Integer, Enum: []any{int64(7)}}, Min: 1, Max: 1}},
		{"real enum", `{"key":{"type":"real","enum":["set",[0.5,2]]}}`,
			ColumnType{Key: BaseType{Type: Real, Enum: []any{0.5, 2.0}}, Min: 1, Max: 1}},
		{"boolean enum", `{"key":{"type":"boolean","enum":true}}`,
			ColumnType{Key: BaseType{Type: Boolean, Enum: []any{true}}, Min: 1, Max: 1}},
		{"uuid enum atom", `{"key":{"type":"uuid","enum":["uuid","6f5b5a3c-1d2e-4f00-8a9b-0c1d2e3f4a5b"]}}`,
			ColumnType{Key: BaseType{Type: UUID, Enum: []any{"6f5b5a3c-1d2e-4f00-8a9b-0c1d2e3f4a5b"}}, Min: 1, Max: 1}},
		{"uuid enum set", `{"key":{"type":"uuid","enum":["set",[["uuid","6f5b5a3c-1d2e-4f00-8a9b-0c1d2e3f4a5b"]]]}}`,
			ColumnType{Key: BaseType{Type: UUID, Enum: []any{"6f5b5a3c-1d2e-4f00-8a9b-0c1d2e3f4a5b"}}, Min: 1, Max: 1}},
		{"map with enum key", `{"key":{"type":"string","enum":["set",["rate","burst"]]},"value":{"type":"integer","minInteger":1},"min":0,"max":"unlimited"}`,
			ColumnType{Key: BaseType{Type: String, Enum: []any{"rate", "burst"}}, Value: &BaseType{Type: Integer, MinInteger: ptr[int64](1)}, Min: 0, Max: Unlimited}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(oneColumn(tc.typ)))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			c := d.Table("T").Column("c")
			if c == nil {
				t.Fatal("column c missing")
			}
			if !reflect.DeepEqual(c.Type, tc.want) {
				t.Errorf("type = %#v\nwant   %#v", c.Type, tc.want)
			}
			if c.Name != "c" || !c.Mutable || c.Ephemeral {
				t.Errorf("column = %+v, want name c, mutable, not ephemeral", c)
			}
			roundTrip(t, d)
		})
	}
}

func TestColumnTypePredicates(t *testing.T) {
	str := BaseType{Type: String}
	tests := []struct {
		name                        string
		ct                          ColumnType
		isMap, isOpt, isSet, scalar bool
	}{
		{"scalar", ColumnType{Key: str, Min: 1, Max: 1}, false, false, false, true},
		{"optional", ColumnType{Key: str, Min: 0, Max: 1}, false, true, false, false},
		{"set 0..n", ColumnType{Key: str, Min: 0, Max: Unlimited}, false, false, true, false},
		{"set 1..n", ColumnType{Key: str, Min: 1, Max: Unlimited}, false, false, true, false},
		{"set 0..2", ColumnType{Key: str, Min: 0, Max: 2}, false, false, true, false},
		{"map", ColumnType{Key: str, Value: &str, Min: 0, Max: Unlimited}, true, false, false, false},
		{"map 1..1", ColumnType{Key: str, Value: &str, Min: 1, Max: 1}, true, false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := [4]bool{tc.ct.IsMap(), tc.ct.IsOptional(), tc.ct.IsSet(), tc.ct.IsScalar()}
			want := [4]bool{tc.isMap, tc.isOpt, tc.isSet, tc.scalar}
			if got != want {
				t.Errorf("[map optional set scalar] = %v, want %v", got, want)
			}
		})
	}
}

func TestParseTableAndColumnMembers(t *testing.T) {
	d, err := Parse([]byte(`{"name":"D","version":"2.10.3","cksum":"123 45","tables":{
		"A":{"columns":{"name":{"type":"string"},"n":{"type":"integer","mutable":false},
			"e":{"type":"string","ephemeral":true},"m":{"type":"string","mutable":true}},
			"maxRows":1,"isRoot":true,"indexes":[["name"],["name","n"]]},
		"B":{"columns":{"x":{"type":"string"}},"isRoot":false}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "D" || d.Version != "2.10.3" || d.Cksum != "123 45" {
		t.Errorf("database header = %q %q %q", d.Name, d.Version, d.Cksum)
	}
	a := d.Table("A")
	if a.Name != "A" || a.MaxRows != 1 || !a.IsRoot {
		t.Errorf("table A = %+v", a)
	}
	if want := [][]string{{"name"}, {"name", "n"}}; !reflect.DeepEqual(a.Indexes, want) {
		t.Errorf("indexes = %v, want %v", a.Indexes, want)
	}
	if a.Column("n").Mutable || !a.Column("m").Mutable || !a.Column("name").Mutable {
		t.Error("mutable not parsed or defaulted")
	}
	if !a.Column("e").Ephemeral || a.Column("name").Ephemeral {
		t.Error("ephemeral not parsed")
	}
	if b := d.Table("B"); b.MaxRows != 0 || b.IsRoot || b.Indexes != nil {
		t.Errorf("table B = %+v", b)
	}
	if d.Table("nope") != nil || a.Column("nope") != nil {
		t.Error("absent table or column is not nil")
	}
	if got := a.ColumnNames(); !reflect.DeepEqual(got, []string{"e", "m", "n", "name"}) {
		t.Errorf("ColumnNames = %v", got)
	}
	if got := d.TableNames(); !reflect.DeepEqual(got, []string{"A", "B"}) {
		t.Errorf("TableNames = %v", got)
	}
	for _, name := range []string{"_uuid", "_version"} {
		c := a.Column(name)
		if c == nil || c.Name != name || c.Type.Key.Type != UUID || !c.Type.IsScalar() || c.Mutable {
			t.Errorf("implicit column %s = %+v", name, c)
		}
		if _, declared := a.Columns[name]; declared {
			t.Errorf("implicit column %s is in Columns", name)
		}
	}
	if !d.IsRootTable("A") || d.IsRootTable("B") || d.IsRootTable("nope") {
		t.Error("IsRootTable wrong when some table is root")
	}
	roundTrip(t, d)
}

func TestIsRootTableCompat(t *testing.T) {
	d, err := Parse([]byte(`{"name":"D","version":"1.0.0","tables":{
		"A":{"columns":{"x":{"type":"string"}}},"B":{"columns":{"x":{"type":"string"}},"isRoot":false}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !d.IsRootTable("A") || !d.IsRootTable("B") {
		t.Error("with no isRoot anywhere every table must be a root table")
	}
}

func TestParseErrors(t *testing.T) {
	db := func(tables string) string { return `{"name":"D","version":"1.0.0","tables":{` + tables + `}}` }
	tests := []struct {
		name, doc, want string
	}{
		{"not json", `{`, "unexpected end"},
		{"not an object", `[]`, "expected a JSON object"},
		{"unknown db member", `{"name":"D","version":"1.0.0","tables":{},"x":1}`, `unknown member "x"`},
		{"missing name", `{"version":"1.0.0","tables":{}}`, `missing member "name"`},
		{"bad name", `{"name":"1D","version":"1.0.0","tables":{}}`, "not an identifier"},
		{"missing version", `{"name":"D","tables":{}}`, `missing member "version"`},
		{"bad version", `{"name":"D","version":"1.0","tables":{}}`, "x.y.z"},
		{"cksum not string", `{"name":"D","version":"1.0.0","cksum":1,"tables":{}}`, "cksum: expected a string"},
		{"missing tables", `{"name":"D","version":"1.0.0"}`, `missing member "tables"`},
		{"reserved table name", db(`"_T":{"columns":{"x":{"type":"string"}}}`), "reserved"},
		{"no columns member", db(`"T":{}`), `table "T": missing member "columns"`},
		{"empty columns", db(`"T":{"columns":{}}`), "at least one column"},
		{"unknown table member", db(`"T":{"columns":{"x":{"type":"string"}},"root":true}`), `unknown member "root"`},
		{"reserved column name", db(`"T":{"columns":{"_uuid":{"type":"uuid"}}}`), `column "_uuid": names beginning`},
		{"missing type", db(`"T":{"columns":{"x":{}}}`), `column "x": missing member "type"`},
		{"unknown column member", db(`"T":{"columns":{"x":{"type":"string","default":1}}}`), `unknown member "default"`},
		{"ephemeral not bool", db(`"T":{"columns":{"x":{"type":"string","ephemeral":"yes"}}}`), "ephemeral: expected a boolean"},
		{"mutable not bool", db(`"T":{"columns":{"x":{"type":"string","mutable":1}}}`), "mutable: expected a boolean"},
		{"unknown atomic type", db(`"T":{"columns":{"x":{"type":"text"}}}`), `unknown atomic type "text"`},
		{"unknown key type", db(`"T":{"columns":{"x":{"type":{"key":{"type":"int"}}}}}`), `key: unknown atomic type "int"`},
		{"type is a number", db(`"T":{"columns":{"x":{"type":5}}}`), "expected a JSON object"},
		{"missing key", db(`"T":{"columns":{"x":{"type":{"min":0}}}}`), `missing member "key"`},
		{"min 2", db(`"T":{"columns":{"x":{"type":{"key":"string","min":2,"max":3}}}}`), "neither 0 nor 1"},
		{"min negative", db(`"T":{"columns":{"x":{"type":{"key":"string","min":-1}}}}`), "neither 0 nor 1"},
		{"max 0", db(`"T":{"columns":{"x":{"type":{"key":"string","min":0,"max":0}}}}`), "not a positive"},
		{"max word", db(`"T":{"columns":{"x":{"type":{"key":"string","max":"many"}}}}`), `"many" is neither`},
		{"max real", db(`"T":{"columns":{"x":{"type":{"key":"string","max":1.5}}}}`), "not a 64-bit integer"},
		{"min as string", db(`"T":{"columns":{"x":{"type":{"key":"string","min":"0"}}}}`), "expected a number"},
		{"value unknown", db(`"T":{"columns":{"x":{"type":{"key":"string","value":"map"}}}}`), `value: unknown atomic type`},
		{"base missing type", db(`"T":{"columns":{"x":{"type":{"key":{"enum":"a"}}}}}`), `missing member "type"`},
		{"base unknown member", db(`"T":{"columns":{"x":{"type":{"key":{"type":"string","pattern":"a"}}}}}`), `unknown member "pattern"`},
		{"minInteger on string", db(`"T":{"columns":{"x":{"type":{"key":{"type":"string","minInteger":1}}}}}`), "minInteger is not allowed"},
		{"maxLength on integer", db(`"T":{"columns":{"x":{"type":{"key":{"type":"integer","maxLength":1}}}}}`), "maxLength is not allowed"},
		{"refTable on string", db(`"T":{"columns":{"x":{"type":{"key":{"type":"string","refTable":"T"}}}}}`), "refTable is not allowed"},
		{"inverted integer range", db(`"T":{"columns":{"x":{"type":{"key":{"type":"integer","minInteger":5,"maxInteger":4}}}}}`), "greater than maxInteger"},
		{"inverted real range", db(`"T":{"columns":{"x":{"type":{"key":{"type":"real","minReal":5,"maxReal":4}}}}}`), "greater than maxReal"},
		{"inverted length", db(`"T":{"columns":{"x":{"type":{"key":{"type":"string","minLength":5,"maxLength":4}}}}}`), "greater than maxLength"},
		{"negative length", db(`"T":{"columns":{"x":{"type":{"key":{"type":"string","minLength":-1}}}}}`), "out of range"},
		{"integer range real", db(`"T":{"columns":{"x":{"type":{"key":{"type":"integer","minInteger":0.5}}}}}`), "not a 64-bit integer"},
		{"refType without refTable", db(`"T":{"columns":{"x":{"type":{"key":{"type":"uuid","refType":"weak"}}}}}`), "refType requires refTable"},
		{"bad refType", db(`"T":{"columns":{"x":{"type":{"key":{"type":"uuid","refTable":"T","refType":"soft"}}}}}`), `"soft" is neither`},
		{"missing refTable", db(`"T":{"columns":{"x":{"type":{"key":{"type":"uuid","refTable":"Nope"}}}}}`), `table "T" column "x": refTable "Nope" does not exist`},
		{"missing value refTable", db(`"T":{"columns":{"x":{"type":{"key":"string","value":{"type":"uuid","refTable":"Nope"}}}}}`), `refTable "Nope" does not exist`},
		{"enum wrong atom type", db(`"T":{"columns":{"x":{"type":{"key":{"type":"integer","enum":["set",["a"]]}}}}}`), "expected a number"},
		{"enum bad tag", db(`"T":{"columns":{"x":{"type":{"key":{"type":"string","enum":["map",[]]}}}}}`), "expected an atom"},
		{"enum empty", db(`"T":{"columns":{"x":{"type":{"key":{"type":"string","enum":["set",[]]}}}}}`), "at least one value"},
		{"enum duplicate", db(`"T":{"columns":{"x":{"type":{"key":{"type":"string","enum":["set",["a","a"]]}}}}}`), "appears twice"},
		{"enum bad uuid", db(`"T":{"columns":{"x":{"type":{"key":{"type":"uuid","enum":["uuid","x"]}}}}}`), "not a uuid"},
		{"maxRows zero", db(`"T":{"columns":{"x":{"type":"string"}},"maxRows":0}`), "maxRows"},
		{"isRoot string", db(`"T":{"columns":{"x":{"type":"string"}},"isRoot":"true"}`), "isRoot: expected a boolean"},
		{"index not array", db(`"T":{"columns":{"x":{"type":"string"}},"indexes":["x"]}`), "expected a JSON array"},
		{"index empty", db(`"T":{"columns":{"x":{"type":"string"}},"indexes":[[]]}`), "at least one column"},
		{"index unknown column", db(`"T":{"columns":{"x":{"type":"string"}},"indexes":[["y"]]}`), `column "y" does not exist`},
		{"index ephemeral", db(`"T":{"columns":{"x":{"type":"string","ephemeral":true}},"indexes":[["x"]]}`), "may not be indexed"},
		{"index duplicate", db(`"T":{"columns":{"x":{"type":"string"}},"indexes":[["x","x"]]}`), "appears twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want error containing %q", d, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestUnmarshalJSON(t *testing.T) {
	var d Database
	if err := json.Unmarshal([]byte(oneColumn(`"string"`)), &d); err != nil {
		t.Fatal(err)
	}
	if d.Table("T").Column("c") == nil {
		t.Error("column c missing after Unmarshal")
	}
	if err := json.Unmarshal([]byte(`{"name":"D"}`), &d); err == nil {
		t.Error("Unmarshal of an invalid schema succeeded")
	}
}

func TestMarshalIsCompact(t *testing.T) {
	d, err := Parse([]byte(oneColumn(`{"key":{"type":"uuid","refTable":"R","refType":"strong"},"min":1,"max":1}`)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	// Defaults are left out, and a plain string column is written in its bare form.
	want := `{"name":"D","version":"1.0.0","tables":{"R":{"columns":{"x":{"type":"string"}}},` +
		`"T":{"columns":{"c":{"type":{"key":{"type":"uuid","refTable":"R"},"min":1,"max":1}}}}}}`
	if string(out) != want {
		t.Errorf("marshal =\n%s\nwant\n%s", out, want)
	}
}

// roundTrip checks that marshalling d and parsing the result gives d back.
func roundTrip(t *testing.T, d *Database) {
	t.Helper()
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("parse marshalled schema: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(back, d) {
		t.Errorf("round trip changed the schema:\nbefore %#v\nafter  %#v\njson %s", d, back, out)
	}
}
