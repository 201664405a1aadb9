package twoaz

import (
	"net/netip"
	"testing"
)

func TestCovering(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want string
	}{
		{"one", []string{"10.1.2.0/24"}, "10.1.2.0/24"},
		{"one, host bits set", []string{"10.1.2.7/24"}, "10.1.2.0/24"},
		{"neighbours", []string{"10.31.0.0/24", "10.31.1.0/24"}, "10.31.0.0/23"},
		{"far apart", []string{"10.31.0.0/24", "10.32.0.0/24"}, "10.0.0.0/10"},
		{"nested", []string{"10.0.0.0/16", "10.0.5.0/24"}, "10.0.0.0/16"},
		{"wider second", []string{"10.0.5.0/24", "10.0.0.0/16"}, "10.0.0.0/16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ps []netip.Prefix
			for _, s := range tc.in {
				ps = append(ps, netip.MustParsePrefix(s))
			}
			if got := covering(ps); got != netip.MustParsePrefix(tc.want) {
				t.Errorf("covering(%v) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}
