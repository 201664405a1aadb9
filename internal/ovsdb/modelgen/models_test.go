package modelgen_test

import (
	"reflect"
	"testing"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icnb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icsb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/sb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/schema"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/vswitch"
)

// These tests check the generated packages themselves, by reflection, against the
// contract the OVSDB client relies on. They re-derive every expectation from the
// schema instead of calling the generator, so a generator bug cannot hide itself.

type generated struct {
	pkg          string
	databaseName string
	wantTables   int
	schema       func() *schema.Database
	models       func() []any
}

var packages = []generated{
	{"nb", nb.DatabaseName, 30, nb.Schema, nb.Models},
	{"sb", sb.DatabaseName, 34, sb.Schema, sb.Models},
	{"icnb", icnb.DatabaseName, 4, icnb.Schema, icnb.Models},
	{"icsb", icsb.DatabaseName, 9, icsb.Schema, icsb.Models},
	{"vswitch", vswitch.DatabaseName, 19, vswitch.Schema, vswitch.Models},
}

// atomType is the Go type the contract gives an atomic type.
func atomType(t schema.AtomicType) reflect.Type {
	switch t {
	case schema.Integer:
		return reflect.TypeFor[int]()
	case schema.Real:
		return reflect.TypeFor[float64]()
	case schema.Boolean:
		return reflect.TypeFor[bool]()
	}
	return reflect.TypeFor[string]()
}

// columnType is the Go type the contract gives a column.
func columnType(ct schema.ColumnType) reflect.Type {
	key := atomType(ct.Key.Type)
	switch {
	case ct.Value != nil:
		return reflect.MapOf(key, atomType(ct.Value.Type))
	case ct.Min == 1 && ct.Max == 1:
		return key
	case ct.Min == 0 && ct.Max == 1:
		return reflect.PointerTo(key)
	}
	return reflect.SliceOf(key)
}

func TestModelsMatchSchema(t *testing.T) {
	for _, p := range packages {
		t.Run(p.pkg, func(t *testing.T) {
			db := p.schema()
			if db == nil || db.Name != p.databaseName {
				t.Fatalf("Schema() = %v, want database %q", db, p.databaseName)
			}
			if p.schema() != db {
				t.Error("Schema() parses again on every call; it must be parsed once")
			}
			models := p.models()
			tables := db.TableNames()
			if len(models) != p.wantTables || len(tables) != p.wantTables {
				t.Fatalf("%d models for %d tables, want %d", len(models), len(tables), p.wantTables)
			}
			for i, m := range models {
				checkModel(t, db, tables[i], m)
			}
		})
	}
}

func checkModel(t *testing.T, db *schema.Database, table string, m any) {
	t.Helper()
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Pointer || !v.IsNil() || v.Type().Elem().Kind() != reflect.Struct {
		t.Errorf("model for %s is %T, want a typed nil pointer to a struct", table, m)
		return
	}
	tabler, ok := m.(interface{ Table() string })
	if !ok || tabler.Table() != table {
		t.Errorf("%T: Table() does not return %q (models must be in table name order)", m, table)
		return
	}
	st := v.Type().Elem()
	cols := db.Table(table).ColumnNames()
	if st.NumField() != len(cols)+1 {
		t.Errorf("%s has %d fields, want _uuid + %d columns", st.Name(), st.NumField(), len(cols))
	}
	uuid := st.Field(0)
	if uuid.Name != "UUID" || uuid.Type != reflect.TypeFor[string]() || uuid.Tag.Get("ovsdb") != "_uuid" {
		t.Errorf("%s: first field is %s %s %q, want UUID string `ovsdb:\"_uuid\"`", st.Name(), uuid.Name, uuid.Type, uuid.Tag)
	}
	for i, cn := range cols {
		if i+1 >= st.NumField() {
			break
		}
		f := st.Field(i + 1)
		if f.Tag.Get("ovsdb") != cn {
			t.Errorf("%s field %d (%s) has tag %q, want %q (columns sorted by name)", st.Name(), i+1, f.Name, f.Tag.Get("ovsdb"), cn)
			continue
		}
		if !f.IsExported() {
			t.Errorf("%s.%s is not exported", st.Name(), f.Name)
		}
		if want := columnType(db.Table(table).Column(cn).Type); f.Type != want {
			t.Errorf("%s.%s (column %s) has type %s, want %s", st.Name(), f.Name, cn, f.Type, want)
		}
	}
	pt := v.Type()
	for name, want := range map[string]reflect.Type{
		"DeepCopy":     reflect.FuncOf([]reflect.Type{pt}, []reflect.Type{pt}, false),
		"DeepCopyInto": reflect.FuncOf([]reflect.Type{pt, pt}, nil, false),
		"Equals":       reflect.FuncOf([]reflect.Type{pt, pt}, []reflect.Type{reflect.TypeFor[bool]()}, false),
		"Table":        reflect.FuncOf([]reflect.Type{pt}, []reflect.Type{reflect.TypeFor[string]()}, false),
	} {
		meth, ok := pt.MethodByName(name)
		if !ok || meth.Type != want {
			t.Errorf("%s: method %s missing or not %s", pt, name, want)
		}
	}
}

