package ipam

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sync"
)

var (
	// ErrFull means every allocatable address of the family is in use.
	ErrFull = errors.New("no free address")
	// ErrOutOfRange means the address is not inside any CIDR of the pool.
	ErrOutOfRange = errors.New("address outside the subnet")
	// ErrReserved means the address is the gateway, the network/broadcast address, or
	// excluded by the subnet.
	ErrReserved = errors.New("address reserved by the subnet")
)

// InUseError reports an address already held by another owner.
type InUseError struct {
	Addr  netip.Addr
	Owner string
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("address %s already in use by %q", e.Addr, e.Owner)
}

// Pool tracks the addresses of one subnet (one CIDR per address family).
type Pool struct {
	mu   sync.Mutex
	fams []*family
}

type family struct {
	prefix      netip.Prefix
	first, last netip.Addr // allocatable bounds (network and broadcast excluded)
	reserved    rangeSet   // gateway + excludeIps, clipped to [first, last]
	size        uint64     // allocatable addresses, saturating
	used        map[netip.Addr]string
	cursor      netip.Addr // next candidate
}

// FamilyStats is the occupancy of one CIDR.
type FamilyStats struct {
	Prefix netip.Prefix
	Used   uint64
	// Free saturates at math.MaxUint64 (an IPv6 /64 has more).
	Free uint64
}

// NewPool builds a pool for the given CIDRs (at most one per family). Gateways and excluded
// ranges are never allocated; ranges outside every CIDR are an error, as the API refuses
// them too.
func NewPool(cidrs []netip.Prefix, gateways []netip.Addr, exclude []Range) (*Pool, error) {
	if len(cidrs) == 0 || len(cidrs) > 2 {
		return nil, fmt.Errorf("pool needs one or two CIDRs, got %d", len(cidrs))
	}
	p := &Pool{}
	for _, c := range cidrs {
		c = c.Masked()
		if p.family(c.Addr()) != nil {
			return nil, fmt.Errorf("cidr %s: two CIDRs of the same family", c)
		}
		f, err := newFamily(c)
		if err != nil {
			return nil, err
		}
		p.fams = append(p.fams, f)
	}
	perFam := map[*family][]Range{}
	for _, g := range gateways {
		f := p.family(g)
		if f == nil || !f.prefix.Contains(g) {
			return nil, fmt.Errorf("gateway %s: %w", g, ErrOutOfRange)
		}
		perFam[f] = append(perFam[f], Range{g, g})
	}
	for _, r := range exclude {
		f := p.family(r.First)
		if f == nil || !f.prefix.Contains(r.First) || !f.prefix.Contains(r.Last) {
			return nil, fmt.Errorf("exclude %s..%s: %w", r.First, r.Last, ErrOutOfRange)
		}
		perFam[f] = append(perFam[f], r)
	}
	for _, f := range p.fams {
		f.reserved = newRangeSet(perFam[f])
		var n uint64
		for _, r := range f.reserved {
			lo, hi := maxAddr(r.First, f.first), minAddr(r.Last, f.last)
			if !hi.Less(lo) {
				n = satAdd(n, span(lo, hi))
			}
		}
		if f.size > n {
			f.size -= n
		} else {
			f.size = 0
		}
	}
	return p, nil
}

func newFamily(c netip.Prefix) (*family, error) {
	bits := c.Addr().BitLen() - c.Bits()
	f := &family{prefix: c, used: map[netip.Addr]string{}}
	f.first, f.last = c.Addr(), lastAddr(c)
	// The network address is never a host; IPv4 also keeps its broadcast address. /31, /32
	// and /127, /128 have no room for that and are refused: a subnet needs hosts.
	if c.Addr().Is4() && bits < 2 || c.Addr().Is6() && bits < 2 {
		return nil, fmt.Errorf("cidr %s: too small for a subnet", c)
	}
	f.first = f.first.Next()
	if c.Addr().Is4() {
		f.last = f.last.Prev()
	}
	f.size = span(f.first, f.last)
	f.cursor = f.first
	return f, nil
}

func (p *Pool) family(a netip.Addr) *family {
	for _, f := range p.fams {
		if f.prefix.Addr().Is4() == a.Is4() {
			return f
		}
	}
	return nil
}

// Prefixes returns the pool's CIDRs in the order given to NewPool.
func (p *Pool) Prefixes() []netip.Prefix {
	out := make([]netip.Prefix, len(p.fams))
	for i, f := range p.fams {
		out[i] = f.prefix
	}
	return out
}

// Allocate takes the next free address of every family for owner. Either all families get
// an address or none does.
func (p *Pool) Allocate(owner string) ([]netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]netip.Addr, 0, len(p.fams))
	for _, f := range p.fams {
		a, err := f.next()
		if err != nil {
			for _, got := range out {
				delete(p.family(got).used, got)
			}
			return nil, fmt.Errorf("subnet %s: %w", f.prefix, err)
		}
		f.used[a] = owner
		out = append(out, a)
	}
	return out, nil
}

// AllocateFamily takes the next free address of the family of like (an address used only
// for its family) for owner.
func (p *Pool) AllocateFamily(like netip.Addr, owner string) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.family(like)
	if f == nil {
		return netip.Addr{}, fmt.Errorf("no %s cidr in the subnet: %w", famName(like), ErrOutOfRange)
	}
	a, err := f.next()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("subnet %s: %w", f.prefix, err)
	}
	f.used[a] = owner
	return a, nil
}

