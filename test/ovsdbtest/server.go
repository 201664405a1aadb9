// Package ovsdbtest starts real ovsdb-server processes (standalone, raft clusters, and a
// whole OVN central with ovn-northd) in temporary directories for tests, and stops them
// by PID when the test ends. It deliberately does not use internal/ovsdb, so that the
// client's own tests can use it, and so that a bug in the client cannot hide behind a
// bug in its harness: the few requests it makes are raw JSON-RPC.
//
// Every function takes a TB (a *testing.T or *testing.B fits); programs such as the
// benchmark can pass their own implementation.
package ovsdbtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Installed schemas (Debian packages ovn-common and openvswitch-common).
const (
	NBSchema      = "/usr/share/ovn/ovn-nb.ovsschema"
	SBSchema      = "/usr/share/ovn/ovn-sb.ovsschema"
	ICNBSchema    = "/usr/share/ovn/ovn-ic-nb.ovsschema"
	ICSBSchema    = "/usr/share/ovn/ovn-ic-sb.ovsschema"
	VSwitchSchema = "/usr/share/openvswitch/vswitch.ovsschema"
)

// TB is the part of testing.TB the harness needs.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	TempDir() string
	Failed() bool
}

// startTimeout bounds how long a server may take to start answering.
const startTimeout = 20 * time.Second

// Server is one ovsdb-server process serving one database file.
type Server struct {
	t        TB
	Dir      string
	DBPath   string
	DBName   string
	LogPath  string
	ctlPath  string
	sockPath string // unix socket, when not tcp
	tcp      bool
	port     int // tcp port, once known
	extra    []string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been reaped
}

// Option configures StartStandalone.
type Option func(*Server)

// WithTCP makes the server listen on tcp:127.0.0.1 (a free port) instead of a unix socket.
// The server's own inactivity probe only runs on TCP connections.
func WithTCP() Option { return func(s *Server) { s.tcp = true } }

