package ipam

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// Kinds of carving failure; test with errors.Is. Each maps to one condition reason on the
// FederatedVpc, so a user sees which rule their spec broke.
var (
	// ErrInvalid: a subnet cannot be carved as written (outside the VPC, a piece too
	// small for a gateway, a family the VPC does not have).
	ErrInvalid = errors.New("invalid subnet")
	// ErrOverlap: two subnets, or a subnet and a piece already handed to a cluster,
	// share addresses.
	ErrOverlap = errors.New("subnets overlap")
	// ErrExhausted: there is no room left for one more piece.
	ErrExhausted = errors.New("cidr exhausted")
)

type carveError struct {
	kind error
	msg  string
}

func (e *carveError) Error() string { return e.msg }
func (e *carveError) Unwrap() error { return e.kind }

func fail(kind error, format string, args ...any) error {
	return &carveError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// Subnet is one subnet of a VPC as the carver sees it.
type Subnet struct {
	Name string
	// CIDRs pin the subnet (PrefixLen 0) or bound its carving (PrefixLen > 0); empty for a
	// carved subnet that may use the whole VPC.
	CIDRs []netip.Prefix
	// Cluster pins the subnet, or restricts a carved subnet to that one cluster; empty
	// means every placed cluster.
	Cluster string
	// PrefixLen is perClusterPrefixLength, in the family of the first prefix carved from;
	// 0 means pinned.
	PrefixLen int
	// Gateways of a pinned subnet, at most one per family; a family left out uses the
	// first host address.
	Gateways []netip.Addr
}

func (s *Subnet) pinned() bool { return s.PrefixLen == 0 }

// wants reports whether the subnet has a piece in cluster c.
func (s *Subnet) wants(c string) bool { return s.Cluster == "" || s.Cluster == c }

// Allocation is one subnet's piece in one cluster.
type Allocation struct {
	Subnet, Cluster string
	// CIDRs, one per family, in the order of the prefixes they were carved from.
	CIDRs []netip.Prefix
	// Gateways, one per CIDR, in the same order.
	Gateways []netip.Addr
}

// Input is everything Carve needs for one VPC.
type Input struct {
	// VPC is the VPC's address space (one prefix, or one per family).
	VPC []netip.Prefix
	// Subnets in spec order: earlier subnets get lower addresses when pieces are new.
	Subnets []Subnet
	// Clusters are the placed clusters.
	Clusters []string
	// Previous are the allocations recorded in status. Carve keeps every one that is still
	// valid, so pieces never move while they are in use.
	Previous []Allocation
	// Live reports whether a cluster still has the VPC's objects (its ManifestWork exists).
	// The piece of a cluster that left the placement is kept for its return, and may be
	// reclaimed for a new cluster only when space runs out and the cluster is no longer
	// live. Nil means no cluster is live.
	Live func(cluster string) bool
}

// Carve returns the allocations of a VPC: one per (subnet, placed cluster) it applies to,
// plus the remembered pieces of departed clusters that still fit, sorted by subnet and
// cluster. Pinned subnets get their own CIDRs; carved ones get the lowest free aligned
// block of their size inside their bound (or the VPC), avoiding every declared subnet
// CIDR and every other piece. It is a pure function: the same input gives the same
// output, which is what makes the hub's rendering deterministic.
func Carve(in Input) ([]Allocation, error) {
	live := in.Live
	if live == nil {
		live = func(string) bool { return false }
	}
	if err := checkVPC(in.VPC); err != nil {
		return nil, err
	}
	specs := make(map[string]*Subnet, len(in.Subnets))
	for i := range in.Subnets {
		s := &in.Subnets[i]
		if _, dup := specs[s.Name]; dup {
			return nil, fail(ErrInvalid, "subnet %q is listed twice", s.Name)
		}
		if err := checkSubnet(in.VPC, s); err != nil {
			return nil, err
		}
		specs[s.Name] = s
	}
	declared, err := declaredBlocks(in.Subnets)
	if err != nil {
		return nil, err
	}

	placed := make(map[string]bool, len(in.Clusters))
	for _, c := range in.Clusters {
		placed[c] = true
	}

	// Keep every recorded piece that is still valid; a piece in use that became invalid
	// because someone declared a subnet over it is an error, never a silent move.
	prev := slices.Clone(in.Previous)
	slices.SortFunc(prev, cmpAlloc)
	var kept, spare []Allocation
	have := map[[2]string]bool{}
	for _, a := range prev {
		s := specs[a.Subnet]
		if s == nil || s.pinned() || !s.wants(a.Cluster) || have[[2]string{a.Subnet, a.Cluster}] {
			continue
		}
		if !pieceFits(in.VPC, s, a.CIDRs) {
			continue // the subnet's size or bound changed: carve it again
		}
		if other, ok := overlapsDeclared(declared, s.Name, a.CIDRs); ok {
			if placed[a.Cluster] && live(a.Cluster) {
				return nil, fail(ErrOverlap, "subnet %q (%s) overlaps %s, the piece of subnet %q that cluster %q already uses",
					other.subnet, other.prefix, JoinPrefixes(a.CIDRs), a.Subnet, a.Cluster)
			}
			continue
		}
		if b, ok := overlapsPieces(append(kept, spare...), a.CIDRs); ok {
			if placed[a.Cluster] && live(a.Cluster) {
				return nil, fail(ErrOverlap, "recorded pieces overlap: %s of subnet %q in cluster %q and %s of subnet %q in cluster %q",
					JoinPrefixes(a.CIDRs), a.Subnet, a.Cluster, JoinPrefixes(b.CIDRs), b.Subnet, b.Cluster)
			}
			continue
		}
		have[[2]string{a.Subnet, a.Cluster}] = true
		a.Gateways = gatewaysFor(nil, a.CIDRs)
		if placed[a.Cluster] {
			kept = append(kept, a)
		} else {
			spare = append(spare, a)
		}
	}

	// Pieces of departed clusters that are no longer live may be given away, but only if
	// the VPC is full without them.
	var held, reclaimable []Allocation
	for _, a := range spare {
		if live(a.Cluster) {
			held = append(held, a)
		} else {
			reclaimable = append(reclaimable, a)
		}
	}
	clusters := slices.Clone(in.Clusters)
	slices.Sort(clusters)
	clusters = slices.Compact(clusters)

	out, err := carveNew(in.VPC, in.Subnets, clusters, declared, append(append(slices.Clone(kept), held...), reclaimable...), have)
	if errors.Is(err, ErrExhausted) && len(reclaimable) > 0 {
		out, err = carveNew(in.VPC, in.Subnets, clusters, declared, append(slices.Clone(kept), held...), have)
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, cmpAlloc)
	return out, nil
}

// carveNew adds the pinned allocations and a new piece for every (subnet, cluster) that
// has none to the existing ones, and returns them all.
func carveNew(vpc []netip.Prefix, subnets []Subnet, clusters []string, declared []block,
	existing []Allocation, have map[[2]string]bool) ([]Allocation, error) {
	out := existing
	taken := make([]netip.Prefix, 0, len(declared)+2*len(existing))
	for _, a := range existing {
		taken = append(taken, a.CIDRs...)
	}
	for i := range subnets {
		s := &subnets[i]
		for _, c := range clusters {
			if !s.wants(c) || have[[2]string{s.Name, c}] {
				continue
			}
			if s.pinned() {
				out = append(out, Allocation{Subnet: s.Name, Cluster: c, CIDRs: slices.Clone(s.CIDRs), Gateways: gatewaysFor(s.Gateways, s.CIDRs)})
				continue
			}
			// Carve inside the subnet's own bound, avoiding every other declared block.
			avoid := slices.Clone(taken)
			for _, d := range declared {
				if d.subnet != s.Name {
					avoid = append(avoid, d.prefix)
				}
			}
			var pieces []netip.Prefix
			for _, parent := range parents(vpc, s) {
				bits := pieceBits(parents(vpc, s)[0], parent, s.PrefixLen)
				p, ok := firstFree(parent, bits, avoid)
				if !ok {
					return nil, fail(ErrExhausted, "subnet %q: no free /%d left in %s for cluster %q (%d placed clusters each need one; the VPC's other subnets and pieces hold the rest)",
						s.Name, bits, parent, c, countWanting(s, clusters))
				}
				pieces = append(pieces, p)
				avoid = append(avoid, p)
			}
			taken = append(taken, pieces...)
			out = append(out, Allocation{Subnet: s.Name, Cluster: c, CIDRs: pieces, Gateways: gatewaysFor(nil, pieces)})
		}
	}
	return out, nil
}

func countWanting(s *Subnet, clusters []string) int {
	n := 0
	for _, c := range clusters {
		if s.wants(c) {
			n++
		}
	}
	return n
}

func cmpAlloc(a, b Allocation) int {
	return cmp.Or(cmp.Compare(a.Subnet, b.Subnet), cmp.Compare(a.Cluster, b.Cluster))
}

func checkVPC(vpc []netip.Prefix) error {
	if len(vpc) == 0 || len(vpc) > 2 {
		return fail(ErrInvalid, "the VPC needs one CIDR or one per family, got %d", len(vpc))
	}
	if len(vpc) == 2 && vpc[0].Addr().Is4() == vpc[1].Addr().Is4() {
		return fail(ErrInvalid, "the VPC CIDRs %s are of one family", JoinPrefixes(vpc))
	}
	for _, p := range vpc {
		if !p.IsValid() || p != p.Masked() {
			return fail(ErrInvalid, "the VPC CIDR %s is not a network address", p)
		}
	}
	return nil
}

// parents are the prefixes a carved subnet takes its pieces from: its bound, or the VPC.
func parents(vpc []netip.Prefix, s *Subnet) []netip.Prefix {
	if len(s.CIDRs) > 0 {
		return s.CIDRs
	}
	return vpc
}

// pieceBits is the prefix length of a piece carved from parent: prefixLen in the family of
// first, and the same number of addresses in the other family (a /24 pairs with a /120).
func pieceBits(first, parent netip.Prefix, prefixLen int) int {
	if parent.Addr().Is4() == first.Addr().Is4() {
		return prefixLen
	}
	return parent.Addr().BitLen() - (first.Addr().BitLen() - prefixLen)
}

func checkSubnet(vpc []netip.Prefix, s *Subnet) error {
	for _, p := range s.CIDRs {
		outer, ok := family(vpc, p.Addr().Is4())
		if !ok || !contains(outer, p) {
			return fail(ErrInvalid, "subnet %q: %s is not inside the VPC (%s)", s.Name, p, JoinPrefixes(vpc))
		}
	}
	if len(s.CIDRs) == 2 && s.CIDRs[0].Addr().Is4() == s.CIDRs[1].Addr().Is4() {
		return fail(ErrInvalid, "subnet %q: %s are of one family", s.Name, JoinPrefixes(s.CIDRs))
	}
	if s.pinned() {
		if len(s.CIDRs) == 0 || s.Cluster == "" {
			return fail(ErrInvalid, "subnet %q is neither pinned (cidrBlock and cluster) nor carved (perClusterPrefixLength)", s.Name)
		}
		for _, g := range s.Gateways {
			p, ok := family(s.CIDRs, g.Is4())
			if !ok || !p.Contains(g) {
				return fail(ErrInvalid, "subnet %q: gateway %s is not inside %s", s.Name, g, JoinPrefixes(s.CIDRs))
			}
		}
		return nil
	}
	ps := parents(vpc, s)
	for i, parent := range ps {
		bits := pieceBits(ps[0], parent, s.PrefixLen)
		// perClusterPrefixLength must be longer than the first parent's (as the schema
		// says); the other family's piece may be the whole parent. A piece needs a gateway
		// and at least one more address: a /30 (or /126) at most.
		shortest := parent.Bits()
		if i == 0 {
			shortest++
		}
		if bits < shortest || bits > parent.Addr().BitLen()-2 {
			return fail(ErrInvalid, "subnet %q: a /%d piece does not fit %s (the prefix length must be between /%d and /%d)",
				s.Name, bits, parent, shortest, parent.Addr().BitLen()-2)
		}
	}
	return nil
}

// block is a CIDR a subnet declares in the spec (pinned network or carving bound).
type block struct {
	subnet string
	prefix netip.Prefix
}

func declaredBlocks(subnets []Subnet) ([]block, error) {
	var out []block
	for _, s := range subnets {
		for _, p := range s.CIDRs {
			for _, b := range out {
				if b.subnet != s.Name && b.prefix.Overlaps(p) {
					return nil, fail(ErrOverlap, "subnet %q (%s) overlaps subnet %q (%s)", s.Name, p, b.subnet, b.prefix)
				}
			}
			out = append(out, block{subnet: s.Name, prefix: p})
		}
	}
	return out, nil
}

// pieceFits reports whether a recorded piece still matches the subnet's spec: one prefix
// per parent family, of the right size, inside the parent.
func pieceFits(vpc []netip.Prefix, s *Subnet, cidrs []netip.Prefix) bool {
	ps := parents(vpc, s)
	if len(cidrs) != len(ps) {
		return false
	}
	for i, parent := range ps {
		c := cidrs[i]
		if !c.IsValid() || c != c.Masked() || c.Bits() != pieceBits(ps[0], parent, s.PrefixLen) || !contains(parent, c) {
			return false
		}
	}
	return true
}

func overlapsDeclared(declared []block, subnet string, cidrs []netip.Prefix) (block, bool) {
	for _, d := range declared {
		if d.subnet == subnet {
			continue
		}
		for _, c := range cidrs {
			if d.prefix.Overlaps(c) {
				return d, true
			}
		}
	}
	return block{}, false
}

func overlapsPieces(pieces []Allocation, cidrs []netip.Prefix) (Allocation, bool) {
	for _, a := range pieces {
		for _, p := range a.CIDRs {
			for _, c := range cidrs {
				if p.Overlaps(c) {
					return a, true
				}
			}
		}
	}
	return Allocation{}, false
}

// gatewaysFor returns one gateway per CIDR: the given one of that family, else the first
// host address.
func gatewaysFor(given []netip.Addr, cidrs []netip.Prefix) []netip.Addr {
	out := make([]netip.Addr, len(cidrs))
	for i, c := range cidrs {
		out[i] = firstHost(c)
		for _, g := range given {
			if g.Is4() == c.Addr().Is4() {
				out[i] = g
			}
		}
	}
	return out
}
