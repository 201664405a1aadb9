package nic

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Token bucket sizing. The bucket holds 10 ms of traffic (at least a few full frames),
// so a burst never exceeds the limit by more than that over any measurement window. The
// queue holds 200 ms more: a local TCP sender is then held back by the queue
// (backpressure) rather than by drops. Measured at 50 Mbit/s: a 50 ms queue gave 43
// Mbit/s of TCP goodput, 120-200 ms gave 47-48 (the most the limit allows after headers).
const (
	bucketMillis = 10
	queueMillis  = 200
	minBucket    = 16 << 10
)

// tokenBucket returns the tbf qdisc limiting link to mbps.
func tokenBucket(link netlink.Link, mbps int32) *netlink.Tbf {
	rate := uint64(mbps) * 1000 * 1000 / 8 // bytes per second
	bucket := max(rate*bucketMillis/1000, minBucket)
	limit := rate*queueMillis/1000 + bucket
	return &netlink.Tbf{
		QdiscAttrs: netlink.QdiscAttrs{
			LinkIndex: link.Attrs().Index,
			Handle:    netlink.MakeHandle(1, 0),
			Parent:    netlink.HANDLE_ROOT,
		},
		Rate:   rate,
		Limit:  uint32(min(limit, 1<<31)),
		Buffer: netlink.Xmittime(rate, uint32(bucket)),
	}
}

// setTokenBucket makes link's root qdisc a token bucket of mbps, or removes ours when
// mbps is 0. It does nothing when the root qdisc is already what it should be, so that
// a resync does not reset the bucket of a busy pod.
func setTokenBucket(link netlink.Link, mbps int32) error {
	qdiscs, err := retryDump(func() ([]netlink.Qdisc, error) { return netlink.QdiscList(link) })
	if err != nil {
		return fmt.Errorf("list qdiscs of %s: %w", link.Attrs().Name, err)
	}
	var current *netlink.Tbf
	for _, q := range qdiscs {
		if t, ok := q.(*netlink.Tbf); ok && q.Attrs().Parent == netlink.HANDLE_ROOT {
			current = t
		}
	}
	if mbps <= 0 {
		if current == nil {
			return nil
		}
		if err := netlink.QdiscDel(current); err != nil && err != unix.ENOENT {
			return fmt.Errorf("delete tbf on %s: %w", link.Attrs().Name, err)
		}
		return nil
	}
	want := tokenBucket(link, mbps)
	if current != nil && current.Rate == want.Rate && current.Limit == want.Limit {
		return nil
	}
	if err := netlink.QdiscReplace(want); err != nil {
		return fmt.Errorf("set tbf %d Mbit/s on %s: %w", mbps, link.Attrs().Name, err)
	}
	return nil
}

// egressLimit returns the rate of link's token bucket in Mbit/s (0 when there is none).
func egressLimit(link netlink.Link) (int32, error) {
	qdiscs, err := retryDump(func() ([]netlink.Qdisc, error) { return netlink.QdiscList(link) })
	if err != nil {
		return 0, fmt.Errorf("list qdiscs of %s: %w", link.Attrs().Name, err)
	}
	for _, q := range qdiscs {
		if t, ok := q.(*netlink.Tbf); ok && q.Attrs().Parent == netlink.HANDLE_ROOT {
			return int32(t.Rate * 8 / 1000 / 1000), nil
		}
	}
	return 0, nil
}
