package ipam

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
)

// OVN's range of datapath tunnel keys for global (interconnect) datapaths, from
// OVN_MIN_DP_KEY_GLOBAL to OVN_MAX_DP_KEY (lib/ovn-util.h): ovn-ic gives transit switches
// keys from this range, and no local datapath of any AZ ever uses one, so a key the hub
// hands out here cannot clash with a spoke's own switches and routers.
const (
	TunnelKeyMin int32 = 1<<24 - 1<<16
	TunnelKeyMax int32 = 1<<24 - 1
)

// MetadataAddress is the cloud metadata address. Hosts and clouds intercept it, so the
// transit slice containing it is never handed out.
var MetadataAddress = netip.MustParseAddr("169.254.169.254")

// ErrTransitExhausted: every transit slice or tunnel key is in use.
var ErrTransitExhausted = errors.New("transit pool exhausted")

// Transit joins one federated VPC's routers across clusters: an OVN-IC transit switch,
// the link network on it, and the switch's tunnel key.
type Transit struct {
	Switch    string
	Subnet    netip.Prefix
	TunnelKey int32
}

// Hosts is the number of router ports (one per cluster) the transit subnet can address.
func (t Transit) Hosts() int {
	host := t.Subnet.Addr().BitLen() - t.Subnet.Bits()
	if host >= 31 {
		return 1<<31 - 1
	}
	return 1<<host - 2
}

// TransitPool hands out transits that are unique across every tenant. It is the in-memory
// index of what FederatedVpc statuses record: the statuses are the durable record, and a
// hub that starts again Restores them all before it allocates anything. Safe for
// concurrent use.
type TransitPool struct {
	mu    sync.Mutex
	pool  netip.Prefix
	bits  int
	count uint32

	byOwner map[string]Transit
	// slots holds pool-aligned slices of the configured size; other holds prefixes of
	// other sizes (recorded under an older configuration), which are rare.
	slots map[netip.Prefix]string
	other map[netip.Prefix]string
	keys  map[int32]string
	names map[string]string
}

// NewTransitPool cuts pool (IPv4, e.g. 169.254.0.0/16) into slices of the given prefix
// length, one per federated VPC.
func NewTransitPool(pool netip.Prefix, bits int) (*TransitPool, error) {
	if !pool.IsValid() || !pool.Addr().Is4() || pool != pool.Masked() {
		return nil, fmt.Errorf("transit pool %s: want an IPv4 network address", pool)
	}
	if bits <= pool.Bits() || bits > 30 || bits-pool.Bits() > 24 {
		return nil, fmt.Errorf("transit pool %s: slice length /%d must be longer than the pool, at most /30, and give at most 2^24 slices", pool, bits)
	}
	return &TransitPool{
		pool: pool, bits: bits, count: 1 << (bits - pool.Bits()),
		byOwner: map[string]Transit{}, slots: map[netip.Prefix]string{}, other: map[netip.Prefix]string{},
		keys: map[int32]string{}, names: map[string]string{},
	}, nil
}

