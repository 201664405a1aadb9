package ic

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
)

func TestPickTransitAddress(t *testing.T) {
	sub := netip.MustParsePrefix("169.254.0.16/28")
	home := func(az string) netip.Addr {
		a, err := PickTransitAddress(sub, az, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a1 := home("az1")
	for _, tc := range []struct {
		name    string
		subnet  netip.Prefix
		az      string
		claims  Claims
		inUse   map[netip.Addr]string
		want    netip.Addr
		wantErr error
	}{
		{name: "hash home is stable", subnet: sub, az: "az1", want: a1},
		{name: "own claim kept even off its home", subnet: sub, az: "az1",
			claims: Claims{netip.MustParseAddr("169.254.0.30"): "az1"}, want: netip.MustParseAddr("169.254.0.30")},
		{name: "home claimed by another AZ: next one", subnet: sub, az: "az1",
			claims: Claims{a1: "az9"}, want: next(sub, a1)},
		{name: "home used by a port of another AZ outside the claims: next one", subnet: sub, az: "az1",
			inUse: map[netip.Addr]string{a1: "uuid-of-az9"}, want: next(sub, a1)},
		{name: "own claim outside the subnet (subnet changed) is not kept", subnet: sub, az: "az1",
			claims: Claims{netip.MustParseAddr("169.254.1.5"): "az1"}, want: a1},
		{name: "own claim on the broadcast address is not kept", subnet: sub, az: "az1",
			claims: Claims{netip.MustParseAddr("169.254.0.31"): "az1"}, want: a1},
		{name: "own claim used by another AZ's port is given up", subnet: sub, az: "az1",
			claims: Claims{netip.MustParseAddr("169.254.0.20"): "az1"},
			inUse:  map[netip.Addr]string{netip.MustParseAddr("169.254.0.20"): "x"}, want: a1},
		{name: "full", subnet: netip.MustParsePrefix("169.254.0.0/30"), az: "az1",
			claims:  Claims{netip.MustParseAddr("169.254.0.1"): "a", netip.MustParseAddr("169.254.0.2"): "b"},
			wantErr: ErrNoTransitAddress},
		{name: "ipv6 refused", subnet: netip.MustParsePrefix("fd00::/64"), az: "az1", wantErr: errAny},
		{name: "/31 refused", subnet: netip.MustParsePrefix("169.254.0.0/31"), az: "az1", wantErr: errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PickTransitAddress(tc.subnet, tc.az, tc.claims, tc.inUse)
			switch {
			case tc.wantErr == errAny && err != nil:
			case tc.wantErr != nil && errors.Is(err, tc.wantErr):
			case tc.wantErr != nil:
				t.Fatalf("got %v, %v; want error %v", got, err, tc.wantErr)
			case err != nil:
				t.Fatal(err)
			case got != tc.want:
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

var errAny = errors.New("any error")

// next is the address after a in p's host range, wrapping.
func next(p netip.Prefix, a netip.Addr) netip.Addr {
	n := a.Next()
	if !isHost(p, n) {
		return p.Addr().Next()
	}
	return n
}

// Every AZ of a full /28 gets a distinct address when each sees the claims of those before
// it, whatever the hash collisions.
func TestPickTransitAddressFillsSubnet(t *testing.T) {
	sub := netip.MustParsePrefix("169.254.3.0/28")
	claims := Claims{}
	for i := range 14 {
		az := fmt.Sprintf("cluster-%d", i)
		a, err := PickTransitAddress(sub, az, claims, nil)
		if err != nil {
			t.Fatalf("%s: %v", az, err)
		}
		if h := claims[a]; h != "" {
			t.Fatalf("%s got %v held by %s", az, a, h)
		}
		if !isHost(sub, a) {
			t.Fatalf("%s got %v outside the hosts of %v", az, a, sub)
		}
		claims[a] = az
	}
	if _, err := PickTransitAddress(sub, "one-too-many", claims, nil); !errors.Is(err, ErrNoTransitAddress) {
		t.Fatalf("15th AZ: %v", err)
	}
}

func TestParseClaimsAndPortAddress(t *testing.T) {
	c := ParseClaims(map[string]string{
		claimKey("169.254.0.3"):   "az1",
		claimKey("169.254.0.4"):   "az2",
		claimKey("not-an-ip"):     "az3",
		"ycloud.io/owner":         "t/v",
		claimKey("169.254.0.9"):   "az1",
		"ycloud.io/transit-ip/x/": "az4",
	})
	if len(c) != 3 || c[netip.MustParseAddr("169.254.0.4")] != "az2" {
		t.Fatalf("claims %v", c)
	}
	if h := c.Held("az1"); len(h) != 2 || h[0] != netip.MustParseAddr("169.254.0.3") {
		t.Fatalf("held %v", h)
	}
	got := ParsePortAddress("0a:00:00:00:00:01 169.254.0.2/28 fe80::1/64")
	if len(got) != 1 || got[0] != netip.MustParseAddr("169.254.0.2") {
		t.Fatalf("port address %v", got)
	}
}
