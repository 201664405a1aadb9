package ovsdbtest

import (
	"context"
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStandaloneUnixRestartKeepsData(t *testing.T) {
	s := StartStandalone(t, NBSchema)
	if !strings.HasPrefix(s.Endpoint(), "unix:") {
		t.Fatalf("endpoint %q", s.Endpoint())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := s.Transact(ctx, map[string]any{"op": "insert", "table": "Logical_Switch", "row": map[string]any{"name": "ls0"}}); err != nil {
		t.Fatal(err)
	}
	pid := s.PID()
	s.Restart()
	if s.PID() == pid || s.PID() == 0 {
		t.Fatalf("restart kept pid %d (now %d)", pid, s.PID())
	}
	res, err := s.Transact(ctx, map[string]any{"op": "select", "table": "Logical_Switch", "where": []any{}, "columns": []string{"name"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res[0]), `"ls0"`) {
		t.Fatalf("row lost across restart: %s", res[0])
	}
	old := s.PID()
	s.Stop()
	if s.PID() != 0 {
		t.Fatalf("stopped server still has pid %d", s.PID())
	}
	// The process is really gone: signal 0 fails.
	if err := syscall.Kill(old, 0); err == nil {
		t.Fatalf("process %d still exists after Stop", old)
	}
}

func TestStandaloneTCPRestartSamePort(t *testing.T) {
	s := StartStandalone(t, NBSchema, WithTCP())
	ep := s.Endpoint()
	if !strings.HasPrefix(ep, "tcp:127.0.0.1:") || strings.HasSuffix(ep, ":0") {
		t.Fatalf("endpoint %q", ep)
	}
	s.Kill()
	s.Start()
	if s.Endpoint() != ep {
		t.Fatalf("endpoint changed across restart: %s -> %s", ep, s.Endpoint())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := Call(ctx, ep, "list_dbs", []any{})
	if err != nil {
		t.Fatal(err)
	}
	var dbs []string
	if err := json.Unmarshal(raw, &dbs); err != nil || !contains(dbs, "OVN_Northbound") {
		t.Fatalf("list_dbs = %s (%v)", raw, err)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestClusterLeaderFailover(t *testing.T) {
	c := StartCluster(t, NBSchema, 3)
	if n := len(strings.Split(c.Endpoints(), ",")); n != 3 {
		t.Fatalf("endpoints %q", c.Endpoints())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leader := c.Leader()
	if _, err := Transact(ctx, c.Members[leader].Endpoint(), c.DBName,
		map[string]any{"op": "insert", "table": "Logical_Switch", "row": map[string]any{"name": "before"}}); err != nil {
		t.Fatal(err)
	}
	c.Kill(leader)
	next := c.Leader()
	if next == leader {
		t.Fatalf("killed leader %d is still the leader", leader)
	}
	res, err := Transact(ctx, c.Members[next].Endpoint(), c.DBName,
		map[string]any{"op": "select", "table": "Logical_Switch", "where": []any{}, "columns": []string{"name"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res[0]), `"before"`) {
		t.Fatalf("committed row lost in failover: %s", res[0])
	}
	c.Start(leader)
	st, err := c.Status(ctx, leader)
	for err != nil || !st.Connected {
		if ctx.Err() != nil {
			t.Fatalf("restarted member did not rejoin: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
		st, err = c.Status(ctx, leader)
	}
}

func TestOVNCentral(t *testing.T) {
	o := StartOVNCentral(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := o.NB.Transact(ctx, map[string]any{"op": "insert", "table": "Logical_Switch", "row": map[string]any{"name": "sw0"}}); err != nil {
		t.Fatal(err)
	}
	// northd turns the logical switch into a southbound Datapath_Binding.
	for {
		res, err := o.SB.Transact(ctx, map[string]any{"op": "select", "table": "Datapath_Binding", "where": []any{}, "columns": []string{"external_ids"}})
		if err == nil && strings.Contains(string(res[0]), `"sw0"`) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("northd did not create the datapath: %v %s", err, res)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
