package ipam

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
)

func newPool(t *testing.T, pool string, bits int) *TransitPool {
	t.Helper()
	tp, err := NewTransitPool(netip.MustParsePrefix(pool), bits)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestTransitAllocate(t *testing.T) {
	tp := newPool(t, "169.254.0.0/16", 28)
	a, err := tp.Allocate("t1/a", "ts-t1.a")
	if err != nil {
		t.Fatal(err)
	}
	if a.Subnet.String() != "169.254.0.0/28" || a.TunnelKey != TunnelKeyMin || a.Switch != "ts-t1.a" || a.Hosts() != 14 {
		t.Fatalf("first transit %+v (hosts %d)", a, a.Hosts())
	}
	again, _ := tp.Allocate("t1/a", "ignored")
	if again != a {
		t.Fatalf("not idempotent: %+v then %+v", a, again)
	}
	b, _ := tp.Allocate("t2/a", "ts-t2.a")
	if b.Subnet.String() != "169.254.0.16/28" || b.TunnelKey != TunnelKeyMin+1 {
		t.Fatalf("second transit %+v", b)
	}
	// A hash collision of preferred names falls back to the tunnel key.
	c, _ := tp.Allocate("t3/x", "ts-t1.a")
	if c.Switch != fmt.Sprintf("ts-%d", c.TunnelKey) {
		t.Fatalf("colliding name not replaced: %+v", c)
	}
	// Released slices and keys are handed out again, lowest first.
	tp.Release("t1/a")
	tp.Release("t1/a") // absent is fine
	d, _ := tp.Allocate("t4/d", "ts-t4.d")
	if d.Subnet != a.Subnet || d.TunnelKey != a.TunnelKey {
		t.Fatalf("released transit not reused: %+v", d)
	}
}

func TestTransitSkipsMetadataSlice(t *testing.T) {
	tp := newPool(t, "169.254.169.0/24", 28)
	seen := map[netip.Prefix]bool{}
	for i := range 15 {
		tr, err := tp.Allocate(fmt.Sprint("o", i), "")
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		if tr.Subnet.Contains(MetadataAddress) {
			t.Fatalf("handed out %s, which holds the metadata address", tr.Subnet)
		}
		seen[tr.Subnet] = true
	}
	if len(seen) != 15 {
		t.Fatalf("%d distinct slices", len(seen))
	}
	if _, err := tp.Allocate("one-too-many", ""); !errors.Is(err, ErrTransitExhausted) {
		t.Fatalf("16th allocation: %v, want exhaustion (the 16th slice holds 169.254.169.254)", err)
	}
}

func TestTransitRestore(t *testing.T) {
	tp := newPool(t, "169.254.0.0/16", 28)
	rec := Transit{Switch: "ts-t1.a", Subnet: netip.MustParsePrefix("169.254.0.32/28"), TunnelKey: TunnelKeyMin + 5}
	if err := tp.Restore("t1/a", rec); err != nil {
		t.Fatal(err)
	}
	if got, _ := tp.Allocate("t1/a", "x"); got != rec {
		t.Fatalf("restored owner got %+v, want %+v", got, rec)
	}
	for _, bad := range []Transit{
		{Switch: "other", Subnet: netip.MustParsePrefix("169.254.1.0/28"), TunnelKey: rec.TunnelKey},
		{Switch: rec.Switch, Subnet: netip.MustParsePrefix("169.254.1.0/28"), TunnelKey: TunnelKeyMin + 9},
		{Switch: "other", Subnet: netip.MustParsePrefix("169.254.0.0/26"), TunnelKey: TunnelKeyMin + 9},
		{Switch: "other", Subnet: netip.MustParsePrefix("169.254.1.0/28"), TunnelKey: 7},
	} {
		if err := tp.Restore("t2/b", bad); err == nil {
			t.Errorf("restore of clashing or malformed %+v accepted", bad)
		}
	}
	// A record from an older configuration (/27) is honoured and avoided.
	old := Transit{Switch: "ts-t3.c", Subnet: netip.MustParsePrefix("169.254.0.0/27"), TunnelKey: TunnelKeyMin}
	if err := tp.Restore("t3/c", old); err != nil {
		t.Fatal(err)
	}
	n, _ := tp.Allocate("t4/d", "ts-t4.d")
	if n.Subnet.String() != "169.254.0.48/28" || n.TunnelKey != TunnelKeyMin+1 {
		t.Fatalf("allocation after restores: %+v", n)
	}
}

func TestTransitConcurrentUnique(t *testing.T) {
	tp := newPool(t, "169.254.0.0/16", 28)
	var wg sync.WaitGroup
	res := make([]Transit, 200)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr, err := tp.Allocate(fmt.Sprintf("t/%d", i), fmt.Sprintf("ts-t.%d", i))
			if err != nil {
				t.Error(err)
			}
			res[i] = tr
		}()
	}
	wg.Wait()
	nets, keys := map[netip.Prefix]bool{}, map[int32]bool{}
	for _, r := range res {
		if nets[r.Subnet] || keys[r.TunnelKey] {
			t.Fatalf("duplicate transit %+v", r)
		}
		nets[r.Subnet], keys[r.TunnelKey] = true, true
	}
	if tp.Len() != 200 {
		t.Fatalf("Len = %d", tp.Len())
	}
}

func TestNewTransitPoolRejects(t *testing.T) {
	for _, c := range []struct {
		pool string
		bits int
	}{{"169.254.0.0/16", 16}, {"169.254.0.0/16", 31}, {"fd00::/64", 120}, {"169.254.0.1/16", 28}} {
		if _, err := NewTransitPool(netip.MustParsePrefix(c.pool), c.bits); err == nil {
			t.Errorf("NewTransitPool(%s, %d) accepted", c.pool, c.bits)
		}
	}
}
