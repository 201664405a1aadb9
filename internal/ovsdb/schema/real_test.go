package schema

import (
	"os"
	"path/filepath"
	"testing"
)

// The schemas shipped by OVN 23.03 and OVS 3.1, copied into ../schemas.
func parseReal(t *testing.T, file string) *Database {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "schemas", file))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(data)
	if err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	return d
}

func TestRealSchemas(t *testing.T) {
	tests := []struct {
		file, name, version string
		tables              int
	}{
		{"ovn-nb.ovsschema", "OVN_Northbound", "7.0.0", 30},
		{"ovn-sb.ovsschema", "OVN_Southbound", "20.27.0", 34},
		{"ovn-ic-nb.ovsschema", "OVN_IC_Northbound", "1.0.0", 4},
		{"ovn-ic-sb.ovsschema", "OVN_IC_Southbound", "1.1.1", 9},
		{"vswitch.ovsschema", "Open_vSwitch", "8.3.1", 19},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			d := parseReal(t, tc.file)
			if d.Name != tc.name || d.Version != tc.version || len(d.Tables) != tc.tables {
				t.Errorf("got %s %s with %d tables, want %s %s with %d",
					d.Name, d.Version, len(d.Tables), tc.name, tc.version, tc.tables)
			}
			if d.Cksum == "" {
				t.Error("cksum not parsed")
			}
			roundTrip(t, d)
		})
	}
}

// column fetches table.column from d, failing the test when it is absent.
func column(t *testing.T, d *Database, table, col string) *Column {
	t.Helper()
	c := d.Table(table).Column(col)
	if c == nil {
		t.Fatalf("%s.%s missing", table, col)
	}
	return c
}

func TestRealNorthboundColumns(t *testing.T) {
	d := parseReal(t, "ovn-nb.ovsschema")

	addr := column(t, d, "Logical_Switch_Port", "addresses").Type
	if !addr.IsSet() || addr.Key.Type != String || addr.Min != 0 || addr.Max != Unlimited {
		t.Errorf("Logical_Switch_Port.addresses = %+v, want set of 0.. strings", addr)
	}

	gw := column(t, d, "Logical_Router_Port", "gateway_chassis").Type
	if !gw.IsSet() || gw.Key.RefTable != "Gateway_Chassis" || gw.Key.RefType != RefStrong || gw.Key.IsWeakRef() {
		t.Errorf("Logical_Router_Port.gateway_chassis = %+v, want set of strong refs to Gateway_Chassis", gw)
	}

	lb := column(t, d, "Logical_Switch", "load_balancer").Type
	if !lb.IsSet() || lb.Key.RefTable != "Load_Balancer" || !lb.Key.IsWeakRef() {
		t.Errorf("Logical_Switch.load_balancer = %+v, want set of weak refs to Load_Balancer", lb)
	}

	typ := column(t, d, "Logical_Switch_Port", "type").Type
	if !typ.IsScalar() || typ.Key.Type != String || typ.Key.Enum != nil {
		t.Errorf("Logical_Switch_Port.type = %+v, want a plain string", typ)
	}

	action := column(t, d, "ACL", "action").Type
	if !action.IsScalar() || !containsValue(action.Key.Enum, "allow-related") || !containsValue(action.Key.Enum, "drop") {
		t.Errorf("ACL.action = %+v, want a string enum with allow-related and drop", action)
	}
	prio := column(t, d, "ACL", "priority").Type.Key
	if prio.MinInteger == nil || *prio.MinInteger != 0 || prio.MaxInteger == nil || *prio.MaxInteger != 32767 {
		t.Errorf("ACL.priority = %+v, want 0..32767", prio)
	}
	name := column(t, d, "ACL", "name").Type
	if !name.IsOptional() || name.Key.MaxLength == nil || *name.Key.MaxLength != 63 {
		t.Errorf("ACL.name = %+v, want optional string of at most 63", name)
	}

	ext := column(t, d, "Logical_Switch", "external_ids").Type
	if !ext.IsMap() || ext.Key.Type != String || ext.Value.Type != String {
		t.Errorf("Logical_Switch.external_ids = %+v, want map string->string", ext)
	}

	up := column(t, d, "Logical_Switch_Port", "up").Type
	if !up.IsOptional() || up.Key.Type != Boolean {
		t.Errorf("Logical_Switch_Port.up = %+v, want optional boolean", up)
	}

	global := d.Table("NB_Global")
	if global.MaxRows != 1 || !global.IsRoot {
		t.Errorf("NB_Global maxRows=%d isRoot=%v, want 1 and root", global.MaxRows, global.IsRoot)
	}
	if d.IsRootTable("Logical_Switch_Port") || !d.IsRootTable("Logical_Switch") {
		t.Error("root tables wrong: Logical_Switch is root, Logical_Switch_Port is not")
	}
	lsp := d.Table("Logical_Switch_Port")
	if len(lsp.Indexes) != 1 || len(lsp.Indexes[0]) != 1 || lsp.Indexes[0][0] != "name" {
		t.Errorf("Logical_Switch_Port indexes = %v, want [[name]]", lsp.Indexes)
	}
}

func TestRealVswitchColumns(t *testing.T) {
	d := parseReal(t, "vswitch.ovsschema")
	ports := column(t, d, "Bridge", "ports").Type
	if !ports.IsSet() || ports.Key.RefTable != "Port" || ports.Key.IsWeakRef() {
		t.Errorf("Bridge.ports = %+v, want set of strong refs to Port", ports)
	}
	if column(t, d, "Interface", "name").Mutable {
		t.Error("Interface.name is immutable in vswitch.ovsschema")
	}
	if !column(t, d, "Bridge", "datapath_id").Ephemeral || column(t, d, "Interface", "ofport").Ephemeral {
		t.Error("in vswitch.ovsschema Bridge.datapath_id is ephemeral and Interface.ofport is not")
	}
	if !d.IsRootTable("Open_vSwitch") || d.IsRootTable("Port") {
		t.Error("root tables wrong: Open_vSwitch is root, Port is not")
	}
}

func containsValue(values []any, v any) bool {
	for _, x := range values {
		if x == v {
			return true
		}
	}
	return false
}
