package ipam

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func pfx(s string) []netip.Prefix {
	ps, err := ParseCIDRs(s)
	if err != nil {
		panic(err)
	}
	return ps
}

func alloc(subnet, cluster, cidrs string) Allocation {
	return Allocation{Subnet: subnet, Cluster: cluster, CIDRs: pfx(cidrs)}
}

func carved(name string, bits int, bound string) Subnet {
	return Subnet{Name: name, PrefixLen: bits, CIDRs: pfx(bound)}
}

func pinned(name, cluster, cidrs string) Subnet {
	return Subnet{Name: name, Cluster: cluster, CIDRs: pfx(cidrs)}
}

// show renders allocations as "subnet@cluster=cidrs/gws" lines for compact comparisons.
func show(as []Allocation) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "%s@%s=%s/%s\n", a.Subnet, a.Cluster, JoinPrefixes(a.CIDRs), JoinAddrs(a.Gateways))
	}
	return b.String()
}

func liveSet(cs ...string) func(string) bool {
	return func(c string) bool { return slices.Contains(cs, c) }
}

func TestCarve(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Input
		want string // show() output
		err  error
	}{
		{
			name: "carved pieces lowest first in cluster name order",
			in:   Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{carved("web", 24, "")}, Clusters: []string{"c2", "c1"}},
			want: "web@c1=10.0.0.0/24/10.0.0.1\nweb@c2=10.0.1.0/24/10.0.1.1\n",
		},
		{
			name: "pinned subnets are reserved VPC-wide",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{pinned("db", "c1", "10.0.0.0/24"), carved("web", 24, "")},
				Clusters: []string{"c1", "c2"}},
			want: "db@c1=10.0.0.0/24/10.0.0.1\nweb@c1=10.0.1.0/24/10.0.1.1\nweb@c2=10.0.2.0/24/10.0.2.1\n",
		},
		{
			name: "pinned gateway is kept",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{{Name: "db", Cluster: "c1", CIDRs: pfx("10.0.9.0/24"),
				Gateways: []netip.Addr{netip.MustParseAddr("10.0.9.254")}}}, Clusters: []string{"c1"}},
			want: "db@c1=10.0.9.0/24/10.0.9.254\n",
		},
		{
			name: "pinned to a cluster that is not placed gets nothing",
			in:   Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{pinned("db", "c9", "10.0.0.0/24")}, Clusters: []string{"c1"}},
			want: "",
		},
		{
			name: "recorded pieces never move, even when lower space is free",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{carved("web", 24, "")}, Clusters: []string{"c1", "c2"},
				Previous: []Allocation{alloc("web", "c2", "10.0.5.0/24")}},
			want: "web@c1=10.0.0.0/24/10.0.0.1\nweb@c2=10.0.5.0/24/10.0.5.1\n",
		},
		{
			name: "a new cluster does not reshuffle the others",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{carved("web", 24, "")}, Clusters: []string{"a0", "c1", "c2"},
				Previous: []Allocation{alloc("web", "c1", "10.0.0.0/24"), alloc("web", "c2", "10.0.1.0/24")}},
			want: "web@a0=10.0.2.0/24/10.0.2.1\nweb@c1=10.0.0.0/24/10.0.0.1\nweb@c2=10.0.1.0/24/10.0.1.1\n",
		},
		{
			name: "a departed cluster keeps its piece while there is room",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{carved("web", 24, "")}, Clusters: []string{"c1"},
				Previous: []Allocation{alloc("web", "c3", "10.0.0.0/24")}},
			want: "web@c1=10.0.1.0/24/10.0.1.1\nweb@c3=10.0.0.0/24/10.0.0.1\n",
		},
		{
			name: "a departed cluster's piece is reclaimed when the VPC is full",
			in: Input{VPC: pfx("10.0.0.0/23"), Subnets: []Subnet{carved("web", 24, "")}, Clusters: []string{"c1", "c2"},
				Previous: []Allocation{alloc("web", "c1", "10.0.1.0/24"), alloc("web", "c3", "10.0.0.0/24")}},
			want: "web@c1=10.0.1.0/24/10.0.1.1\nweb@c2=10.0.0.0/24/10.0.0.1\n",
		},
		{
			name: "a departed cluster that still holds its piece is not robbed",
			in: Input{VPC: pfx("10.0.0.0/23"), Subnets: []Subnet{carved("web", 24, "")}, Clusters: []string{"c1", "c2"},
				Previous: []Allocation{alloc("web", "c1", "10.0.1.0/24"), alloc("web", "c3", "10.0.0.0/24")}, Live: liveSet("c1", "c3")},
			err: ErrExhausted,
		},
		{
			name: "exhausted: two /25 subnets in a /24 for two clusters",
			in: Input{VPC: pfx("10.9.0.0/24"), Subnets: []Subnet{carved("web", 25, ""), carved("db", 25, "")},
				Clusters: []string{"c1", "c2"}},
			err: ErrExhausted,
		},
		{
			name: "a pinned subnet declared over a piece in use is refused",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{carved("web", 24, ""), pinned("db", "c2", "10.0.0.0/24")},
				Clusters: []string{"c1", "c2"}, Previous: []Allocation{alloc("web", "c1", "10.0.0.0/24")}, Live: liveSet("c1")},
			err: ErrOverlap,
		},
		{
			name: "a pinned subnet over a piece nobody uses yet moves the piece",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{carved("web", 24, ""), pinned("db", "c2", "10.0.0.0/24")},
				Clusters: []string{"c1", "c2"}, Previous: []Allocation{alloc("web", "c1", "10.0.0.0/24")}},
			want: "db@c2=10.0.0.0/24/10.0.0.1\nweb@c1=10.0.1.0/24/10.0.1.1\nweb@c2=10.0.2.0/24/10.0.2.1\n",
		},
		{
			name: "declared subnets overlap",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{pinned("a", "c1", "10.0.0.0/24"), pinned("b", "c2", "10.0.0.128/25")},
				Clusters: []string{"c1", "c2"}},
			err: ErrOverlap,
		},
		{
			name: "a carving bound overlapping a pinned subnet",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{pinned("a", "c1", "10.0.0.0/24"), carved("b", 26, "10.0.0.0/23")},
				Clusters: []string{"c1"}},
			err: ErrOverlap,
		},
		{
			name: "recorded pieces that overlap each other are refused while in use",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{carved("web", 24, ""), carved("app", 24, "")},
				Clusters: []string{"c1"}, Previous: []Allocation{alloc("app", "c1", "10.0.3.0/24"), alloc("web", "c1", "10.0.3.0/24")},
				Live: liveSet("c1")},
			err: ErrOverlap,
		},
		{
			name: "bounded carving stays inside its bound and others stay out of it",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{carved("web", 24, ""), carved("db", 24, "10.0.0.0/17")},
				Clusters: []string{"c1"}},
			want: "db@c1=10.0.0.0/24/10.0.0.1\nweb@c1=10.0.128.0/24/10.0.128.1\n",
		},
		{
			name: "dual stack: the IPv6 piece holds as many addresses",
			in: Input{VPC: pfx("10.0.0.0/16,fd00::/112"), Subnets: []Subnet{carved("web", 24, "")},
				Clusters: []string{"c1", "c2"}},
			want: "web@c1=10.0.0.0/24,fd00::/120/10.0.0.1,fd00::1\nweb@c2=10.0.1.0/24,fd00::100/120/10.0.1.1,fd00::101\n",
		},
		{
			name: "IPv6 first: pieces of /64 in a /48",
			in: Input{VPC: pfx("fd00:1::/48"), Subnets: []Subnet{carved("web", 64, "")}, Clusters: []string{"c1", "c2"},
				Previous: []Allocation{alloc("web", "c1", "fd00:1:0:0::/64")}},
			want: "web@c1=fd00:1::/64/fd00:1::1\nweb@c2=fd00:1:0:1::/64/fd00:1:0:1::1\n",
		},
		{
			name: "a carved subnet restricted to one cluster",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{{Name: "edge", PrefixLen: 26, Cluster: "c2"}},
				Clusters: []string{"c1", "c2"}},
			want: "edge@c2=10.0.0.0/26/10.0.0.1\n",
		},
		{
			name: "a piece without room for a gateway and a host",
			in:   Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{carved("p2p", 31, "")}, Clusters: []string{"c1"}},
			err:  ErrInvalid,
		},
		{
			name: "a pinned subnet outside the VPC",
			in:   Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{pinned("x", "c1", "10.1.0.0/24")}, Clusters: []string{"c1"}},
			err:  ErrInvalid,
		},
		{
			name: "a changed piece size carves new pieces",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{carved("web", 25, "")}, Clusters: []string{"c1"},
				Previous: []Allocation{alloc("web", "c1", "10.0.7.0/24")}},
			want: "web@c1=10.0.0.0/25/10.0.0.1\n",
		},
		{
			name: "pieces of a removed subnet are dropped",
			in: Input{VPC: pfx("10.0.0.0/16"), Subnets: []Subnet{carved("web", 24, "")}, Clusters: []string{"c1"},
				Previous: []Allocation{alloc("gone", "c1", "10.0.0.0/24"), alloc("web", "c1", "10.0.1.0/24")}},
			want: "web@c1=10.0.1.0/24/10.0.1.1\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Carve(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v (got %s)", err, tc.err, show(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := show(got); s != tc.want {
				t.Fatalf("got\n%swant\n%s", s, tc.want)
			}
		})
	}
}

