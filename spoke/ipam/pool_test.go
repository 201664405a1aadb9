package ipam

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sync"
	"testing"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

func rng(t *testing.T, s string) Range {
	t.Helper()
	r, err := ParseRange(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseRange(t *testing.T) {
	cases := []struct {
		in          string
		first, last string
		wantErr     bool
	}{
		{in: "10.0.0.5", first: "10.0.0.5", last: "10.0.0.5"},
		{in: "10.0.0.5..10.0.0.9", first: "10.0.0.5", last: "10.0.0.9"},
		{in: " 10.0.0.5 .. 10.0.0.9 ", first: "10.0.0.5", last: "10.0.0.9"},
		{in: "10.0.0.16/30", first: "10.0.0.16", last: "10.0.0.19"},
		{in: "fd00::10..fd00::20", first: "fd00::10", last: "fd00::20"},
		{in: "fd00::/126", first: "fd00::", last: "fd00::3"},
		{in: "10.0.0.9..10.0.0.5", wantErr: true},
		{in: "10.0.0.1..fd00::1", wantErr: true},
		{in: "10.0.0.300", wantErr: true},
		{in: "nonsense", wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			r, err := ParseRange(c.in)
			if c.wantErr {
				if err == nil {
					t.Fatalf("ParseRange(%q) = %v, want error", c.in, r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.First != ip(c.first) || r.Last != ip(c.last) {
				t.Fatalf("got %s..%s, want %s..%s", r.First, r.Last, c.first, c.last)
			}
		})
	}
}

func TestAllocateSkipsGatewayExcludesNetworkAndBroadcast(t *testing.T) {
	p, err := NewPool([]netip.Prefix{pfx("10.0.0.0/28")}, []netip.Addr{ip("10.0.0.1")},
		[]Range{rng(t, "10.0.0.3..10.0.0.5"), rng(t, "10.0.0.9")})
	if err != nil {
		t.Fatal(err)
	}
	// /28 = 16 addresses - network - broadcast - gateway - 3 - 1 = 9 allocatable.
	if st := p.Stats()[0]; st.Free != 9 || st.Used != 0 {
		t.Fatalf("stats = %+v, want 9 free", st)
	}
	want := []string{"10.0.0.2", "10.0.0.6", "10.0.0.7", "10.0.0.8", "10.0.0.10", "10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.14"}
	for i, w := range want {
		got, err := p.Allocate(fmt.Sprintf("pod%d", i))
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		if got[0] != ip(w) {
			t.Fatalf("allocation %d = %s, want %s", i, got[0], w)
		}
	}
	if _, err := p.Allocate("one-too-many"); !errors.Is(err, ErrFull) {
		t.Fatalf("allocate on a full pool: err = %v, want ErrFull", err)
	}
	if st := p.Stats()[0]; st.Free != 0 || st.Used != 9 {
		t.Fatalf("stats = %+v, want 9 used 0 free", st)
	}
	// A released address is found again after the cursor wraps.
	if !p.Release(ip("10.0.0.7")) {
		t.Fatal("release of a used address reported false")
	}
	if p.Release(ip("10.0.0.7")) {
		t.Fatal("second release reported true")
	}
	got, err := p.Allocate("again")
	if err != nil || got[0] != ip("10.0.0.7") {
		t.Fatalf("allocate after release = %v, %v; want 10.0.0.7", got, err)
	}
}

func TestCursorDoesNotReuseJustReleased(t *testing.T) {
	p, err := NewPool([]netip.Prefix{pfx("10.1.0.0/24")}, []netip.Addr{ip("10.1.0.1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.Allocate("a")
	p.Release(a[0])
	b, _ := p.Allocate("b")
	if a[0] == b[0] {
		t.Fatalf("released address %s handed out again at once", a[0])
	}
}

func TestReserve(t *testing.T) {
	p, err := NewPool([]netip.Prefix{pfx("10.0.0.0/24"), pfx("fd00::/120")},
		[]netip.Addr{ip("10.0.0.1"), ip("fd00::1")}, []Range{rng(t, "10.0.0.200..10.0.0.210")})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		addr    string
		owner   string
		wantErr error
		inUse   bool
	}{
		{name: "static ipv4", addr: "10.0.0.50", owner: "a"},
		{name: "same owner again is idempotent", addr: "10.0.0.50", owner: "a"},
		{name: "other owner", addr: "10.0.0.50", owner: "b", inUse: true},
		{name: "gateway", addr: "10.0.0.1", owner: "a", wantErr: ErrReserved},
		{name: "excluded", addr: "10.0.0.205", owner: "a", wantErr: ErrReserved},
		{name: "network address", addr: "10.0.0.0", owner: "a", wantErr: ErrReserved},
		{name: "broadcast", addr: "10.0.0.255", owner: "a", wantErr: ErrReserved},
		{name: "outside", addr: "10.0.1.5", owner: "a", wantErr: ErrOutOfRange},
		{name: "static ipv6", addr: "fd00::50", owner: "a"},
		{name: "ipv6 gateway", addr: "fd00::1", owner: "a", wantErr: ErrReserved},
		{name: "ipv6 outside", addr: "fd01::5", owner: "a", wantErr: ErrOutOfRange},
		{name: "ipv4-mapped ipv6 is ipv4", addr: "::ffff:10.0.0.60", owner: "a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := p.Reserve(ip(c.addr), c.owner)
			var iu *InUseError
			switch {
			case c.inUse:
				if !errors.As(err, &iu) || iu.Owner != "a" {
					t.Fatalf("err = %v, want InUseError by a", err)
				}
			case c.wantErr != nil:
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err = %v, want %v", err, c.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			}
		})
	}
	if p.Transfer(ip("10.0.0.60"), "not-the-owner", "b") {
		t.Fatal("transfer from a wrong owner succeeded")
	}
	if !p.Transfer(ip("10.0.0.60"), "a", "b") || !p.Transfer(ip("10.0.0.60"), "b", "a") {
		t.Fatal("transfer between owners failed")
	}
	if p.Transfer(ip("10.0.0.61"), "", "b") {
		t.Fatal("transfer of a free address succeeded")
	}
	if n := p.ReleaseOwner("nobody"); n != 0 {
		t.Fatalf("ReleaseOwner(nobody) released %d", n)
	}
	if o, ok := p.Owner(ip("10.0.0.60")); !ok || o != "a" {
		t.Fatalf("owner of 10.0.0.60 = %q %v", o, ok)
	}
	if got, want := p.Owned("a"), []netip.Addr{ip("10.0.0.50"), ip("10.0.0.60"), ip("fd00::50")}; !slices.Equal(got, want) {
		t.Fatalf("Owned(a) = %v, want %v", got, want)
	}
	if got := p.Owned("nobody"); len(got) != 0 {
		t.Fatalf("Owned(nobody) = %v", got)
	}
	// Allocation never returns a reserved address.
	for i := 0; i < 100; i++ {
		got, err := p.Allocate(fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		if got[0] == ip("10.0.0.50") || got[1] == ip("fd00::50") {
			t.Fatalf("allocation %d returned a reserved address %v", i, got)
		}
	}
}

func TestDualStackAllOrNothing(t *testing.T) {
	// IPv4 /30 has 2 hosts (one is the gateway); IPv6 has plenty.
	p, err := NewPool([]netip.Prefix{pfx("10.9.0.0/30"), pfx("fd00::/64")}, []netip.Addr{ip("10.9.0.1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Allocate("a")
	if err != nil || len(got) != 2 || !got[0].Is4() || !got[1].Is6() {
		t.Fatalf("dual-stack allocation = %v, %v", got, err)
	}
	if _, err := p.Allocate("b"); !errors.Is(err, ErrFull) {
		t.Fatalf("err = %v, want ErrFull", err)
	}
	if n := p.ReleaseOwner("a"); n != 2 {
		t.Fatalf("ReleaseOwner(a) = %d, want 2 (one per family)", n)
	}
	if _, err := p.Allocate("a"); err != nil {
		t.Fatalf("allocate after ReleaseOwner: %v", err)
	}
	st := p.Stats()
	if st[1].Used != 1 {
		t.Fatalf("failed allocation leaked an IPv6 address: %+v", st[1])
	}
	if st[1].Free != math.MaxUint64-1 && st[1].Free < 1<<63 {
		t.Fatalf("ipv6 /64 free = %d, want saturated huge", st[1].Free)
	}
	a6, err := p.AllocateFamily(ip("::"), "c")
	if err != nil || !a6.Is6() {
		t.Fatalf("AllocateFamily v6 = %v, %v", a6, err)
	}
}

func TestNewPoolErrors(t *testing.T) {
	cases := []struct {
		name  string
		cidrs []netip.Prefix
		gw    []netip.Addr
		ex    []Range
	}{
		{name: "no cidr"},
		{name: "two v4", cidrs: []netip.Prefix{pfx("10.0.0.0/24"), pfx("10.1.0.0/24")}},
		{name: "gateway outside", cidrs: []netip.Prefix{pfx("10.0.0.0/24")}, gw: []netip.Addr{ip("10.0.1.1")}},
		{name: "exclude outside", cidrs: []netip.Prefix{pfx("10.0.0.0/24")}, ex: []Range{{ip("10.0.0.250"), ip("10.0.1.2")}}},
		{name: "too small", cidrs: []netip.Prefix{pfx("10.0.0.0/31")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewPool(c.cidrs, c.gw, c.ex); err == nil {
				t.Fatal("NewPool succeeded, want error")
			}
		})
	}
}

func TestConcurrentAllocationsAreUnique(t *testing.T) {
	p, err := NewPool([]netip.Prefix{pfx("10.20.0.0/16")}, []netip.Addr{ip("10.20.0.1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 20, 500
	var mu sync.Mutex
	seen := map[netip.Addr]bool{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				got, err := p.Allocate(fmt.Sprintf("%d-%d", w, i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[got[0]] {
					t.Errorf("address %s allocated twice", got[0])
				}
				seen[got[0]] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Fatalf("got %d unique addresses, want %d", len(seen), workers*each)
	}
}

// Replaying a large number of allocations (a controller restart) is linear and quick.
func BenchmarkReplay10k(b *testing.B) {
	addrs := make([]netip.Addr, 10000)
	a := ip("10.30.0.2")
	for i := range addrs {
		addrs[i], a = a, a.Next()
	}
	for b.Loop() {
		p, _ := NewPool([]netip.Prefix{pfx("10.30.0.0/16")}, []netip.Addr{ip("10.30.0.1")}, nil)
		for _, a := range addrs {
			if err := p.Reserve(a, "x"); err != nil {
				b.Fatal(err)
			}
		}
	}
}
