package ovsdbtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"
)

// Cluster is a raft cluster of ovsdb-server processes serving one database. Members talk
// raft over tcp:127.0.0.1; clients reach each member on its own unix socket.
type Cluster struct {
	t       TB
	Members []*Server
	DBName  string
}

// freePort asks the kernel for a free port. The port is released before the server binds
// it, so another process could take it in between; on a test machine that is rare, and a
// server that cannot bind shows up in its log and fails the start.
func freePort(t TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("ovsdbtest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartCluster creates an n-member cluster (ovsdb-tool create-cluster on member 0,
// join-cluster on the others), starts every member and waits until all have joined and a
// leader is elected.
func StartCluster(t TB, schemaPath string, n int) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("ovsdbtest: cluster of %d members", n)
	}
	dir := shortDir(t)
	c := &Cluster{t: t, DBName: schemaName(t, schemaPath)}
	addrs := make([]string, n)
	for i := range n {
		addrs[i] = fmt.Sprintf("tcp:127.0.0.1:%d", freePort(t))
		s := newServer(t, dir, c.DBName, fmt.Sprintf("m%d", i))
		c.Members = append(c.Members, s)
		if i == 0 {
			run(t, "ovsdb-tool", "create-cluster", s.DBPath, schemaPath, addrs[0])
		} else {
			run(t, "ovsdb-tool", "join-cluster", s.DBPath, c.DBName, addrs[i], addrs[0])
		}
	}
	for _, s := range c.Members {
		s.start()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i, s := range c.Members {
		for {
			st, err := memberStatus(ctx, s.Endpoint(), c.DBName)
			if err == nil && st.Connected {
				break
			}
			if ctx.Err() != nil {
				s.dumpLog()
				t.Fatalf("ovsdbtest: cluster member %d did not join: %v", i, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	c.Leader()
	return c
}

// Endpoints returns the members' client endpoints, comma-separated.
func (c *Cluster) Endpoints() string {
	eps := make([]string, len(c.Members))
	for i, s := range c.Members {
		eps[i] = s.Endpoint()
	}
	return strings.Join(eps, ",")
}

// MemberStatus is a member's own view of the database, from its _Server database.
type MemberStatus struct {
	Connected bool
	Leader    bool
	Index     int64
}

func memberStatus(ctx context.Context, endpoint, db string) (MemberStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	res, err := Transact(ctx, endpoint, "_Server", map[string]any{
		"op": "select", "table": "Database",
		"where":   []any{[]any{"name", "==", db}},
		"columns": []string{"connected", "leader", "index"},
	})
	if err != nil {
		return MemberStatus{}, err
	}
	var r struct {
		Rows []struct {
			Connected bool `json:"connected"`
			Leader    bool `json:"leader"`
			Index     any  `json:"index"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(res[0], &r); err != nil || len(r.Rows) != 1 {
		return MemberStatus{}, fmt.Errorf("_Server select: %s (%v)", res[0], err)
	}
	st := MemberStatus{Connected: r.Rows[0].Connected, Leader: r.Rows[0].Leader}
	if f, ok := r.Rows[0].Index.(float64); ok {
		st.Index = int64(f)
	}
	return st, nil
}

// Status returns member i's view; an error when it does not answer.
func (c *Cluster) Status(ctx context.Context, i int) (MemberStatus, error) {
	return memberStatus(ctx, c.Members[i].Endpoint(), c.DBName)
}

// Leader waits (up to 30 s) until exactly one running member says it is the connected
// leader, and returns its index.
func (c *Cluster) Leader() int {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		leader, n := -1, 0
		for i, s := range c.Members {
			if s.exited() {
				continue
			}
			st, err := c.Status(ctx, i)
			if err == nil && st.Leader && st.Connected {
				leader = i
				n++
			}
		}
		if n == 1 {
			return leader
		}
		if ctx.Err() != nil {
			c.t.Fatalf("ovsdbtest: cluster %s has no single leader (%d claim it)", c.DBName, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill kills member i (SIGKILL).
func (c *Cluster) Kill(i int) { c.Members[i].Kill() }

// Start restarts a killed or stopped member i on its database file.
func (c *Cluster) Start(i int) { c.t.Helper(); c.Members[i].Start() }

// Dir returns the directory holding the members' files.
func (c *Cluster) Dir() string { return filepath.Dir(c.Members[0].DBPath) }
