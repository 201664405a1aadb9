package controller

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/spoke/ipam"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// indexVnicIPSubnet indexes VnicIps by spec.subnet; indexVnicIPVnic by "namespace/vnic";
// indexPodWaitingSubnet pods not allocated yet by the subnet they ask for (waitingSubnet),
// indexPodWaitingVnicIP by the pre-created VnicIp they name (waitingVnicIP).
const (
	indexVnicIPSubnet     = "spec.subnet"
	indexVnicIPVnic       = "spec.vnic"
	indexVnicSubnet       = "vnic.spec.subnet"
	indexSubnetVpc        = "subnet.spec.vpc"
	indexPodWaitingSubnet = "pod.waitingForSubnet"
	indexPodWaitingVnicIP = "pod.waitingForVnicIp"
)

// allocator holds one IPAM pool per subnet, built lazily from the Subnet and the VnicIps
// that reference it.
type allocator struct {
	reader client.Reader // the informer cache
	// extra replays allocations that have no VnicIp (node management ports on the join
	// subnet) into a freshly built pool.
	extra func(ctx context.Context, subnet string, p *ipam.Pool) error

	mu    sync.Mutex
	pools map[string]*subnetPool
}

type subnetPool struct {
	spec iaasv1.SubnetSpec // the spec the pool was built from
	info ovnnb.SubnetInfo
	pool *ipam.Pool
}

func newAllocator(r client.Reader) *allocator {
	return &allocator{reader: r, pools: map[string]*subnetPool{}}
}

// vnicIPAddrs returns the addresses a VnicIp holds: spec.ipAddress when set (static), else
// what the controller recorded in status.
func vnicIPAddrs(v *iaasv1.VnicIp) []netip.Addr {
	var out []netip.Addr
	src := string(v.Spec.IPAddress)
	if src == "" {
		src = v.Status.V4IP + "," + v.Status.V6IP
	}
	for _, s := range strings.Split(src, ",") {
		if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

func vnicIPOwner(v *iaasv1.VnicIp) string { return v.Namespace + "/" + v.Name }

// pool returns the subnet's pool, building (or rebuilding after a spec change) it from the
// VnicIps in the cache. Conflicting VnicIps (same address twice) are returned so the caller
// can report them; the first one keeps the address.
func (a *allocator) pool(ctx context.Context, s *iaasv1.Subnet) (*subnetPool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if sp, ok := a.pools[s.Name]; ok && reflect.DeepEqual(sp.spec, s.Spec) {
		return sp, nil
	}
	info, err := ovnnb.ParseSubnet(s)
	if err != nil {
		return nil, err
	}
	p, err := ipam.NewPool(info.CIDRs, info.Gateways, info.Excludes)
	if err != nil {
		return nil, fmt.Errorf("subnet %q: %w", s.Name, err)
	}
	var list iaasv1.VnicIpList
	if err := a.reader.List(ctx, &list, client.MatchingFields{indexVnicIPSubnet: s.Name}); err != nil {
		return nil, fmt.Errorf("subnet %q: list vnicips: %w", s.Name, err)
	}
	lg := log.FromContext(ctx)
	for i := range list.Items {
		v := &list.Items[i]
		for _, addr := range vnicIPAddrs(v) {
			if err := p.Reserve(addr, vnicIPOwner(v)); err != nil {
				// Two objects claiming one address can only come from outside the controller
				// (or from a spec change shrinking the subnet); keep the first and say so.
				lg.Error(err, "vnicip address cannot be reserved", "vnicip", vnicIPOwner(v), "subnet", s.Name)
			}
		}
	}
	if a.extra != nil {
		if err := a.extra(ctx, s.Name, p); err != nil {
			return nil, fmt.Errorf("subnet %q: %w", s.Name, err)
		}
	}
	sp := &subnetPool{spec: *s.Spec.DeepCopy(), info: info, pool: p}
	a.pools[s.Name] = sp
	subnetStats(s.Name, p)
	return sp, nil
}

// cached returns the pool if it has been built.
func (a *allocator) cached(subnet string) *subnetPool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pools[subnet]
}

// release frees a deleted VnicIp's addresses if its subnet's pool still attributes them to
// it (the address may already belong to someone else after a rebuild).
func (a *allocator) release(v *iaasv1.VnicIp) {
	sp := a.cached(v.Spec.Subnet)
	if sp == nil {
		return
	}
	for _, addr := range vnicIPAddrs(v) {
		if o, ok := sp.pool.Owner(addr); ok && o == vnicIPOwner(v) {
			sp.pool.Release(addr)
		}
	}
	subnetStats(v.Spec.Subnet, sp.pool)
}

// forget drops a deleted subnet's pool.
func (a *allocator) forget(subnet string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.pools, subnet)
	forgetSubnetStats(subnet)
}

// vnicIPName is the deterministic name of the VnicIp holding addr in subnet: creating it is
// the lock on the address.
func vnicIPName(subnet string, addr netip.Addr) string {
	s := addr.String()
	s = strings.NewReplacer(".", "-", ":", "-").Replace(s)
	return subnet + "." + s
}
