package ovsdbtest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// OVNCentral is an OVN central: standalone NB and SB ovsdb-servers and ovn-northd
// translating one into the other.
type OVNCentral struct {
	t      TB
	NB, SB *Server
	northd *exec.Cmd
	done   chan struct{}
	dir    string
}

// StartOVNCentral starts NB and SB databases from the installed schemas, creates the
// NB_Global row (what `ovn-nbctl init` does), starts ovn-northd and waits until northd
// has written SB_Global, which proves it is connected to both databases.
func StartOVNCentral(t TB) *OVNCentral {
	t.Helper()
	o := &OVNCentral{t: t}
	o.NB = StartStandalone(t, NBSchema)
	o.SB = StartStandalone(t, SBSchema)
	o.dir = o.NB.Dir
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Insert NB_Global only if there is none, in one transaction (wait + insert).
	if _, err := o.NB.Transact(ctx,
		map[string]any{"op": "wait", "table": "NB_Global", "where": []any{}, "columns": []string{},
			"until": "==", "rows": []any{}, "timeout": 0},
		map[string]any{"op": "insert", "table": "NB_Global", "row": map[string]any{}},
	); err != nil {
		t.Fatalf("ovsdbtest: init NB_Global: %v", err)
	}
	dir := filepath.Join(o.dir, "northd")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("ovsdbtest: %v", err)
	}
	cmd := exec.Command("ovn-northd",
		"--ovnnb-db="+o.NB.Endpoint(),
		"--ovnsb-db="+o.SB.Endpoint(),
		"--unixctl="+filepath.Join(dir, "northd.ctl"),
		"--log-file="+filepath.Join(dir, "northd.log"),
		"-vconsole:off",
	)
	// northd writes its pidfile and other run files under OVN_RUNDIR.
	cmd.Env = append(os.Environ(), "OVN_RUNDIR="+dir, "OVS_RUNDIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatalf("ovsdbtest: start ovn-northd: %v", err)
	}
	o.northd = cmd
	o.done = make(chan struct{})
	go func() { _ = cmd.Wait(); close(o.done) }()
	t.Cleanup(o.StopNorthd)
	for {
		res, err := o.SB.Transact(ctx, map[string]any{"op": "select", "table": "SB_Global", "where": []any{}})
		if err == nil {
			var r struct {
				Rows []json.RawMessage `json:"rows"`
			}
			if json.Unmarshal(res[0], &r) == nil && len(r.Rows) == 1 {
				return o
			}
		}
		select {
		case <-o.done:
			t.Fatalf("ovsdbtest: ovn-northd exited; see %s", filepath.Join(dir, "northd.log"))
		case <-ctx.Done():
			t.Fatalf("ovsdbtest: ovn-northd did not initialize SB_Global: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// NBEndpoint returns the northbound database endpoint.
func (o *OVNCentral) NBEndpoint() string { return o.NB.Endpoint() }

// SBEndpoint returns the southbound database endpoint.
func (o *OVNCentral) SBEndpoint() string { return o.SB.Endpoint() }

// StopNorthd terminates ovn-northd (by PID) and waits for it.
func (o *OVNCentral) StopNorthd() {
	select {
	case <-o.done:
		return
	default:
	}
	_ = o.northd.Process.Signal(syscall.SIGTERM)
	select {
	case <-o.done:
	case <-time.After(10 * time.Second):
		_ = o.northd.Process.Kill()
		<-o.done
	}
}
