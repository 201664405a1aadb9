package modelgen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// initialisms maps a lower-case word to its Go spelling (Go's naming conventions write
// initialisms in one case: ExternalIDs, not ExternalIds). Words that are not here are
// capitalised. "nb" and "sb" are deliberately absent: nb_cfg reads NbCfg, while a
// word the schema already writes in capitals (NB_Global) keeps them.
var initialisms = map[string]string{
	"acl": "ACL", "acls": "ACLs", "api": "API", "arp": "ARP", "bfd": "BFD", "ca": "CA",
	"cfm": "CFM", "cidr": "CIDR", "cpu": "CPU", "ct": "CT", "db": "DB", "dhcp": "DHCP", "dnat": "DNAT",
	"dhcpv4": "DHCPv4", "dhcpv6": "DHCPv6", "dns": "DNS", "dpdk": "DPDK", "dscp": "DSCP",
	"ecmp": "ECMP", "fdb": "FDB", "gre": "GRE", "ha": "HA", "http": "HTTP", "https": "HTTPS",
	"icmp": "ICMP", "id": "ID", "ids": "IDs", "igmp": "IGMP", "ip": "IP", "ip4": "IP4",
	"ip6": "IP6", "ipfix": "IPFIX", "ips": "IPs", "ipsec": "IPsec", "ipv4": "IPv4",
	"ipv6": "IPv6", "json": "JSON", "lacp": "LACP", "lb": "LB", "lldp": "LLDP", "mac": "MAC",
	"macs": "MACs", "mtu": "MTU", "nat": "NAT", "ovn": "OVN", "ovs": "OVS", "qos": "QoS",
	"rbac": "RBAC", "rstp": "RSTP", "sctp": "SCTP", "snat": "SNAT", "ssl": "SSL", "stp": "STP", "stt": "STT",
	"tcp": "TCP", "tls": "TLS", "ttl": "TTL", "udp": "UDP", "uri": "URI", "url": "URL",
	"uuid": "UUID", "vlan": "VLAN", "vlans": "VLANs", "vtep": "VTEP", "vxlan": "VXLAN",
}

// CamelCase turns an OVSDB name (table, column or enum value) into the words of a Go
// identifier: Logical_Switch_Port -> LogicalSwitchPort, external_ids -> ExternalIDs,
// ipv6_prefix -> IPv6Prefix, Open_vSwitch -> OpenvSwitch, allow-related -> AllowRelated.
//
// Any character other than an ASCII letter or digit separates words. A lower-case word
// is looked up in the initialisms table or capitalised; a word with capitals keeps
// them (ACL, QoS, NB); a mixed-case word that does not start the name keeps its
// lower-case first letter too (the "v" of Open_vSwitch). The result may start with a
// digit and is empty when name has no letter or digit; Ident makes it an identifier.
func CamelCase(name string) string {
	var b strings.Builder
	first := true
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return !isASCIIAlnum(r) }) {
		lower := strings.ToLower(w)
		switch {
		case w == lower && initialisms[lower] != "":
			b.WriteString(initialisms[lower])
		case w == lower || first:
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		default:
			b.WriteString(w)
		}
		first = false
	}
	return b.String()
}

// Ident turns an OVSDB table or column name into an exported Go identifier: CamelCase,
// prefixed with "X" when it would start with a digit, and spelled from the name's
// bytes in hex when it has no letter or digit at all.
func Ident(name string) string {
	id := CamelCase(name)
	switch {
	case id == "":
		return fmt.Sprintf("X%x", name)
	case unicode.IsDigit(rune(id[0])):
		return "X" + id
	}
	return id
}

// enumSuffix is the part of an enum constant's name that comes from its value.
func enumSuffix(v any) string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return "Empty"
		}
		if s := CamelCase(v); s != "" {
			return s
		}
		return fmt.Sprintf("X%x", v)
	case int64:
		if v < 0 {
			return "Minus" + strconv.FormatInt(-v, 10)
		}
		return strconv.FormatInt(v, 10)
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		s = strings.NewReplacer("-", "Minus", "+", "", ".", "p").Replace(s)
		return s
	case bool:
		if v {
			return "True"
		}
		return "False"
	}
	return fmt.Sprintf("%v", v)
}

// enumLiteral is the Go constant expression for an enum value.
func enumLiteral(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0" // keep a real constant a float, so it types as float64
		}
		return s
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprintf("%#v", v)
}

func isASCIIAlnum(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// namespace hands out unique identifiers within one scope (the package, or the fields
// and methods of one struct). Clashes are resolved by appending 2, 3, ... in the order
// names are requested; callers request them in a sorted order, so the result is
// deterministic.
type namespace map[string]bool

// claim returns id, or id with the smallest numeric suffix that is still free, and
// marks it taken.
func (ns namespace) claim(id string) string {
	candidate := id
	for n := 2; ns[candidate]; n++ {
		candidate = id + strconv.Itoa(n)
	}
	ns[candidate] = true
	return candidate
}
