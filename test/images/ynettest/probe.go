package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// probeResult is what udp-probe reports: how many datagrams were sent and answered, and
// every outage - a run of consecutive unanswered datagrams - with wall-clock times, so a
// caller can line outages up with what it did meanwhile (stopping a gateway, say).
type probeResult struct {
	Op       string `json:"op"`
	Addr     string `json:"addr"`
	Interval string `json:"interval"`
	Sent     int    `json:"sent"`
	Answered int    `json:"answered"`
	// StartUnixMs and EndUnixMs bound the run.
	StartUnixMs int64    `json:"start_unix_ms"`
	EndUnixMs   int64    `json:"end_unix_ms"`
	Outages     []outage `json:"outages"`
	// LastAnswered is whether the final datagram was answered (traffic flows at the end).
	LastAnswered bool `json:"last_answered"`
}

// outage spans from the last answered datagram before it (or the first sent) to the first
// answered one after it (0 when traffic never came back).
type outage struct {
	FromUnixMs int64 `json:"from_unix_ms"`
	ToUnixMs   int64 `json:"to_unix_ms"`
	Lost       int   `json:"lost"`
}

// udpProbe sends a numbered datagram every interval for duration and matches echoes to
// their sequence numbers, so a long outage costs one timeout per datagram, not a stall.
func udpProbe(args []string) (any, error) {
	fs := flag.NewFlagSet("udp-probe", flag.ContinueOnError)
	addr := fs.String("addr", "", "HOST:PORT of a UDP echo server")
	interval := fs.Duration("interval", 20*time.Millisecond, "time between datagrams")
	duration := fs.Duration("duration", 10*time.Second, "how long to probe")
	wait := fs.Duration("timeout", 500*time.Millisecond, "a datagram not answered within this is lost")
	steady := fs.Int("steady", 0, "print {\"steady\":true} on stderr once this many consecutive datagrams were answered (0: never), so a caller knows traffic flows before it breaks something")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *addr == "" || *interval <= 0 || *duration <= 0 {
		return nil, fmt.Errorf("--addr, a positive --interval and --duration are required")
	}
	c, err := net.Dial("udp", *addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()

	var (
		mu       sync.Mutex
		sentAt   []time.Time
		answered = map[int]bool{}
	)
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := c.Read(buf)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					continue
				}
				return // closed
			}
			var seq int
			if _, err := fmt.Sscanf(string(buf[:n]), "%08d", &seq); err == nil {
				mu.Lock()
				answered[seq] = true
				mu.Unlock()
			}
		}
	}()
	start := time.Now()
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	signalled := *steady <= 0
	for seq := 0; time.Since(start) < *duration; seq++ {
		mu.Lock()
		sentAt = append(sentAt, time.Now())
		if !signalled && seq > *steady {
			// The datagram just sent is still in flight: look at the ones before it.
			run := 0
			for i := seq - 1; i >= 0 && answered[i]; i-- {
				run++
			}
			if run >= *steady {
				signalled = true
				fmt.Fprintln(os.Stderr, `{"op":"udp-probe","steady":true}`)
			}
		}
		mu.Unlock()
		// A send error (no route yet) is a lost datagram like any other.
		_, _ = fmt.Fprintf(c, "%08d", seq)
		<-tick.C
	}
	// The last datagrams' answers: until the last one is in, at most the timeout.
	for end := time.Now().Add(*wait); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		done := answered[len(sentAt)-1]
		mu.Unlock()
		if done {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()

	res := probeResult{Op: "udp-probe", Addr: *addr, Interval: interval.String(), Sent: len(sentAt),
		StartUnixMs: start.UnixMilli(), EndUnixMs: time.Now().UnixMilli()}
	var cur *outage
	lastOK := start
	for seq, t := range sentAt {
		if answered[seq] {
			res.Answered++
			if cur != nil {
				cur.ToUnixMs = t.UnixMilli()
				res.Outages = append(res.Outages, *cur)
				cur = nil
			}
			lastOK = t
			continue
		}
		if cur == nil {
			cur = &outage{FromUnixMs: lastOK.UnixMilli()}
		}
		cur.Lost++
	}
	if cur != nil {
		res.Outages = append(res.Outages, *cur)
	}
	res.LastAnswered = len(sentAt) > 0 && answered[len(sentAt)-1]
	if res.Answered == 0 {
		return nil, fmt.Errorf("none of %d datagrams to %s answered", len(sentAt), *addr)
	}
	return res, nil
}
