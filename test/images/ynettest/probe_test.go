package main

import (
	"fmt"
	"net"
	"testing"
)

// An echo server that ignores datagrams 10..19 must show up as exactly one outage of ten
// datagrams, and traffic flowing at the end.
func TestUDPProbeOutage(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var seq int
			if _, err := fmt.Sscanf(string(buf[:n]), "%08d", &seq); err == nil && seq >= 10 && seq < 20 {
				continue
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	res, err := udpProbe([]string{"--addr", pc.LocalAddr().String(), "--interval", "5ms", "--duration", "200ms", "--timeout", "100ms"})
	if err != nil {
		t.Fatal(err)
	}
	r := res.(probeResult)
	if len(r.Outages) != 1 || r.Outages[0].Lost != 10 || !r.LastAnswered || r.Answered != r.Sent-10 {
		t.Fatalf("want one outage of 10 datagrams: %+v", r)
	}
	if o := r.Outages[0]; o.ToUnixMs < o.FromUnixMs || o.FromUnixMs < r.StartUnixMs || o.ToUnixMs > r.EndUnixMs {
		t.Fatalf("outage times out of order: %+v", r)
	}
}
