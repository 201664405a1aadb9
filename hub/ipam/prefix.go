package ipam

import (
	"fmt"
	"math/big"
	"net/netip"
	"strings"
)

// Prefix arithmetic on netip values. IPv6 offsets do not fit in a uint64, so offsets are
// big.Ints; the sets involved are tiny (a few dozen prefixes per VPC), so clarity wins over
// speed here.

func addrInt(a netip.Addr) *big.Int {
	if a.Is4() {
		b := a.As4()
		return new(big.Int).SetBytes(b[:])
	}
	b := a.As16()
	return new(big.Int).SetBytes(b[:])
}

func intAddr(v *big.Int, is4 bool) netip.Addr {
	n := 16
	if is4 {
		n = 4
	}
	buf := make([]byte, n)
	v.FillBytes(buf)
	if is4 {
		return netip.AddrFrom4([4]byte(buf))
	}
	return netip.AddrFrom16([16]byte(buf))
}

// lastInt is the numeric value of the last address of p.
func lastInt(p netip.Prefix) *big.Int {
	host := p.Addr().BitLen() - p.Bits()
	v := new(big.Int).Lsh(big.NewInt(1), uint(host))
	v.Sub(v, big.NewInt(1))
	return v.Add(v, addrInt(p.Masked().Addr()))
}

// contains reports whether inner lies entirely inside outer.
func contains(outer, inner netip.Prefix) bool {
	return outer.Addr().Is4() == inner.Addr().Is4() && outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// firstFree returns the lowest block of the given prefix length inside parent that
// overlaps none of taken. Each step either returns or jumps past one taken prefix, so it
// runs in O(len(taken)^2) whatever the size of parent.
func firstFree(parent netip.Prefix, bits int, taken []netip.Prefix) (netip.Prefix, bool) {
	parent = parent.Masked()
	is4 := parent.Addr().Is4()
	if bits < parent.Bits() || bits > parent.Addr().BitLen() {
		return netip.Prefix{}, false
	}
	size := new(big.Int).Lsh(big.NewInt(1), uint(parent.Addr().BitLen()-bits))
	cand := addrInt(parent.Addr())
	end := lastInt(parent)
	for {
		last := new(big.Int).Add(cand, size)
		last.Sub(last, big.NewInt(1))
		if last.Cmp(end) > 0 {
			return netip.Prefix{}, false
		}
		p := netip.PrefixFrom(intAddr(cand, is4), bits)
		var hit *netip.Prefix
		for i := range taken {
			if taken[i].Addr().Is4() == is4 && taken[i].Overlaps(p) {
				hit = &taken[i]
				break
			}
		}
		if hit == nil {
			return p, true
		}
		// Jump to the first aligned block after the taken prefix. It overlaps p, so it ends
		// at or after cand and the jump always moves forward.
		next := lastInt(*hit)
		next.Add(next, big.NewInt(1))
		rem := new(big.Int).Mod(next, size)
		if rem.Sign() != 0 {
			next.Add(next, size).Sub(next, rem)
		}
		cand = next
	}
}

// firstHost is the first address after the network address: the gateway of a carved piece.
func firstHost(p netip.Prefix) netip.Addr {
	return p.Masked().Addr().Next()
}

// ParseCIDRs parses a DualStackCIDR string ("10.0.0.0/24" or "10.0.0.0/24,fd00::/120").
// Every part must be a network address; a pair must be one IPv4 and one IPv6 prefix.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > 2 {
		return nil, fmt.Errorf("%q: at most one IPv4 and one IPv6 CIDR", s)
	}
	out := make([]netip.Prefix, 0, len(parts))
	for _, part := range parts {
		p, err := netip.ParsePrefix(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		if p != p.Masked() {
			return nil, fmt.Errorf("%q: %s is not a network address (want %s)", s, p, p.Masked())
		}
		out = append(out, p)
	}
	if len(out) == 2 && out[0].Addr().Is4() == out[1].Addr().Is4() {
		return nil, fmt.Errorf("%q: a pair needs one IPv4 and one IPv6 CIDR", s)
	}
	return out, nil
}

// ParseAddrs parses a DualStackIP string.
func ParseAddrs(s string) ([]netip.Addr, error) {
	if s == "" {
		return nil, nil
	}
	var out []netip.Addr
	for _, part := range strings.Split(s, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// JoinPrefixes renders prefixes in DualStackCIDR form.
func JoinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// JoinAddrs renders addresses in DualStackIP form.
func JoinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

// family returns the prefix of ps in the same family as ref, if any.
func family(ps []netip.Prefix, is4 bool) (netip.Prefix, bool) {
	for _, p := range ps {
		if p.Addr().Is4() == is4 {
			return p, true
		}
	}
	return netip.Prefix{}, false
}