// TestCarveNeverOverlaps grows and shrinks a placement many times and checks the invariant
// the hub promises: no two pieces in one VPC ever share an address, and a piece of a
// cluster that stays placed never moves.
func TestCarveNeverOverlaps(t *testing.T) {
	vpc := pfx("10.0.0.0/20")
	subnets := []Subnet{carved("web", 24, ""), carved("db", 26, ""), pinned("mgmt", "c3", "10.0.15.0/24"), carved("b", 25, "10.0.8.0/22")}
	var prev []Allocation
	all := []string{"c0", "c1", "c2", "c3", "c4", "c5"}
	for step := range 40 {
		var clusters []string
		for i, c := range all {
			if (step*7+i*3)%5 != 0 {
				clusters = append(clusters, c)
			}
		}
		got, err := Carve(Input{VPC: vpc, Subnets: subnets, Clusters: clusters, Previous: prev, Live: liveSet(clusters...)})
		if err != nil {
			t.Fatalf("step %d clusters %v: %v", step, clusters, err)
		}
		for i := range got {
			for j := i + 1; j < len(got); j++ {
				for _, a := range got[i].CIDRs {
					for _, b := range got[j].CIDRs {
						if a.Overlaps(b) {
							t.Fatalf("step %d: %s@%s %s overlaps %s@%s %s", step, got[i].Subnet, got[i].Cluster, a, got[j].Subnet, got[j].Cluster, b)
						}
					}
				}
			}
		}
		for _, p := range prev {
			if !slices.Contains(clusters, p.Cluster) {
				continue
			}
			i := slices.IndexFunc(got, func(a Allocation) bool { return a.Subnet == p.Subnet && a.Cluster == p.Cluster })
			if i < 0 || !slices.Equal(got[i].CIDRs, p.CIDRs) {
				t.Fatalf("step %d: piece %s@%s %s moved", step, p.Subnet, p.Cluster, JoinPrefixes(p.CIDRs))
			}
		}
		prev = got
	}
}

