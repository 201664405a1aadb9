package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Every client against real servers on loopback: the numbers must be plausible and the
// results must survive a JSON round trip (tests in the lab parse exactly this output).
func TestClientsAgainstServers(t *testing.T) {
	bound, err := startServers("127.0.0.1", map[string]string{"tcp": "0", "udp": "0", "http": "0", "sink": "0"}, "unit")
	if err != nil {
		t.Fatal(err)
	}
	addr := func(kind string) string { return fmt.Sprintf("127.0.0.1:%d", bound[kind][0]) }

	cases := []struct {
		name  string
		run   func([]string) (any, error)
		args  []string
		check func(t *testing.T, m map[string]any)
	}{
		{"tcp-rr", tcpRR, []string{"--addr", addr("tcp"), "--count", "20", "--size", "100"}, func(t *testing.T, m map[string]any) {
			if m["count"].(float64) != 20 || m["p50_us"].(float64) <= 0 || m["max_us"].(float64) < m["min_us"].(float64) {
				t.Errorf("implausible tcp-rr result %v", m)
			}
		}},
		{"udp-rr", udpRR, []string{"--addr", addr("udp"), "--count", "5"}, func(t *testing.T, m map[string]any) {
			if _, lost := m["lost"]; lost || m["p50_us"].(float64) <= 0 {
				t.Errorf("loopback udp lost datagrams or has no latency: %v", m)
			}
		}},
		{"http-get root", httpGet, []string{"--url", "http://" + addr("http") + "/x"}, func(t *testing.T, m map[string]any) {
			if m["status"].(float64) != 200 || !strings.Contains(m["body"].(string), `"hostname":"unit"`) || !strings.Contains(m["body"].(string), `"path":"/x"`) {
				t.Errorf("unexpected http-get result %v", m)
			}
		}},
		{"http-get bytes", httpGet, []string{"--url", "http://" + addr("http") + "/bytes?n=100000", "--count", "2"}, func(t *testing.T, m map[string]any) {
			if m["bytes"].(float64) != 100000 || len(m["body"].(string)) != 512 {
				t.Errorf("unexpected /bytes result: bytes=%v body=%d", m["bytes"], len(m["body"].(string)))
			}
		}},
		{"throughput", throughput, []string{"--addr", addr("sink"), "--duration", "200ms"}, func(t *testing.T, m map[string]any) {
			if m["bytes"].(float64) <= 0 || m["mbps"].(float64) <= 0 || m["seconds"].(float64) < 0.2 {
				t.Errorf("implausible throughput %v", m)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.run(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			tc.check(t, m)
		})
	}
}

func TestClientErrors(t *testing.T) {
	// A port nobody listens on: tcp fails to connect, udp loses every datagram.
	if _, err := tcpRR([]string{"--addr", "127.0.0.1:1", "--timeout", "1s"}); err == nil {
		t.Error("tcp-rr to a closed port succeeded")
	}
	if _, err := udpRR([]string{"--addr", "127.0.0.1:1", "--count", "2", "--timeout", "100ms"}); err == nil {
		t.Error("udp-rr to a closed port succeeded")
	}
	if _, err := tcpRR([]string{"--count", "1"}); err == nil {
		t.Error("tcp-rr without --addr succeeded")
	}
	if _, err := ports("80,x"); err == nil {
		t.Error("bad port list accepted")
	}
}

func TestSummarize(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- {
		s = append(s, time.Duration(i)*time.Microsecond)
	}
	l := summarize(s)
	if l.Min != 1 || l.Max != 100 || l.P50 != 51 || l.P99 != 99 || l.Mean != 50 {
		t.Fatalf("summarize: %+v", l)
	}
}
