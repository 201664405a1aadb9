package twoaz

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"

	"github.com/ycloud-sdn/ycloud/test/cnitest"
)

// Sockets are created inside the pod's namespace (ns.Do) and then used from any goroutine:
// a socket stays in the namespace it was created in.

// Ping sends one ICMP echo from the pod (busybox ping, 1 s timeout).
func (p *Pod) Ping(ip netip.Addr) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := cnitest.Run(ctx, p.NS, "busybox", "ping", "-c1", "-W1", ip.String())
	return err
}

// Unreachable reports nil when three echoes, one second apart, all go unanswered.
func (p *Pod) Unreachable(ip netip.Addr) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := cnitest.Run(ctx, p.NS, "busybox", "ping", "-c3", "-W1", ip.String())
	if err == nil {
		return fmt.Errorf("%s answered from %s:\n%s", ip, p.Name, out)
	}
	if !strings.Contains(out, "0 packets received") {
		return fmt.Errorf("ping %s from %s failed oddly: %w", ip, p.Name, err)
	}
	return nil
}

// ServeTCPEcho accepts connections on port and echoes what it reads, until the test ends.
func (p *Pod) ServeTCPEcho(t TB, port int) {
	t.Helper()
	var l net.Listener
	if err := p.NS.Do(func(ns.NetNS) error {
		var err error
		l, err = net.Listen("tcp4", fmt.Sprintf(":%d", port))
		return err
	}); err != nil {
		t.Fatalf("twoaz: %s: listen tcp %d: %v", p.Name, port, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				_, _ = io.Copy(c, c)
			}()
		}
	}()
}

// TCPEcho connects to ip:port from the pod, sends 64 KiB (more than one window of
// segments, so checksums and MTU are exercised) and checks they come back unchanged.
func (p *Pod) TCPEcho(ip netip.Addr, port int) error {
	var c net.Conn
	if err := p.NS.Do(func(ns.NetNS) error {
		var err error
		c, err = net.DialTimeout("tcp4", netip.AddrPortFrom(ip, uint16(port)).String(), 3*time.Second)
		return err
	}); err != nil {
		return fmt.Errorf("tcp %s:%d from %s: %w", ip, port, p.Name, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	msg := bytes.Repeat([]byte("ycloud-ic "), 64*1024/10)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		errc <- err
	}()
	got, err := io.ReadAll(c)
	if werr := <-errc; werr != nil {
		return fmt.Errorf("tcp %s:%d from %s: write: %w", ip, port, p.Name, werr)
	}
	if err != nil {
		return fmt.Errorf("tcp %s:%d from %s: read: %w", ip, port, p.Name, err)
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("tcp %s:%d from %s: echoed %d bytes, sent %d", ip, port, p.Name, len(got), len(msg))
	}
	return nil
}

// ServeUDPEcho answers every datagram on port with itself, until the test ends.
func (p *Pod) ServeUDPEcho(t TB, port int) {
	t.Helper()
	var pc net.PacketConn
	if err := p.NS.Do(func(ns.NetNS) error {
		var err error
		pc, err = net.ListenPacket("udp4", fmt.Sprintf(":%d", port))
		return err
	}); err != nil {
		t.Fatalf("twoaz: %s: listen udp %d: %v", p.Name, port, err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
}

// Prober sends a numbered UDP datagram every interval from a pod to an echo server and
// records when each answer comes back: the time line from which first-packet and
// failover times are read.
type Prober struct {
	conn     net.PacketConn
	dst      net.Addr
	interval time.Duration

	mu   sync.Mutex
	sent []time.Time // by sequence number
	recv []time.Time // zero until answered

	stop chan struct{}
	done sync.WaitGroup
}

// StartProber starts probing dst:port from the pod every interval.
func (p *Pod) StartProber(dst netip.Addr, port int, interval time.Duration) (*Prober, error) {
	var pc net.PacketConn
	if err := p.NS.Do(func(ns.NetNS) error {
		var err error
		pc, err = net.ListenPacket("udp4", ":0")
		return err
	}); err != nil {
		return nil, fmt.Errorf("prober in %s: %w", p.Name, err)
	}
	pr := &Prober{conn: pc, dst: net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, uint16(port))), interval: interval, stop: make(chan struct{})}
	pr.done.Add(2)
	go pr.send()
	go pr.receive()
	return pr, nil
}

func (pr *Prober) send() {
	defer pr.done.Done()
	tick := time.NewTicker(pr.interval)
	defer tick.Stop()
	buf := make([]byte, 8)
	for {
		pr.mu.Lock()
		seq := len(pr.sent)
		pr.sent = append(pr.sent, time.Now())
		pr.recv = append(pr.recv, time.Time{})
		pr.mu.Unlock()
		binary.BigEndian.PutUint64(buf, uint64(seq))
		_, _ = pr.conn.WriteTo(buf, pr.dst)
		select {
		case <-pr.stop:
			return
		case <-tick.C:
		}
	}
}

func (pr *Prober) receive() {
	defer pr.done.Done()
	buf := make([]byte, 64)
	for {
		n, _, err := pr.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		now := time.Now()
		if n != 8 {
			continue
		}
		seq := binary.BigEndian.Uint64(buf)
		pr.mu.Lock()
		if seq < uint64(len(pr.recv)) && pr.recv[seq].IsZero() {
			pr.recv[seq] = now
		}
		pr.mu.Unlock()
	}
}

// Stop ends the probing.
func (pr *Prober) Stop() {
	select {
	case <-pr.stop:
		return
	default:
	}
	close(pr.stop)
	pr.conn.Close()
	pr.done.Wait()
}

// FirstAnswer returns when the first answer to a probe sent at or after t0 arrived.
func (pr *Prober) FirstAnswer(t0 time.Time) (time.Time, bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	var first time.Time
	for i, s := range pr.sent {
		if s.Before(t0) || pr.recv[i].IsZero() {
			continue
		}
		if first.IsZero() || pr.recv[i].Before(first) {
			first = pr.recv[i]
		}
	}
	return first, !first.IsZero()
}

// ErrNotSettled means the probes after t0 have not yet shown a steady run of answers.
var ErrNotSettled = errors.New("traffic has not settled yet")

// Recovery reads the time line after a disruption at t0: it returns when traffic was
// flowing again (the arrival of the first answer after the last lost probe), once `stable`
// consecutive probes since then were answered. A probe counts as lost when it is
// unanswered after lossAfter. If no probe after t0 was lost, it is the first answer after
// t0.
func (pr *Prober) Recovery(t0 time.Time, lossAfter time.Duration, stable int) (time.Time, error) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	now := time.Now()
	lastLost := -1
	start := -1
	for i, s := range pr.sent {
		if s.Before(t0) {
			continue
		}
		if start < 0 {
			start = i
		}
		if pr.recv[i].IsZero() && now.Sub(s) > lossAfter {
			lastLost = i
		}
	}
	if start < 0 {
		return time.Time{}, ErrNotSettled
	}
	from := start
	if lastLost >= 0 {
		from = lastLost + 1
	}
	ok := 0
	for i := from; i < len(pr.sent) && !pr.recv[i].IsZero(); i++ {
		ok++
	}
	if ok < stable {
		return time.Time{}, fmt.Errorf("%w: %d answered since probe %d", ErrNotSettled, ok, from)
	}
	return pr.recv[from], nil
}

