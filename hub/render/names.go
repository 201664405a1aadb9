package render

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Naming scheme. A tenant is a hub namespace (a DNS label: no dots); a FederatedVpc name is
// a DNS subdomain; a subnet name is a DNS label. On a spoke every tenant's objects share one
// cluster-scoped namespace, so names carry the tenant:
//
//	spoke Vpc          <tenant>.<fvpc>            e.g. tenant-a.vpc1 (OVN router vpc-tenant-a.vpc1)
//	spoke Subnet       <tenant>.<fvpc>.<subnet>   e.g. tenant-a.vpc1.web (OVN switch of that name)
//	ManifestWork       ycloud-vpc-<tenant>-<fvpc> in the cluster's namespace (DESIGN.md §5)
//	transit switch     ts-<tenant>.<fvpc>         (the pool may replace it, see ipam.TransitPool)
//
// The first dot separates the tenant (tenants have none) and the last dot the subnet
// (subnets have none), so two tenants' "vpc1" can never produce the same spoke name. Spoke
// names are kept to 63 characters, so they also fit label values, OVN external_ids and the
// "<subnet>.<address>" VnicIp names the spoke controller derives: a longer name keeps its
// first 52 characters and gets "-" and 10 hex digits of its SHA-256 (collisions are then
// 1 in 2^40 per pair, and the readable prefix still names the tenant).
//
// The ManifestWork name follows DESIGN.md literally and is therefore ambiguous when tenants
// or names contain dashes ("a-b"+"c" and "a"+"b-c"); the hub identifies its works by the
// owner annotation, never by name, and refuses to touch a work of that name owned by
// another object (the cluster's status says so).

// maxSpokeName bounds spoke object and transit switch names.
const maxSpokeName = 63

// maxObjectName is the Kubernetes limit for names that are DNS subdomains.
const maxObjectName = 253

// VpcName is the spoke Vpc of a FederatedVpc.
func VpcName(tenant, fvpc string) string { return shorten(tenant+"."+fvpc, maxSpokeName) }

// SubnetName is the spoke Subnet of one subnet of a FederatedVpc.
func SubnetName(tenant, fvpc, subnet string) string {
	return shorten(tenant+"."+fvpc+"."+subnet, maxSpokeName)
}

// WorkName is the ManifestWork of a federated object in one cluster; kind is the short
// kind ("vpc").
func WorkName(kind, tenant, name string) string {
	return shorten("ycloud-"+kind+"-"+tenant+"-"+name, maxObjectName)
}

// TransitSwitchName is the preferred OVN-IC transit switch of a FederatedVpc.
func TransitSwitchName(tenant, fvpc string) string {
	return shorten("ts-"+tenant+"."+fvpc, maxSpokeName)
}

// LabelValue fits a name into a label value (63 characters).
func LabelValue(s string) string { return shorten(s, 63) }

// shorten returns s when it fits max, else a prefix and a hash of all of s. Trailing dots
// and dashes of the prefix are dropped so the result is still a DNS subdomain.
func shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	prefix := strings.TrimRight(s[:max-11], ".-")
	return prefix + "-" + hex.EncodeToString(sum[:])[:10]
}