// Reserve marks addr as used by owner: a static address, or an allocation replayed from the
// apiserver after a restart. Reserving an address the same owner already holds succeeds
// (idempotent); another owner's address gives *InUseError.
func (p *Pool) Reserve(addr netip.Addr, owner string) error {
	addr = addr.Unmap()
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.family(addr)
	if f == nil || !f.prefix.Contains(addr) {
		return fmt.Errorf("address %s: %w", addr, ErrOutOfRange)
	}
	if addr.Less(f.first) || f.last.Less(addr) {
		return fmt.Errorf("address %s: %w", addr, ErrReserved)
	}
	if _, ok := f.reserved.find(addr); ok {
		return fmt.Errorf("address %s: %w", addr, ErrReserved)
	}
	if cur, ok := f.used[addr]; ok && cur != owner {
		return &InUseError{Addr: addr, Owner: cur}
	}
	f.used[addr] = owner
	return nil
}

// Transfer hands addr from one owner to another, e.g. from a placeholder used while the
// durable record's name was not known yet. It reports false (and changes nothing) when addr
// is not held by from.
func (p *Pool) Transfer(addr netip.Addr, from, to string) bool {
	addr = addr.Unmap()
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.family(addr)
	if f == nil || f.used[addr] != from {
		return false
	}
	if _, ok := f.used[addr]; !ok {
		return false
	}
	f.used[addr] = to
	return true
}

// Release frees addr. It reports whether the address was in use; releasing a free address
// is not an error (release is idempotent).
func (p *Pool) Release(addr netip.Addr) bool {
	addr = addr.Unmap()
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.family(addr)
	if f == nil {
		return false
	}
	_, ok := f.used[addr]
	delete(f.used, addr)
	return ok
}

// ReleaseOwner frees every address held by owner and returns how many. It scans the used
// set, so it is meant for rare events (a node leaving), not per-pod paths.
func (p *Pool) ReleaseOwner(owner string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, f := range p.fams {
		for a, o := range f.used {
			if o == owner {
				delete(f.used, a)
				n++
			}
		}
	}
	return n
}

// Owned returns the addresses held by owner, IPv4 before IPv6. Like ReleaseOwner it scans
// the used set, so it suits owners with few reconciles (nodes), not pods.
func (p *Pool) Owned(owner string) []netip.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []netip.Addr
	for _, f := range p.fams {
		for a, o := range f.used {
			if o == owner {
				out = append(out, a)
			}
		}
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out
}

// Owner returns who holds addr.
func (p *Pool) Owner(addr netip.Addr) (string, bool) {
	addr = addr.Unmap()
	p.mu.Lock()
	defer p.mu.Unlock()
	if f := p.family(addr); f != nil {
		o, ok := f.used[addr]
		return o, ok
	}
	return "", false
}

// Stats reports occupancy per CIDR.
func (p *Pool) Stats() []FamilyStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]FamilyStats, 0, len(p.fams))
	for _, f := range p.fams {
		used := uint64(len(f.used))
		free := uint64(0)
		if f.size > used {
			free = f.size - used
		}
		out = append(out, FamilyStats{Prefix: f.prefix, Used: used, Free: free})
	}
	return out
}

// next finds the first free, unreserved address at or after the cursor, wrapping once.
func (f *family) next() (netip.Addr, error) {
	if uint64(len(f.used)) >= f.size {
		return netip.Addr{}, ErrFull
	}
	a := f.cursor
	wrapped := false
	for {
		if !a.IsValid() || f.last.Less(a) {
			if wrapped {
				return netip.Addr{}, ErrFull
			}
			wrapped, a = true, f.first
		}
		if r, ok := f.reserved.find(a); ok {
			// Jump over a whole excluded range at once, so a large excludeIps range costs
			// one step, not one per address.
			a = r.Last.Next()
			continue
		}
		if _, ok := f.used[a]; !ok {
			f.cursor = a.Next()
			return a, nil
		}
		a = a.Next()
	}
}

func famName(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// span is the number of addresses in [lo, hi], saturating at MaxUint64.
func span(lo, hi netip.Addr) uint64 {
	l, h := lo.As16(), hi.As16()
	var hiHalf, loHalf [2]uint64
	for i := 0; i < 8; i++ {
		hiHalf[0] = hiHalf[0]<<8 | uint64(l[i])
		hiHalf[1] = hiHalf[1]<<8 | uint64(h[i])
		loHalf[0] = loHalf[0]<<8 | uint64(l[8+i])
		loHalf[1] = loHalf[1]<<8 | uint64(h[8+i])
	}
	if hiHalf[0] != hiHalf[1] {
		return math.MaxUint64
	}
	d := loHalf[1] - loHalf[0]
	if d == math.MaxUint64 {
		return d
	}
	return d + 1
}

func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

func maxAddr(a, b netip.Addr) netip.Addr {
	if a.Less(b) {
		return b
	}
	return a
}

func minAddr(a, b netip.Addr) netip.Addr {
	if a.Less(b) {
		return a
	}
	return b
}
