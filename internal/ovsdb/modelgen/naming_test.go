package modelgen

import (
	"go/token"
	"strings"
	"testing"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/schema"
)

func TestIdent(t *testing.T) {
	tests := []struct{ in, want string }{
		// Tables.
		{"Logical_Switch", "LogicalSwitch"},
		{"NB_Global", "NBGlobal"},
		{"ACL", "ACL"},
		{"Logical_Switch_Port", "LogicalSwitchPort"},
		{"HA_Chassis_Group", "HAChassisGroup"},
		{"BFD", "BFD"},
		{"IPFIX", "IPFIX"},
		{"DHCP_Options", "DHCPOptions"},
		{"DHCPv6_Options", "DHCPv6Options"},
		{"Open_vSwitch", "OpenvSwitch"},
		{"SSL", "SSL"},
		{"QoS", "QoS"},
		{"Chassis_Private", "ChassisPrivate"},
		{"sFlow", "SFlow"},
		{"NetFlow", "NetFlow"},
		{"CT_Timeout_Policy", "CTTimeoutPolicy"},
		// Columns.
		{"external_ids", "ExternalIDs"},
		{"port_security", "PortSecurity"},
		{"_uuid", "UUID"},
		{"mac", "MAC"},
		{"ip", "IP"},
		{"ipv6_prefix", "IPv6Prefix"},
		{"tunnel_key", "TunnelKey"},
		{"nb_cfg", "NbCfg"},
		{"other_config", "OtherConfig"},
		{"ha_chassis_group", "HAChassisGroup"},
		{"dhcpv4_options", "DHCPv4Options"},
		{"ca_cert", "CACert"},
		{"ip4_addr", "IP4Addr"},
		// Odd spellings must still give valid identifiers.
		{"foo-bar", "FooBar"},
		{"foo.bar baz", "FooBarBaz"},
		{"2nd_port", "X2ndPort"},
		{"802.1q", "X8021q"},
		{"-", "X2d"},
		{"", "X"},
		{"élan", "Lan"},
	}
	for _, tc := range tests {
		if got := Ident(tc.in); got != tc.want {
			t.Errorf("Ident(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := Ident(tc.in); !token.IsIdentifier(got) || !token.IsExported(got) {
			t.Errorf("Ident(%q) = %q is not an exported identifier", tc.in, got)
		}
	}
}

func TestEnumSuffix(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"router", "Router"},
		{"allow-related", "AllowRelated"},
		{"from-lport", "FromLport"},
		{"", "Empty"},
		{"OpenFlow10", "OpenFlow10"},
		{"tcp_syn_sent2", "TCPSynSent2"},
		{"dnat_and_snat", "DNATAndSNAT"},
		{"++", "X2b2b"},
		{int64(5), "5"},
		{int64(-3), "Minus3"},
		{1.5, "1p5"},
		{true, "True"},
		{false, "False"},
	}
	for _, tc := range tests {
		if got := enumSuffix(tc.in); got != tc.want {
			t.Errorf("enumSuffix(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEnumLiteral(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"a\"b", `"a\"b"`},
		{int64(-7), "-7"},
		{2.0, "2.0"},
		{0.25, "0.25"},
		{1e300, "1e+300"},
		{true, "true"},
	}
	for _, tc := range tests {
		if got := enumLiteral(tc.in); got != tc.want {
			t.Errorf("enumLiteral(%#v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestNamespaceClaim(t *testing.T) {
	ns := namespace{"Taken": true}
	got := []string{ns.claim("Free"), ns.claim("Taken"), ns.claim("Taken"), ns.claim("Free")}
	want := []string{"Free", "Taken2", "Taken3", "Free2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("claims = %v, want %v", got, want)
	}
}

func TestGoTypeAndDescribe(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	n := func(v int) *int { return &v }
	f := func(v float64) *float64 { return &v }
	str := schema.BaseType{Type: schema.String}
	tests := []struct {
		name     string
		ct       schema.ColumnType
		kind     Kind
		goType   string
		describe string
	}{
		{"string", schema.ColumnType{Key: str, Min: 1, Max: 1}, Scalar, "string", "string"},
		{"integer range", schema.ColumnType{Key: schema.BaseType{Type: schema.Integer, MinInteger: i(0), MaxInteger: i(32767)}, Min: 1, Max: 1},
			Scalar, "int", "integer in 0..32767"},
		{"integer min", schema.ColumnType{Key: schema.BaseType{Type: schema.Integer, MinInteger: i(1)}, Min: 1, Max: 1},
			Scalar, "int", "integer in 1.."},
		{"real max", schema.ColumnType{Key: schema.BaseType{Type: schema.Real, MaxReal: f(2.5)}, Min: 1, Max: 1},
			Scalar, "float64", "real in ..2.5"},
		{"boolean", schema.ColumnType{Key: schema.BaseType{Type: schema.Boolean}, Min: 1, Max: 1}, Scalar, "bool", "boolean"},
		{"uuid", schema.ColumnType{Key: schema.BaseType{Type: schema.UUID}, Min: 1, Max: 1}, Scalar, "string", "uuid"},
		{"optional bool", schema.ColumnType{Key: schema.BaseType{Type: schema.Boolean}, Min: 0, Max: 1},
			Optional, "*bool", "optional boolean"},
		{"optional length", schema.ColumnType{Key: schema.BaseType{Type: schema.String, MaxLength: n(63)}, Min: 0, Max: 1},
			Optional, "*string", "optional string of length ..63"},
		{"optional weak ref", schema.ColumnType{Key: schema.BaseType{Type: schema.UUID, RefTable: "B", RefType: schema.RefWeak}, Min: 0, Max: 1},
			Optional, "*string", "optional weak ref to B"},
		{"set of strong refs", schema.ColumnType{Key: schema.BaseType{Type: schema.UUID, RefTable: "Logical_Switch_Port", RefType: schema.RefStrong}, Min: 0, Max: schema.Unlimited},
			Set, "[]string", "set of 0.. strong refs to Logical_Switch_Port"},
		{"bounded set of ints", schema.ColumnType{Key: schema.BaseType{Type: schema.Integer, MinInteger: i(0), MaxInteger: i(4095)}, Min: 1, Max: 4096},
			Set, "[]int", "set of 1..4096 integers in 0..4095"},
		{"enum set", schema.ColumnType{Key: schema.BaseType{Type: schema.String, Enum: []any{"a", "b"}}, Min: 0, Max: schema.Unlimited},
			Set, "[]string", `set of 0.. strings in {"a", "b"}`},
		{"map", schema.ColumnType{Key: str, Value: &str, Min: 0, Max: schema.Unlimited},
			Map, "map[string]string", "map of 0.. pairs, string -> string"},
		{"map to refs", schema.ColumnType{Key: schema.BaseType{Type: schema.Integer}, Value: &schema.BaseType{Type: schema.UUID, RefTable: "Q", RefType: schema.RefStrong}, Min: 0, Max: schema.Unlimited},
			Map, "map[int]string", "map of 0.. pairs, integer -> strong ref to Q"},
		{"map to reals", schema.ColumnType{Key: str, Value: &schema.BaseType{Type: schema.Real}, Min: 1, Max: 1},
			Map, "map[string]float64", "map of 1..1 pairs, string -> real"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := KindOf(tc.ct); got != tc.kind {
				t.Errorf("KindOf = %d, want %d", got, tc.kind)
			}
			if got := GoType(tc.ct); got != tc.goType {
				t.Errorf("GoType = %q, want %q", got, tc.goType)
			}
			if got := Describe(tc.ct); got != tc.describe {
				t.Errorf("Describe = %q, want %q", got, tc.describe)
			}
		})
	}
}
