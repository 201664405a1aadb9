package ipam

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Range is an inclusive address range of one family.
type Range struct {
	First, Last netip.Addr
}

// ParseRange accepts "10.0.0.5", "10.0.0.5..10.0.0.9" (the Kube-OVN-style form the
// excludeIps field uses) or a CIDR "10.0.0.0/28".
func ParseRange(s string) (Range, error) {
	s = strings.TrimSpace(s)
	if a, b, ok := strings.Cut(s, ".."); ok {
		first, err := netip.ParseAddr(strings.TrimSpace(a))
		if err != nil {
			return Range{}, fmt.Errorf("range %q: %w", s, err)
		}
		last, err := netip.ParseAddr(strings.TrimSpace(b))
		if err != nil {
			return Range{}, fmt.Errorf("range %q: %w", s, err)
		}
		if first.Is4() != last.Is4() {
			return Range{}, fmt.Errorf("range %q: mixes address families", s)
		}
		if last.Less(first) {
			return Range{}, fmt.Errorf("range %q: end is before start", s)
		}
		return Range{First: first.Unmap(), Last: last.Unmap()}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Range{}, fmt.Errorf("range %q: %w", s, err)
		}
		p = p.Masked()
		return Range{First: p.Addr(), Last: lastAddr(p)}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return Range{}, fmt.Errorf("range %q: %w", s, err)
	}
	return Range{First: a.Unmap(), Last: a.Unmap()}, nil
}

func (r Range) contains(a netip.Addr) bool {
	return !a.Less(r.First) && !r.Last.Less(a)
}

// rangeSet is a sorted list of non-overlapping ranges of one family.
type rangeSet []Range

func newRangeSet(rs []Range) rangeSet {
	out := append(rangeSet(nil), rs...)
	sort.Slice(out, func(i, j int) bool { return out[i].First.Less(out[j].First) })
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && !merged[n-1].Last.Next().Less(r.First) {
			if merged[n-1].Last.Less(r.Last) {
				merged[n-1].Last = r.Last
			}
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// find returns the range holding a, if any.
func (s rangeSet) find(a netip.Addr) (Range, bool) {
	i := sort.Search(len(s), func(i int) bool { return !s[i].Last.Less(a) })
	if i < len(s) && s[i].contains(a) {
		return s[i], true
	}
	return Range{}, false
}

// lastAddr is the highest address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