// shortDir returns a directory whose paths fit in a unix socket address (108 bytes).
func shortDir(t TB) string {
	t.Helper()
	dir := t.TempDir()
	if len(dir) < 70 {
		return dir
	}
	dir, err := os.MkdirTemp("", "ovsdbtest")
	if err != nil {
		t.Fatalf("ovsdbtest: temp dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// schemaName reads the database name from a schema file.
func schemaName(t TB, schemaPath string) string {
	t.Helper()
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatalf("ovsdbtest: read schema: %v", err)
	}
	var s struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(data, &s); err != nil || s.Name == "" {
		t.Fatalf("ovsdbtest: schema %s has no name (%v)", schemaPath, err)
	}
	return s.Name
}

func run(t TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ovsdbtest: %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// StartStandalone creates a fresh database from schemaPath and serves it.
func StartStandalone(t TB, schemaPath string, opts ...Option) *Server {
	t.Helper()
	dir := shortDir(t)
	name := schemaName(t, schemaPath)
	s := newServer(t, dir, name, "db")
	for _, o := range opts {
		o(s)
	}
	run(t, "ovsdb-tool", "create", s.DBPath, schemaPath)
	s.start()
	return s
}

func newServer(t TB, dir, dbName, base string) *Server {
	s := &Server{
		t:        t,
		Dir:      dir,
		DBName:   dbName,
		DBPath:   filepath.Join(dir, base+".db"),
		LogPath:  filepath.Join(dir, base+".log"),
		ctlPath:  filepath.Join(dir, base+".ctl"),
		sockPath: filepath.Join(dir, base+".sock"),
	}
	t.Cleanup(func() {
		if t.Failed() {
			s.dumpLog()
		}
		s.Kill()
	})
	return s
}

func (s *Server) remote() string {
	if !s.tcp {
		return "punix:" + s.sockPath
	}
	// Port 0 picks a free port on first start; restarts reuse the port so that clients
	// can reconnect to the same endpoint.
	return fmt.Sprintf("ptcp:%d:127.0.0.1", s.port)
}

// Endpoint returns the client endpoint ("unix:PATH" or "tcp:127.0.0.1:PORT").
func (s *Server) Endpoint() string {
	if s.tcp {
		return fmt.Sprintf("tcp:127.0.0.1:%d", s.port)
	}
	return "unix:" + s.sockPath
}

// PID returns the process id (0 when stopped).
func (s *Server) PID() int {
	if s.cmd == nil || s.cmd.Process == nil || s.exited() {
		return 0
	}
	return s.cmd.Process.Pid
}

func (s *Server) exited() bool {
	if s.done == nil {
		return true
	}
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *Server) start() {
	s.t.Helper()
	args := []string{
		s.DBPath,
		"--remote=" + s.remote(),
		"--unixctl=" + s.ctlPath,
		"--log-file=" + s.LogPath,
		"-vconsole:off",
		"-vfile:info",
	}
	args = append(args, s.extra...)
	logOffset := int64(0)
	if fi, err := os.Stat(s.LogPath); err == nil {
		logOffset = fi.Size()
	}
	cmd := exec.Command("ovsdb-server", args...)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("ovsdbtest: start ovsdb-server: %v", err)
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(s.done)
	deadline := time.Now().Add(startTimeout)
	if s.tcp && s.port == 0 {
		s.port = s.waitPort(logOffset, deadline)
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := Call(ctx, s.Endpoint(), "list_dbs", []any{})
		cancel()
		if err == nil {
			return
		}
		if s.exited() || time.Now().After(deadline) {
			s.dumpLog()
			s.t.Fatalf("ovsdbtest: ovsdb-server for %s not answering at %s: %v", s.DBName, s.Endpoint(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var listenRE = regexp.MustCompile(`listening on port (\d+)`)

// waitPort reads the port the server bound for ptcp:0 from its log.
func (s *Server) waitPort(offset int64, deadline time.Time) int {
	s.t.Helper()
	for {
		if data, err := os.ReadFile(s.LogPath); err == nil && int64(len(data)) >= offset {
			if m := listenRE.FindSubmatch(data[offset:]); m != nil {
				p, _ := strconv.Atoi(string(m[1]))
				return p
			}
		}
		if s.exited() || time.Now().After(deadline) {
			s.dumpLog()
			s.t.Fatalf("ovsdbtest: ovsdb-server did not report its tcp port")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// signal sends sig to the process and, when wait is set, waits for it to exit (SIGKILL
// after 10 s).
func (s *Server) signal(sig syscall.Signal, wait bool) {
	if s.exited() {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	if !wait {
		return
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Stop terminates the server gracefully (SIGTERM) and waits for it to exit.
func (s *Server) Stop() { s.signal(syscall.SIGTERM, true) }

// Kill kills the server (SIGKILL) and waits for it to exit: a crash.
func (s *Server) Kill() {
	if !s.exited() {
		_ = s.cmd.Process.Signal(syscall.SIGCONT) // a frozen process must still die
	}
	s.signal(syscall.SIGKILL, true)
}

// Freeze stops the process (SIGSTOP) without closing its sockets: a hung server.
func (s *Server) Freeze() { s.signal(syscall.SIGSTOP, false) }

// Thaw resumes a frozen server.
func (s *Server) Thaw() { s.signal(syscall.SIGCONT, false) }

// Start starts a stopped server on the same database file and endpoint.
func (s *Server) Start() {
	s.t.Helper()
	if !s.exited() {
		s.t.Fatalf("ovsdbtest: server %s is already running", s.DBPath)
	}
	s.start()
}

// Restart stops the server and starts it again on the same database and endpoint.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

func (s *Server) dumpLog() {
	data, err := os.ReadFile(s.LogPath)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	s.t.Logf("ovsdbtest: last lines of %s:\n%s", s.LogPath, strings.Join(lines, "\n"))
}

// Transact runs a raw transaction (ops are wire objects) on the server's database and
// returns the raw per-operation results; an error result in any slot is an error.
func (s *Server) Transact(ctx context.Context, ops ...any) ([]json.RawMessage, error) {
	return Transact(ctx, s.Endpoint(), s.DBName, ops...)
}

// Transact runs a raw transaction against endpoint (see Server.Transact).
func Transact(ctx context.Context, endpoint, db string, ops ...any) ([]json.RawMessage, error) {
	params := append([]any{db}, ops...)
	raw, err := Call(ctx, endpoint, "transact", params)
	if err != nil {
		return nil, err
	}
	var results []json.RawMessage
	if err := json.Unmarshal(raw, &results); err != nil {
		return nil, fmt.Errorf("transact reply: %w", err)
	}
	for i, r := range results {
		var e struct {
			Error   string `json:"error"`
			Details string `json:"details"`
		}
		if json.Unmarshal(r, &e) == nil && e.Error != "" {
			return results, fmt.Errorf("transact operation %d: %s: %s", i, e.Error, e.Details)
		}
	}
	return results, nil
}

// Call makes one JSON-RPC request on a fresh connection and returns the raw result.
func Call(ctx context.Context, endpoint, method string, params any) (json.RawMessage, error) {
	network, addr, ok := strings.Cut(endpoint, ":")
	if !ok || (network != "unix" && network != "tcp") {
		return nil, fmt.Errorf("endpoint %q: want unix:PATH or tcp:HOST:PORT", endpoint)
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	req, _ := json.Marshal(map[string]any{"id": 1, "method": method, "params": params})
	if _, err := nc.Write(req); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bufio.NewReader(nc))
	for {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if string(m.ID) != "1" {
			continue // e.g. the server's echo probe
		}
		if len(m.Error) > 0 && string(m.Error) != "null" {
			return nil, fmt.Errorf("%s: %s", method, m.Error)
		}
		return m.Result, nil
	}
}