// Restore records a transit read back from an owner's status. It fails, changing nothing,
// when the record is malformed or clashes with another owner's; the owner then gets a
// fresh transit from Allocate.
func (tp *TransitPool) Restore(owner string, t Transit) error {
	if t.Switch == "" || len(t.Switch) > 63 || !t.Subnet.IsValid() || !t.Subnet.Addr().Is4() ||
		t.Subnet != t.Subnet.Masked() || t.TunnelKey < TunnelKeyMin || t.TunnelKey > TunnelKeyMax {
		return fmt.Errorf("transit of %s (%s %s key %d) is malformed", owner, t.Switch, t.Subnet, t.TunnelKey)
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if o := tp.keys[t.TunnelKey]; o != "" && o != owner {
		return fmt.Errorf("transit of %s: tunnel key %d is already held by %s", owner, t.TunnelKey, o)
	}
	if o := tp.names[t.Switch]; o != "" && o != owner {
		return fmt.Errorf("transit of %s: switch name %s is already held by %s", owner, t.Switch, o)
	}
	if o := tp.subnetOwner(t.Subnet); o != "" && o != owner {
		return fmt.Errorf("transit of %s: subnet %s overlaps one held by %s", owner, t.Subnet, o)
	}
	tp.releaseLocked(owner)
	tp.hold(owner, t)
	return nil
}

// Allocate returns the owner's transit, allocating one on first call: the lowest free
// slice (skipping the metadata address), the lowest free tunnel key, and the preferred
// switch name unless another owner holds it (a hash collision of two long names), then
// "ts-<tunnel key>". Idempotent per owner.
func (tp *TransitPool) Allocate(owner, preferredName string) (Transit, error) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if t, ok := tp.byOwner[owner]; ok {
		return t, nil
	}
	var t Transit
	base := v4int(tp.pool.Addr())
	size := uint32(1) << (32 - tp.bits)
	for i := uint32(0); i < tp.count; i++ {
		p := netip.PrefixFrom(v4addr(base+i*size), tp.bits)
		if tp.slots[p] != "" || p.Contains(MetadataAddress) || tp.otherOverlaps(p) {
			continue
		}
		t.Subnet = p
		break
	}
	if !t.Subnet.IsValid() {
		return Transit{}, fmt.Errorf("%w: all %d /%d slices of %s are in use", ErrTransitExhausted, tp.count, tp.bits, tp.pool)
	}
	for k := TunnelKeyMin; k <= TunnelKeyMax; k++ {
		if tp.keys[k] == "" {
			t.TunnelKey = k
			break
		}
	}
	if t.TunnelKey == 0 {
		return Transit{}, fmt.Errorf("%w: every tunnel key from %d to %d is in use", ErrTransitExhausted, TunnelKeyMin, TunnelKeyMax)
	}
	t.Switch = preferredName
	if t.Switch == "" || tp.names[t.Switch] != "" {
		t.Switch = "ts-" + strconv.Itoa(int(t.TunnelKey))
		if o := tp.names[t.Switch]; o != "" {
			return Transit{}, fmt.Errorf("transit of %s: switch names %q and %q are held by others", owner, preferredName, t.Switch)
		}
	}
	tp.hold(owner, t)
	return t, nil
}

// Get returns the owner's transit, if it holds one.
func (tp *TransitPool) Get(owner string) (Transit, bool) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	t, ok := tp.byOwner[owner]
	return t, ok
}

// Release frees the owner's transit (its FederatedVpc is gone). Absent is not an error.
func (tp *TransitPool) Release(owner string) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.releaseLocked(owner)
}

// Len is the number of owners holding a transit.
func (tp *TransitPool) Len() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return len(tp.byOwner)
}

func (tp *TransitPool) hold(owner string, t Transit) {
	tp.byOwner[owner] = t
	if tp.isSlot(t.Subnet) {
		tp.slots[t.Subnet] = owner
	} else {
		tp.other[t.Subnet] = owner
	}
	tp.keys[t.TunnelKey] = owner
	tp.names[t.Switch] = owner
}

func (tp *TransitPool) releaseLocked(owner string) {
	t, ok := tp.byOwner[owner]
	if !ok {
		return
	}
	delete(tp.byOwner, owner)
	delete(tp.slots, t.Subnet)
	delete(tp.other, t.Subnet)
	delete(tp.keys, t.TunnelKey)
	delete(tp.names, t.Switch)
}

func (tp *TransitPool) isSlot(p netip.Prefix) bool {
	return p.Bits() == tp.bits && contains(tp.pool, p)
}

func (tp *TransitPool) subnetOwner(p netip.Prefix) string {
	if tp.isSlot(p) {
		if o := tp.slots[p]; o != "" {
			return o
		}
	}
	for q, o := range tp.other {
		if q.Overlaps(p) {
			return o
		}
	}
	if !tp.isSlot(p) {
		for q, o := range tp.slots {
			if q.Overlaps(p) {
				return o
			}
		}
	}
	return ""
}

func (tp *TransitPool) otherOverlaps(p netip.Prefix) bool {
	for q := range tp.other {
		if q.Overlaps(p) {
			return true
		}
	}
	return false
}

func v4int(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func v4addr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