// fill sets every field of the struct behind ptr to a non-zero value derived from
// seed, so two fills with different seeds differ in every field.
func fill(ptr reflect.Value, seed int) {
	s := ptr.Elem()
	for i := range s.NumField() {
		setValue(s.Field(i), seed)
	}
}

func setValue(v reflect.Value, seed int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("v" + string(rune('a'+seed)))
	case reflect.Int:
		v.SetInt(int64(100 + seed))
	case reflect.Float64:
		v.SetFloat(1.5 + float64(seed))
	case reflect.Bool:
		v.SetBool(seed%2 == 0)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		setValue(p.Elem(), seed)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		setValue(s.Index(0), seed)
		setValue(s.Index(1), seed+2)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range []int{seed, seed + 2} {
			key, val := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			setValue(key, k)
			setValue(val, k)
			m.SetMapIndex(key, val)
		}
		v.Set(m)
	}
}

// mutateInPlace changes the value reachable through v without replacing v itself:
// the pointee of a pointer, an element of a slice, an entry of a map. If the copy
// shared memory with the original, the original would change too.
func mutateInPlace(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		setValue(v.Elem(), 9)
	case reflect.Slice:
		setValue(v.Index(0), 9)
	case reflect.Map:
		key := v.MapKeys()[0]
		val := reflect.New(v.Type().Elem()).Elem()
		setValue(val, 9)
		v.SetMapIndex(key, val)
	default:
		setValue(v, 9)
	}
}

func call(ptr reflect.Value, method string, args ...reflect.Value) reflect.Value {
	return ptr.MethodByName(method).Call(args)[0]
}

func TestDeepCopyAndEqualsEveryModel(t *testing.T) {
	for _, p := range packages {
		for _, m := range p.models() {
			st := reflect.TypeOf(m).Elem()
			t.Run(p.pkg+"."+st.Name(), func(t *testing.T) {
				orig := reflect.New(st)
				fill(orig, 0)
				want := reflect.New(st)
				fill(want, 0)

				cp := call(orig, "DeepCopy")
				if cp.Pointer() == orig.Pointer() {
					t.Fatal("DeepCopy returned the same pointer")
				}
				if !reflect.DeepEqual(cp.Interface(), orig.Interface()) || !call(orig, "Equals", cp).Bool() || !call(cp, "Equals", orig).Bool() {
					t.Fatal("the copy is not equal to the original")
				}
				for i := range st.NumField() {
					f := st.Field(i)
					// A fresh original per field, so one failure does not cascade.
					orig := reflect.New(st)
					fill(orig, 0)
					cp := call(orig, "DeepCopy")
					mutateInPlace(cp.Elem().Field(i))
					if !reflect.DeepEqual(orig.Interface(), want.Interface()) {
						t.Errorf("changing the copy's %s changed the original", f.Name)
					}
					if call(orig, "Equals", cp).Bool() || call(cp, "Equals", orig).Bool() {
						t.Errorf("Equals ignores a difference in %s", f.Name)
					}
				}
				other := reflect.New(st)
				orig.MethodByName("DeepCopyInto").Call([]reflect.Value{other})
				if !call(other, "Equals", orig).Bool() {
					t.Error("DeepCopyInto does not produce an equal row")
				}
				null := reflect.Zero(reflect.PointerTo(st))
				if !call(null, "DeepCopy").IsNil() {
					t.Error("DeepCopy of nil is not nil")
				}
				if call(null, "Equals", orig).Bool() || call(orig, "Equals", null).Bool() || !call(null, "Equals", null).Bool() {
					t.Error("Equals is not nil-safe: nil must equal nil only")
				}
			})
		}
	}
}

