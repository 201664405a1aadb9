/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Pod annotations.
//
// A pod describes each of its interfaces with annotations. The primary interface (eth0) uses
// the "cni.iaas.yusur.io/<key>" form from the product specification; every other interface,
// attached through Multus (k8s.v1.cni.cncf.io/networks), uses "<ifname>.iaas.yusur.io/<key>":
//
//	k8s.v1.cni.cncf.io/networks: yusur-vf@eth1
//	cni.iaas.yusur.io/subnet: ovn-default      # eth0 joins subnet ovn-default
//	eth1.iaas.yusur.io/subnet: subnet1         # eth1 joins subnet1
//	eth1.iaas.yusur.io/vnicip: vnicip-1        # with the address of VnicIp vnicip-1
//	cni.iaas.yusur.io/ingress_rate: "100"      # eth0: at most 100 Mbit/s in
//	cni.iaas.yusur.io/egress_rate: "200"       #       and 200 Mbit/s out
//	eth1.iaas.yusur.io/ingress_rate: "500"
//
// Users write the request keys (subnet, vnicip, rates, nic_type, security_groups). The
// controller answers with one allocation key per interface, which the CNI waits for: the
// same two forms, key "allocation", holding an Allocation as JSON. Keeping the answer per
// interface means secondary interfaces are allocated independently, and a pod without
// Multus only ever sees the cni.iaas.yusur.io form.
//
// The per-interface prefix must be a valid DNS subdomain, so interface names used this way
// are lowercase letters, digits, '-' and '.' (what Multus users write: eth1, net1).
const (
	// PrimaryInterface is the pod's default interface, described by the cni.* keys.
	PrimaryInterface = "eth0"

	// PrimaryAnnotationPrefix is the prefix of the primary interface's keys.
	PrimaryAnnotationPrefix = "cni.iaas.yusur.io"
	// InterfaceAnnotationDomain follows "<ifname>." in a secondary interface's keys.
	InterfaceAnnotationDomain = "iaas.yusur.io"

	// KeySubnet names the Subnet the interface joins.
	KeySubnet = "subnet"
	// KeyVnicIp names a VnicIp (pod namespace) whose address the interface uses.
	KeyVnicIp = "vnicip"
	// KeyIngressRate limits traffic towards the interface, in Mbit/s (decimal string).
	KeyIngressRate = "ingress_rate"
	// KeyEgressRate limits traffic the interface sends, in Mbit/s (decimal string).
	KeyEgressRate = "egress_rate"
	// KeyNicType selects the interface type: veth, vf, sf, vdpa or shared (NicType).
	KeyNicType = "nic_type"
	// KeySecurityGroups lists SecurityGroups for the interface's Vnic, comma-separated.
	KeySecurityGroups = "security_groups"
	// KeyAllocation holds the controller's Allocation (JSON) for the interface.
	KeyAllocation = "allocation"

	AnnotationSubnet         = PrimaryAnnotationPrefix + "/" + KeySubnet
	AnnotationVnicIp         = PrimaryAnnotationPrefix + "/" + KeyVnicIp
	AnnotationIngressRate    = PrimaryAnnotationPrefix + "/" + KeyIngressRate
	AnnotationEgressRate     = PrimaryAnnotationPrefix + "/" + KeyEgressRate
	AnnotationNicType        = PrimaryAnnotationPrefix + "/" + KeyNicType
	AnnotationSecurityGroups = PrimaryAnnotationPrefix + "/" + KeySecurityGroups
	AnnotationAllocation     = PrimaryAnnotationPrefix + "/" + KeyAllocation

	// JoinAllocationAnnotation on a Node holds the Allocation of the node's management port
	// on the join subnet: the controller writes it, ycloud-cni on the node plumbs the port.
	JoinAllocationAnnotation = "iaas.yusur.io/join-allocation"

	// ICGatewayLabel = "true" on a Node makes it an OVN interconnect gateway candidate:
	// ycloud-cni on the node sets OVS external_ids:ovn-is-interconn from it, and ycloud-ic's
	// default gateway selector picks nodes by it.
	ICGatewayLabel = "iaas.yusur.io/ic-gateway"

	// MultusNetworksAnnotation lists the secondary networks ("yusur-vf@eth1").
	MultusNetworksAnnotation = "k8s.v1.cni.cncf.io/networks"

	// MaxRateMbps bounds a rate annotation, as QoS does in the schema (1 Tbit/s).
	MaxRateMbps = 1000000
)

