package jsonrpc

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

func dial(t *testing.T, endpoint string, opts Options) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := Dial(ctx, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c := New(nc, opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCallsAndErrors(t *testing.T) {
	srv := ovsdbtest.StartStandalone(t, ovsdbtest.NBSchema)
	c := dial(t, srv.Endpoint(), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var dbs []string
	if err := c.Call(ctx, "list_dbs", []any{}, &dbs); err != nil || !strings.Contains(strings.Join(dbs, ","), "OVN_Northbound") {
		t.Fatalf("list_dbs: %v %v", dbs, err)
	}
	err := c.Call(ctx, "get_schema", []any{"NoSuchDB"}, nil)
	var je *Error
	if !errors.As(err, &je) || je.Err != "unknown database" || je.Method != "get_schema" {
		t.Fatalf("get_schema of unknown db: %#v", err)
	}
	err = c.Call(ctx, "no_such_method", []any{}, nil)
	if !errors.As(err, &je) || !strings.Contains(je.Err, "unknown method") {
		t.Fatalf("unknown method: %#v", err)
	}
	// Concurrent calls are matched to their replies by id.
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []any
			if err := c.Call(ctx, "echo", []any{float64(i)}, &out); err != nil || len(out) != 1 || out[0] != float64(i) {
				t.Errorf("echo %d: %v %v", i, out, err)
			}
		}()
	}
	wg.Wait()
}

func TestNotificationsFollowInlineReply(t *testing.T) {
	srv := ovsdbtest.StartStandalone(t, ovsdbtest.NBSchema)
	var mu sync.Mutex
	var order []string
	c := dial(t, srv.Endpoint(), Options{OnNotification: func(method string, params json.RawMessage) {
		mu.Lock()
		order = append(order, method)
		mu.Unlock()
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reqs := map[string]any{"Logical_Switch": []any{map[string]any{"columns": []string{"name"}}}}
	if err := c.CallInline(ctx, "monitor_cond", []any{"OVN_Northbound", "m", reqs}, func(json.RawMessage) error {
		mu.Lock()
		order = append(order, "reply")
		mu.Unlock()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Updates caused by a transaction arrive before its reply.
	if err := c.Call(ctx, "transact", []any{"OVN_Northbound",
		map[string]any{"op": "insert", "table": "Logical_Switch", "row": map[string]any{"name": "x"}}}, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(order, ",") != "reply,update2" {
		t.Fatalf("order %v", order)
	}
}

// TestAnswersServerProbe stays idle on TCP past the server's inactivity probe (5 s to
// probe, 5 s more to give up): the connection survives only if our echo replies work.
func TestAnswersServerProbe(t *testing.T) {
	t.Parallel()
	srv := ovsdbtest.StartStandalone(t, ovsdbtest.NBSchema, ovsdbtest.WithTCP())
	c := dial(t, srv.Endpoint(), Options{})
	select {
	case <-c.Done():
		t.Fatalf("connection closed while idle: %v", c.Err())
	case <-time.After(11 * time.Second):
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Call(ctx, "list_dbs", []any{}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestProbeClosesSilentPeer(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	go func() { // a peer that reads everything and never answers
		buf := make([]byte, 4096)
		for {
			if _, err := b.Read(buf); err != nil {
				return
			}
		}
	}()
	c := New(a, Options{InactivityProbe: 50 * time.Millisecond})
	select {
	case <-c.Done():
		if !strings.Contains(c.Err().Error(), "inactivity probe") {
			t.Fatalf("closed for %v", c.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("silent peer not detected")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.Call(ctx, "echo", []any{}, nil); err == nil {
		t.Fatal("call on a dead connection succeeded")
	}
}

func TestParseEndpoints(t *testing.T) {
	eps, err := ParseEndpoints(" unix:/a.sock, tcp:127.0.0.1:6641 ,")
	if err != nil || len(eps) != 2 || eps[1] != "tcp:127.0.0.1:6641" {
		t.Fatalf("%v %v", eps, err)
	}
	for _, bad := range []string{"", "ssl:1.2.3.4:5", "tcp:nohost", "unix:", "/plain/path"} {
		if _, err := ParseEndpoints(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzReadLoop feeds arbitrary bytes from a peer: the reader must never panic, and must
// either keep going or close the connection with an error.
func FuzzReadLoop(f *testing.F) {
	for _, s := range []string{
		`{"id":"echo","method":"echo","params":[]}`,
		`{"id":null,"method":"update2","params":["m",{}]}`,
		`{"id":1,"result":[],"error":null}{"id":1,"result":null,"error":{"error":"x","details":"y"}}`,
		`{"id":2,"error":"plain"}`, `[1,2]`, `{"id":{"x":1},"result":1}`, `{"method":"echo","id":[1],"params":7}`,
		`}{`, `{"id":1e99,"result":1}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		a, b := net.Pipe()
		c := New(a, Options{OnNotification: func(string, json.RawMessage) {}})
		go func() { // drain our replies so writes never block
			buf := make([]byte, 4096)
			for {
				if _, err := b.Read(buf); err != nil {
					return
				}
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		go func() { _, _ = c.CallRaw(ctx, "echo", []any{}) }()
		_, _ = b.Write([]byte(in))
		b.Close()
		select {
		case <-c.Done():
			if c.Err() == nil {
				t.Fatal("closed without an error")
			}
		case <-time.After(2 * time.Second):
			t.Fatal("reader did not notice the closed peer")
		}
	})
}
