package ovnnb

import (
	"crypto/sha256"
	"net"
)

// external_ids keys that mark a row as ours. They are indexed in the client cache.
const (
	KeyOwnerKind = "ycloud.io/owner-kind"
	KeyOwner     = "ycloud.io/owner"
	KeyCluster   = "ycloud.io/cluster"
	KeyVpc       = "ycloud.io/vpc"
	KeySubnet    = "ycloud.io/subnet"
	KeyPod       = "ycloud.io/pod"
)

// Owner kinds, the Kubernetes kind names of the objects that own rows.
const (
	KindVpc    = "Vpc"
	KindSubnet = "Subnet"
	KindVnic   = "Vnic"
	KindNode   = "Node"
)

// Owner identifies the object that owns a row.
type Owner struct {
	Kind    string
	Key     string // "name" for cluster-scoped objects, "namespace/name" otherwise
	Cluster string
}

// IDs returns the ownership external_ids, plus extra pairs.
func (o Owner) IDs(extra ...string) map[string]string {
	m := map[string]string{KeyOwnerKind: o.Kind, KeyOwner: o.Key, KeyCluster: o.Cluster}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			m[extra[i]] = extra[i+1]
		}
	}
	return m
}

// Owns reports whether a row's external_ids name this owner.
func (o Owner) Owns(ids map[string]string) bool {
	return ids[KeyOwnerKind] == o.Kind && ids[KeyOwner] == o.Key && ids[KeyCluster] == o.Cluster
}

// OwnerOf reads the owner of a row; ok is false for rows that are not ours (for cluster).
func OwnerOf(ids map[string]string, cluster string) (Owner, bool) {
	if ids[KeyCluster] != cluster || ids[KeyOwnerKind] == "" || ids[KeyOwner] == "" {
		return Owner{}, false
	}
	return Owner{Kind: ids[KeyOwnerKind], Key: ids[KeyOwner], Cluster: cluster}, true
}

// Names of the rows, derived from object names so they are stable and unique in NB (LSP and
// LRP names are indexed by OVN).
func RouterName(vpc string) string                   { return "vpc-" + vpc }
func SwitchName(subnet string) string                { return subnet }
func RouterPortName(vpc, subnet string) string       { return RouterName(vpc) + "-" + subnet }
func SwitchRouterPortName(vpc, subnet string) string { return subnet + "-" + RouterName(vpc) }
func VnicPortName(namespace, vnic string) string     { return vnic + "." + namespace }
func NodePortName(node string) string                { return "node-" + node }

// MAC derives a stable, locally administered unicast MAC from a name, so a router port keeps
// its MAC across recreation (neighbours' ARP caches stay valid) without storing it anywhere.
func MAC(name string) string {
	h := sha256.Sum256([]byte(name))
	// 0x0a: locally administered (bit 1 set), unicast (bit 0 clear).
	return net.HardwareAddr{0x0a, h[0], h[1], h[2], h[3], h[4]}.String()
}

func ptr[T any](v T) *T { return &v }