// isPrimary reports whether ifName is described by the cni.* keys.
func isPrimary(ifName string) bool {
	return ifName == "" || ifName == PrimaryInterface
}

// InterfaceAnnotationKey returns the annotation key of key for interface ifName:
// "cni.iaas.yusur.io/<key>" for the primary interface ("" or "eth0"), otherwise
// "<ifName>.iaas.yusur.io/<key>".
func InterfaceAnnotationKey(ifName, key string) string {
	if isPrimary(ifName) {
		return PrimaryAnnotationPrefix + "/" + key
	}
	return ifName + "." + InterfaceAnnotationDomain + "/" + key
}

// AllocationAnnotationKey is InterfaceAnnotationKey(ifName, KeyAllocation).
func AllocationAnnotationKey(ifName string) string {
	return InterfaceAnnotationKey(ifName, KeyAllocation)
}

// ParseInterfaceAnnotationKey splits an annotation key of either form into the interface
// name (PrimaryInterface for the cni.* form) and the key. ok is false for any other key,
// so callers can range over all of a pod's annotations.
func ParseInterfaceAnnotationKey(annotation string) (ifName, key string, ok bool) {
	prefix, key, found := strings.Cut(annotation, "/")
	if !found || key == "" || strings.Contains(key, "/") {
		return "", "", false
	}
	if prefix == PrimaryAnnotationPrefix {
		return PrimaryInterface, key, true
	}
	ifName, found = strings.CutSuffix(prefix, "."+InterfaceAnnotationDomain)
	// "cni" is the primary form's own label, never an interface.
	if !found || ifName == "" || ifName == "cni" {
		return "", "", false
	}
	return ifName, key, true
}

// LookupInterfaceAnnotation returns the value of key for interface ifName. For the primary
// interface the cni.* form wins over "eth0.iaas.yusur.io/<key>", which is accepted too so a
// user who writes every interface the same way is not silently ignored.
func LookupInterfaceAnnotation(annotations map[string]string, ifName, key string) (string, bool) {
	if v, ok := annotations[InterfaceAnnotationKey(ifName, key)]; ok {
		return v, true
	}
	if isPrimary(ifName) {
		v, ok := annotations[PrimaryInterface+"."+InterfaceAnnotationDomain+"/"+key]
		return v, ok
	}
	return "", false
}

// ParseRate parses a rate annotation value: a decimal number of Mbit/s, 0 meaning no limit.
func ParseRate(value string) (int32, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return 0, errors.New("rate is empty")
	}
	for _, r := range v {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("rate %q: want a whole number of Mbit/s", value)
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > MaxRateMbps {
		return 0, fmt.Errorf("rate %q: want at most %d Mbit/s", value, MaxRateMbps)
	}
	return int32(n), nil
}

// PodInterfaceObjectName is the name of the Nic, Vnic and VnicIp the controller creates for
// interface ifName of a pod: "<pod>.<ifname>" ("pod3.eth1", as in the product's examples).
// The name is deterministic, so a create that fails with AlreadyExists means another worker
// (or an earlier attempt) got there first. Names that would exceed 253 characters keep a
// hash of the full pod name, so two long names never collide.
func PodInterfaceObjectName(podName, ifName string) string {
	if ifName == "" {
		ifName = PrimaryInterface
	}
	ifName = strings.ToLower(ifName)
	ifName = strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			return r
		}
		return '-'
	}, ifName)
	name := podName + "." + ifName
	const maxName = 253
	if len(name) <= maxName {
		return name
	}
	sum := sha256.Sum256([]byte(podName))
	hash := hex.EncodeToString(sum[:])[:10]
	keep := maxName - len(ifName) - len(hash) - 2
	return strings.TrimRight(podName[:keep], "-.") + "-" + hash + "." + ifName
}