// Lost returns how many probes sent in [from, to) went unanswered.
func (pr *Prober) Lost(from, to time.Time) int {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	n := 0
	for i, s := range pr.sent {
		if !s.Before(from) && s.Before(to) && pr.recv[i].IsZero() {
			n++
		}
	}
	return n
}

// Timeline summarizes the probes sent in [from, to) as runs of answered ("+") and lost
// ("-") probes with their start offsets from from, for logs: "+0s x12, -0.24s x3, ...".
func (pr *Prober) Timeline(from, to time.Time) string {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	var b strings.Builder
	run, runOK, runStart := 0, false, time.Duration(0)
	flush := func() {
		if run == 0 {
			return
		}
		sign := "-"
		if runOK {
			sign = "+"
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s%.2fs x%d", sign, runStart.Seconds(), run)
	}
	// Probes of the last 300 ms may still be on their way: leave them out.
	if cut := time.Now().Add(-300 * time.Millisecond); to.After(cut) {
		to = cut
	}
	for i, s := range pr.sent {
		if s.Before(from) || !s.Before(to) {
			continue
		}
		ok := !pr.recv[i].IsZero()
		if run > 0 && ok == runOK {
			run++
			continue
		}
		flush()
		run, runOK, runStart = 1, ok, s.Sub(from)
	}
	flush()
	return b.String()
}

// PingSize sends one ICMP echo with a payload of size bytes.
func (p *Pod) PingSize(ip netip.Addr, size int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := cnitest.Run(ctx, p.NS, "busybox", "ping", "-c1", "-W1", "-s", fmt.Sprint(size), ip.String())
	return err
}

// SetMTU sets the MTU of both ends of the pod's veth (a veth drops frames larger than the
// receiving end's MTU).
func (p *Pod) SetMTU(t TB, mtu int) {
	t.Helper()
	cnitest.MustRun(t, p.Node.NS, "ip", "link", "set", hostIfName(p.Name), "mtu", fmt.Sprint(mtu))
	cnitest.MustRun(t, p.NS, "ip", "link", "set", "eth0", "mtu", fmt.Sprint(mtu))
}

// PathMTU returns the MTU the pod's kernel uses towards ip: the path MTU it learned from an
// ICMP "fragmentation needed", else the route's (the device's) MTU.
func (p *Pod) PathMTU(t TB, ip netip.Addr) int {
	t.Helper()
	out := cnitest.MustRun(t, p.NS, "ip", "route", "get", ip.String())
	f := strings.Fields(out)
	for i := range f {
		if f[i] == "mtu" && i+1 < len(f) {
			var mtu int
			if _, err := fmt.Sscan(f[i+1], &mtu); err == nil {
				return mtu
			}
		}
	}
	return 0
}
