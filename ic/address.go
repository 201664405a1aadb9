package ic

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"
)

// ErrNoTransitAddress means every host address of a transit subnet is taken.
var ErrNoTransitAddress = errors.New("no free address in the transit subnet")

// Claims maps the transit addresses reserved on one transit switch to the AZ holding each.
type Claims map[netip.Addr]string

// ParseClaims reads the claims out of a transit switch's external_ids. Keys that do not
// parse are ignored: they were not written by us.
func ParseClaims(ids map[string]string) Claims {
	c := Claims{}
	for k, v := range ids {
		s, ok := strings.CutPrefix(k, keyClaimPrefix)
		if !ok {
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			c[a] = v
		}
	}
	return c
}

// Held returns the addresses az holds, sorted.
func (c Claims) Held(az string) []netip.Addr {
	var out []netip.Addr
	for a, holder := range c {
		if holder == az {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(x, y netip.Addr) int { return x.Compare(y) })
	return out
}

// PickTransitAddress chooses az's address on a transit subnet.
//
// Every AZ needs a distinct address on the transit switch of a VPC. The hub does not (yet)
// hand out a per-cluster index, so the choice starts at a stable hash of the AZ name and
// probes linearly over the subnet's host addresses, skipping addresses claimed by other
// AZs (claims) and addresses some other AZ's port already uses according to IC-SB
// (inUse: a zone outside our claim scheme, or one whose claim we cannot see yet). An
// address az already holds is kept as long as it is valid and nobody else uses it, so an
// AZ's address never moves once chosen. The claim itself is made atomic by the IC-NB
// transaction (see PlanClaim), so two AZs whose hashes collide cannot both win.
func PickTransitAddress(subnet netip.Prefix, az string, claims Claims, inUse map[netip.Addr]string) (netip.Addr, error) {
	if !subnet.IsValid() || !subnet.Addr().Is4() {
		return netip.Addr{}, fmt.Errorf("transit subnet %s: want an IPv4 prefix", subnet)
	}
	subnet = subnet.Masked()
	hostBits := 32 - subnet.Bits()
	if hostBits < 2 {
		return netip.Addr{}, fmt.Errorf("transit subnet %s: want at most a /30", subnet)
	}
	hosts := uint32(1)<<hostBits - 2
	if hostBits >= 32 {
		hosts = 1<<32 - 2
	}
	free := func(a netip.Addr) bool {
		if h := claims[a]; h != "" && h != az {
			return false
		}
		if h := inUse[a]; h != "" && h != az {
			return false
		}
		return true
	}
	for _, a := range claims.Held(az) {
		if isHost(subnet, a) && free(a) {
			return a, nil
		}
	}
	base := v4int(subnet.Addr())
	start := hash32(az) % hosts
	for i := uint32(0); i < hosts; i++ {
		a := v4addr(base + 1 + (start+i)%hosts)
		if free(a) {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("transit subnet %s: %w (%d claims)", subnet, ErrNoTransitAddress, len(claims))
}

// isHost reports whether a is a host address of p (neither its network nor broadcast
// address).
func isHost(p netip.Prefix, a netip.Addr) bool {
	if !a.Is4() || !p.Contains(a) {
		return false
	}
	last := v4int(p.Addr()) | (1<<(32-p.Bits()) - 1)
	return a != p.Addr() && v4int(a) != last
}

// ParsePortAddress reads an IC-SB Port_Binding.address ("MAC IP/LEN ...") and returns its
// IPv4 addresses.
func ParsePortAddress(s string) []netip.Addr {
	var out []netip.Addr
	for _, f := range strings.Fields(s) {
		if p, err := netip.ParsePrefix(f); err == nil && p.Addr().Is4() {
			out = append(out, p.Addr())
		} else if a, err := netip.ParseAddr(f); err == nil && a.Is4() {
			out = append(out, a)
		}
	}
	return out
}

func hash32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

func v4int(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func v4addr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
