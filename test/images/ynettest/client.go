package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// latencies summarises round-trip samples in microseconds.
type latencies struct {
	Min  int64 `json:"min_us"`
	P50  int64 `json:"p50_us"`
	P90  int64 `json:"p90_us"`
	P99  int64 `json:"p99_us"`
	Max  int64 `json:"max_us"`
	Mean int64 `json:"mean_us"`
}

func summarize(samples []time.Duration) latencies {
	if len(samples) == 0 {
		return latencies{}
	}
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) int64 { return s[int(q*float64(len(s)-1)+0.5)].Microseconds() }
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return latencies{
		Min: s[0].Microseconds(), P50: at(0.5), P90: at(0.9), P99: at(0.99),
		Max: s[len(s)-1].Microseconds(), Mean: (sum / time.Duration(len(s))).Microseconds(),
	}
}

type rrResult struct {
	Op        string `json:"op"`
	Addr      string `json:"addr"`
	Count     int    `json:"count"`
	Size      int    `json:"size"`
	Lost      int    `json:"lost,omitempty"`
	ConnectUS int64  `json:"connect_us,omitempty"`
	latencies
}

func rrFlags(name string, args []string) (addr string, count, size int, timeout time.Duration, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	a := fs.String("addr", "", "HOST:PORT of an echo server")
	c := fs.Int("count", 10, "round trips")
	s := fs.Int("size", 64, "bytes per request")
	t := fs.Duration("timeout", 5*time.Second, "timeout per round trip (and for connecting)")
	if err = fs.Parse(args); err != nil {
		return
	}
	if *a == "" || *c < 1 || *s < 1 || *s > 65000 {
		err = errors.New("need --addr, --count >= 1 and 1 <= --size <= 65000")
		return
	}
	return *a, *c, *s, *t, nil
}

// tcpRR connects once and does count request/response exchanges of size bytes each.
func tcpRR(args []string) (any, error) {
	addr, count, size, timeout, err := rrFlags("tcp-rr", args)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	res := rrResult{Op: "tcp-rr", Addr: addr, Count: count, Size: size, ConnectUS: time.Since(start).Microseconds()}
	req, resp := bytes.Repeat([]byte{'y'}, size), make([]byte, size)
	samples := make([]time.Duration, 0, count)
	for i := 0; i < count; i++ {
		t0 := time.Now()
		_ = c.SetDeadline(t0.Add(timeout))
		if _, err := c.Write(req); err != nil {
			return nil, fmt.Errorf("round trip %d: %w", i, err)
		}
		if _, err := io.ReadFull(c, resp); err != nil {
			return nil, fmt.Errorf("round trip %d: %w", i, err)
		}
		samples = append(samples, time.Since(t0))
	}
	res.latencies = summarize(samples)
	return res, nil
}

// udpRR sends count datagrams one at a time and waits for each echo; a datagram without an
// answer within the timeout counts as lost. It fails only when every datagram is lost.
func udpRR(args []string) (any, error) {
	addr, count, size, timeout, err := rrFlags("udp-rr", args)
	if err != nil {
		return nil, err
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	res := rrResult{Op: "udp-rr", Addr: addr, Count: count, Size: size}
	buf := make([]byte, size+1)
	samples := make([]time.Duration, 0, count)
	for i := 0; i < count; i++ {
		req := []byte(fmt.Sprintf("%08d", i))
		req = append(req, bytes.Repeat([]byte{'y'}, max(0, size-len(req)))...)
		t0 := time.Now()
		_ = c.SetDeadline(t0.Add(timeout))
		if _, err := c.Write(req); err != nil {
			return nil, fmt.Errorf("datagram %d: %w", i, err)
		}
		for {
			n, err := c.Read(buf)
			if err != nil {
				res.Lost++
				break
			}
			// Late echoes of earlier datagrams are skipped: only our sequence number counts.
			if n >= 8 && string(buf[:8]) == string(req[:8]) {
				samples = append(samples, time.Since(t0))
				break
			}
		}
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("all %d datagrams to %s lost", count, addr)
	}
	res.latencies = summarize(samples)
	return res, nil
}

type httpResult struct {
	Op     string `json:"op"`
	URL    string `json:"url"`
	Count  int    `json:"count"`
	Status int    `json:"status"`
	Bytes  int64  `json:"bytes"`
	Body   string `json:"body"`
	latencies
}

// httpGet fetches the URL count times over fresh connections and reports the last answer
// (its status, size and the first 512 bytes of its body).
func httpGet(args []string) (any, error) {
	fs := flag.NewFlagSet("http-get", flag.ContinueOnError)
	url := fs.String("url", "", "URL to GET")
	count := fs.Int("count", 1, "requests")
	timeout := fs.Duration("timeout", 5*time.Second, "timeout per request")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *url == "" || *count < 1 {
		return nil, errors.New("need --url and --count >= 1")
	}
	cl := &http.Client{Timeout: *timeout, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	res := httpResult{Op: "http-get", URL: *url, Count: *count}
	samples := make([]time.Duration, 0, *count)
	for i := 0; i < *count; i++ {
		t0 := time.Now()
		r, err := cl.Get(*url)
		if err != nil {
			return nil, err
		}
		var body bytes.Buffer
		n, err := io.Copy(&body, r.Body)
		r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		samples = append(samples, time.Since(t0))
		res.Status, res.Bytes = r.StatusCode, n
		res.Body = string(body.Bytes()[:min(body.Len(), 512)])
	}
	res.latencies = summarize(samples)
	return res, nil
}

type tputResult struct {
	Op      string  `json:"op"`
	Addr    string  `json:"addr"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
	Mbps    float64 `json:"mbps"`
}

// throughput streams to a sink for the duration, half-closes, and divides the byte count
// the sink confirms by the time until that confirmation arrived.
func throughput(args []string) (any, error) {
	fs := flag.NewFlagSet("throughput", flag.ContinueOnError)
	addr := fs.String("addr", "", "HOST:PORT of a sink (serve --sink)")
	dur := fs.Duration("duration", 2*time.Second, "how long to send")
	timeout := fs.Duration("timeout", 10*time.Second, "timeout for connecting and for the sink's answer")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *addr == "" || *dur <= 0 {
		return nil, errors.New("need --addr and a positive --duration")
	}
	c, err := net.DialTimeout("tcp", *addr, *timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	tc := c.(*net.TCPConn)
	buf := bytes.Repeat([]byte{'y'}, 128*1024)
	start := time.Now()
	end := start.Add(*dur)
	_ = c.SetWriteDeadline(end)
	for time.Now().Before(end) {
		if _, err := c.Write(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			return nil, fmt.Errorf("send: %w", err)
		}
	}
	_ = c.SetWriteDeadline(time.Time{})
	if err := tc.CloseWrite(); err != nil {
		return nil, fmt.Errorf("half-close: %w", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(*timeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("sink answer: %w", err)
	}
	secs := time.Since(start).Seconds()
	n, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("sink answer %q: %w", line, err)
	}
	return tputResult{Op: "throughput", Addr: *addr, Bytes: n, Seconds: secs, Mbps: float64(n) * 8 / secs / 1e6}, nil
}