func TestEqualsHasOVSDBSemantics(t *testing.T) {
	a := &nb.LogicalSwitch{UUID: "u", Name: "ls", Ports: []string{"p1", "p2", "p3"}}
	b := &nb.LogicalSwitch{UUID: "u", Name: "ls", Ports: []string{"p3", "p1", "p2"}, ACLs: []string{}, ExternalIDs: map[string]string{}}
	if !a.Equals(b) || !b.Equals(a) {
		t.Error("sets in another order, or empty instead of absent, must be equal")
	}
	b.Ports = []string{"p1", "p1", "p2"}
	if a.Equals(b) || b.Equals(a) {
		t.Error("sets with different elements of the same length must differ")
	}
	b.Ports = []string{"p1", "p2"}
	if a.Equals(b) {
		t.Error("sets of different sizes must differ")
	}

	yes, no := true, false
	p := &nb.LogicalSwitchPort{Name: "p", Enabled: &yes}
	q := &nb.LogicalSwitchPort{Name: "p", Enabled: &no}
	r := &nb.LogicalSwitchPort{Name: "p"}
	if p.Equals(q) || p.Equals(r) || r.Equals(p) {
		t.Error("optional values: true, false and absent must all differ")
	}
	q.Enabled = new(bool)
	*q.Enabled = true
	if !p.Equals(q) {
		t.Error("optional values holding equal values through different pointers must be equal")
	}

	c := p.DeepCopy()
	c.Addresses = append(c.Addresses, "00:00:00:00:00:01 10.0.0.1")
	*c.Enabled = false
	if len(p.Addresses) != 0 || !*p.Enabled {
		t.Error("changing the copy changed the original")
	}
}

// TestNamesClientsUse pins generated names other packages are written against; a
// rename would break them, so it must be a deliberate change here too.
func TestNamesClientsUse(t *testing.T) {
	pins := []struct{ got, want string }{
		{nb.LogicalSwitchTable, "Logical_Switch"},
		{nb.LogicalSwitchPortTable, "Logical_Switch_Port"},
		{nb.NBGlobalTable, "NB_Global"},
		{nb.HAChassisGroupTable, "HA_Chassis_Group"},
		{nb.DHCPOptionsTable, "DHCP_Options"},
		{nb.QoSTable, "QoS"},
		{nb.ACLActionAllowRelated, "allow-related"},
		{nb.ACLDirectionFromLport, "from-lport"},
		{nb.NATTypeDNATAndSNAT, "dnat_and_snat"},
		{nb.LogicalSwitchPortTypeRouter, "router"},
		{sb.ChassisPrivateTable, "Chassis_Private"},
		{icnb.TransitSwitchTable, "Transit_Switch"},
		{icsb.RouteOriginConnected, "connected"},
		{vswitch.OpenvSwitchTable, "Open_vSwitch"},
		{vswitch.IPFIXTable, "IPFIX"},
		{vswitch.SSLTable, "SSL"},
		{sb.BFDTable, "BFD"},
		{(*nb.ACL)(nil).Table(), "ACL"},
		{nb.DatabaseName, "OVN_Northbound"},
		{sb.DatabaseName, "OVN_Southbound"},
		{icnb.DatabaseName, "OVN_IC_Northbound"},
		{icsb.DatabaseName, "OVN_IC_Southbound"},
		{vswitch.DatabaseName, "Open_vSwitch"},
	}
	for _, p := range pins {
		if p.got != p.want {
			t.Errorf("got %q, want %q", p.got, p.want)
		}
	}
	lsp := reflect.TypeFor[nb.LogicalSwitchPort]()
	for field, tag := range map[string]string{
		"ExternalIDs": "external_ids", "PortSecurity": "port_security", "TagRequest": "tag_request",
		"HAChassisGroup": "ha_chassis_group", "DHCPv4Options": "dhcpv4_options", "Up": "up",
	} {
		f, ok := lsp.FieldByName(field)
		if !ok || f.Tag.Get("ovsdb") != tag {
			t.Errorf("LogicalSwitchPort.%s missing or not tagged %q", field, tag)
		}
	}
	if nb.SchemaVersion != "7.0.0" || vswitch.SchemaVersion != "8.3.1" {
		t.Errorf("SchemaVersion = %s/%s, want 7.0.0/8.3.1", nb.SchemaVersion, vswitch.SchemaVersion)
	}
}