// Allocation is what the controller decided for one pod interface, stored as JSON in the
// interface's allocation annotation. The CNI configures the interface from it alone.
//
// Example:
//
//	{"ips":["10.0.0.5/24","fd00::5/120"],"gateways":["10.0.0.1","fd00::1"],
//	 "mac":"0a:58:0a:00:00:05","mtu":1400,"subnet":"subnet1","vpc":"vpc1",
//	 "logicalSwitchPort":"default.pod1.eth0","vnicIp":"pod1.eth0","nicType":"veth"}
//
// Fields may be added over time; readers ignore the ones they do not know.
//
// +kubebuilder:object:generate=false
type Allocation struct {
	// IPs are the interface's addresses with the subnet's prefix length, at most one per
	// family.
	IPs []netip.Prefix `json:"ips"`
	// Gateways are the default gateways, one per family of IPs; none for a subnet without
	// a gateway route.
	Gateways []netip.Addr `json:"gateways,omitempty"`
	// MAC of the interface ("0a:58:0a:00:00:05").
	MAC string `json:"mac"`
	// MTU of the interface; 0 means the CNI's default.
	MTU int `json:"mtu,omitempty"`
	// Subnet and Vpc the interface is on.
	Subnet string `json:"subnet"`
	Vpc    string `json:"vpc"`
	// LogicalSwitchPort is the OVN port; the CNI sets it as the OVS iface-id.
	LogicalSwitchPort string `json:"logicalSwitchPort"`
	// VnicIp and Vnic name the objects (pod namespace; the Vnic of a shared nic is the
	// node's shared Vnic, "namespace/name").
	VnicIp string `json:"vnicIp,omitempty"`
	Vnic   string `json:"vnic,omitempty"`
	// NicType of the interface; empty means veth.
	NicType NicType `json:"nicType,omitempty"`
	// Routes beyond the default route.
	Routes []AllocationRoute `json:"routes,omitempty"`
}

// AllocationRoute is one extra route of an interface.
//
// +kubebuilder:object:generate=false
type AllocationRoute struct {
	// Dst is the destination network.
	Dst netip.Prefix `json:"dst"`
	// Via is the next hop; unset means on-link.
	Via netip.Addr `json:"via,omitzero"`
}

// Validate checks what the CNI relies on: at least one address and at most one per family,
// gateways and routes of those families, a unicast Ethernet MAC and a port name.
func (a *Allocation) Validate() error {
	if len(a.IPs) == 0 || len(a.IPs) > 2 {
		return fmt.Errorf("allocation needs one or two ips, got %d", len(a.IPs))
	}
	families := map[bool]bool{}
	for _, p := range a.IPs {
		if !p.IsValid() || p.Addr().Is4In6() {
			return fmt.Errorf("allocation ip %v: want an IPv4 or IPv6 prefix", p)
		}
		if families[p.Addr().Is4()] {
			return fmt.Errorf("allocation ips %v: two addresses of the same family", a.IPs)
		}
		families[p.Addr().Is4()] = true
	}
	gwFamilies := map[bool]bool{}
	for _, g := range a.Gateways {
		if !g.IsValid() || !families[g.Is4()] {
			return fmt.Errorf("allocation gateway %v: no address of its family", g)
		}
		if gwFamilies[g.Is4()] {
			return fmt.Errorf("allocation gateways %v: two of the same family", a.Gateways)
		}
		gwFamilies[g.Is4()] = true
	}
	for _, r := range a.Routes {
		if !r.Dst.IsValid() || !families[r.Dst.Addr().Is4()] {
			return fmt.Errorf("allocation route %v: no address of its family", r.Dst)
		}
		if r.Via.IsValid() && r.Via.Is4() != r.Dst.Addr().Is4() {
			return fmt.Errorf("allocation route %v via %v: mixed families", r.Dst, r.Via)
		}
	}
	mac, err := net.ParseMAC(a.MAC)
	if err != nil || len(mac) != 6 {
		return fmt.Errorf("allocation mac %q: want an Ethernet address", a.MAC)
	}
	if mac[0]&1 != 0 {
		return fmt.Errorf("allocation mac %q is multicast", a.MAC)
	}
	if a.LogicalSwitchPort == "" {
		return errors.New("allocation has no logicalSwitchPort")
	}
	if a.MTU < 0 || (a.MTU > 0 && a.MTU < 576) || a.MTU > 9000 {
		return fmt.Errorf("allocation mtu %d: want 0 (default) or 576..9000", a.MTU)
	}
	return nil
}

// ParseAllocation decodes and validates an allocation annotation value.
func ParseAllocation(value string) (*Allocation, error) {
	a := &Allocation{}
	if err := json.Unmarshal([]byte(value), a); err != nil {
		return nil, fmt.Errorf("allocation annotation: %w", err)
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// FormatAllocation validates a and encodes it for the allocation annotation.
func FormatAllocation(a *Allocation) (string, error) {
	if err := a.Validate(); err != nil {
		return "", err
	}
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("allocation annotation: %w", err)
	}
	return string(b), nil
}