func TestFirstFree(t *testing.T) {
	for _, tc := range []struct {
		parent string
		bits   int
		taken  string
		want   string
	}{
		{"10.0.0.0/16", 24, "", "10.0.0.0/24"},
		{"10.0.0.0/16", 24, "10.0.0.0/23", "10.0.2.0/24"},
		{"10.0.0.0/16", 24, "10.0.0.128/25", "10.0.1.0/24"},
		{"10.0.0.0/16", 22, "10.0.1.0/24", "10.0.4.0/22"},
		{"10.0.0.0/23", 24, "10.0.0.0/24,10.0.1.0/24", ""},
		{"fd00::/64", 72, "fd00::/72", "fd00:0:0:0:100::/72"},
		{"fd00::/16", 32, "fd00::/17", "fd00:8000::/32"},
	} {
		var taken []netip.Prefix
		for _, s := range strings.Split(tc.taken, ",") {
			if s != "" {
				taken = append(taken, netip.MustParsePrefix(s))
			}
		}
		got, ok := firstFree(netip.MustParsePrefix(tc.parent), tc.bits, taken)
		if tc.want == "" {
			if ok {
				t.Errorf("firstFree(%s,/%d,%s) = %s, want none", tc.parent, tc.bits, tc.taken, got)
			}
			continue
		}
		if !ok || got != netip.MustParsePrefix(tc.want) {
			t.Errorf("firstFree(%s,/%d,%s) = %s %v, want %s", tc.parent, tc.bits, tc.taken, got, ok, tc.want)
		}
	}
}

func TestParseCIDRs(t *testing.T) {
	for _, bad := range []string{"10.0.0.1/24", "10.0.0.0/24,10.1.0.0/24", "a/b", "10.0.0.0/24,fd00::/64,fd01::/64"} {
		if _, err := ParseCIDRs(bad); err == nil {
			t.Errorf("ParseCIDRs(%q) accepted", bad)
		}
	}
	got, err := ParseCIDRs("10.0.0.0/24,fd00::/120")
	if err != nil || JoinPrefixes(got) != "10.0.0.0/24,fd00::/120" {
		t.Fatalf("round trip: %v %v", got, err)
	}
}
