package ovsdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/jsonrpc"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/schema"
)

// TableMonitor selects a table, and optionally some of its columns, for a monitor.
type TableMonitor struct {
	Table string
	// Columns to watch; empty means every column the model maps and the server has.
	Columns []string
}

// Monitor methods, newest first: the client uses the first one the server knows.
const (
	methodMonitorCondSince = "monitor_cond_since"
	methodMonitorCond      = "monitor_cond"
	methodMonitor          = "monitor"
)

var monitorMethods = []string{methodMonitorCondSince, methodMonitorCond, methodMonitor}

// zeroUUID is the last-txn-id that asks monitor_cond_since for a full snapshot.
const zeroUUID = "00000000-0000-0000-0000-000000000000"

// Monitor is a running monitor: its tables are kept in the cache, across reconnects,
// until Cancel.
type Monitor struct {
	c      *Client
	id     string
	tables []TableMonitor

	mu        sync.Mutex
	lastTxnID string // from the last update3 or monitor_cond_since reply
	method    string // the method that worked last (we start there after a reconnect)
	ready     chan struct{}
	isReady   bool
	starts    int // how often the monitor was (re)started
	resumes   int // how many of those restarts resumed from lastTxnID
	conn      *jsonrpc.Conn
}

// ID returns the monitor's JSON-RPC id.
func (m *Monitor) ID() string { return m.id }

// LastTxnID returns the id of the last transaction the monitor has seen ("" when the
// server does not report them).
func (m *Monitor) LastTxnID() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastTxnID
}

// Method returns the monitor method in use ("monitor_cond_since", "monitor_cond" or
// "monitor").
func (m *Monitor) Method() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.method
}

// Monitor starts monitoring tables into the cache and returns once their current content
// is cached (or ctx ends). A table may only be in one monitor. The monitor survives
// reconnects: it resumes with monitor_cond_since from the last transaction id it saw, and
// when the server no longer has that point in its history, it resynchronizes fully; in
// both cases the cache emits events only for what changed meanwhile.
func (c *Client) Monitor(ctx context.Context, tables ...TableMonitor) (*Monitor, error) {
	return c.monitorWith(ctx, methodMonitorCondSince, tables...)
}

// monitorWith starts a monitor with method, or an older one if the server refuses it.
func (c *Client) monitorWith(ctx context.Context, method string, tables ...TableMonitor) (*Monitor, error) {
	if len(tables) == 0 {
		return nil, errors.New("monitor: no table")
	}
	for _, tm := range tables {
		ti := c.dm.tables[tm.Table]
		if ti == nil {
			return nil, fmt.Errorf("monitor: table %q is not mapped in database %q", tm.Table, c.dm.Name())
		}
		for _, col := range tm.Columns {
			if ti.byColumn[col] == nil {
				return nil, fmt.Errorf("monitor %s: model has no column %q", tm.Table, col)
			}
		}
	}
	c.monitorMu.Lock()
	c.monsMu.Lock()
	for _, other := range c.monsByID {
		for _, tm := range tables {
			if slices.Contains(tablesOf(other.tables), tm.Table) {
				c.monsMu.Unlock()
				c.monitorMu.Unlock()
				return nil, fmt.Errorf("monitor: table %q is already monitored by %s", tm.Table, other.id)
			}
		}
	}
	c.nextMon++
	m := &Monitor{
		c:      c,
		id:     fmt.Sprintf("ycloud-monitor-%d", c.nextMon),
		tables: tables,
		method: method,
		ready:  make(chan struct{}),
	}
	c.monsByID[m.id] = m
	c.monsMu.Unlock()

	c.mu.Lock()
	conn, srv := c.conn, c.srvSchema
	c.mu.Unlock()
	var err error
	if conn != nil {
		err = c.startMonitor(ctx, conn, srv, m)
	}
	c.monitorMu.Unlock()
	if err != nil && conn.Err() == nil {
		// The server refused the monitor itself: it will not work after a reconnect
		// either.
		c.dropMonitor(m)
		return nil, err
	}
	select {
	case <-m.ready:
		return m, nil
	case <-ctx.Done():
		c.dropMonitor(m)
		return nil, fmt.Errorf("monitor %s: %w", strings.Join(tablesOf(tables), ","), ctx.Err())
	case <-c.closing:
		return nil, ErrClosed
	}
}

func (c *Client) dropMonitor(m *Monitor) {
	c.monsMu.Lock()
	delete(c.monsByID, m.id)
	c.monsMu.Unlock()
}

func (c *Client) sortedMonitors() []*Monitor {
	c.monsMu.Lock()
	defer c.monsMu.Unlock()
	out := make([]*Monitor, 0, len(c.monsByID))
	for _, m := range c.monsByID {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *Monitor) int { return strings.Compare(a.id, b.id) })
	return out
}

func (c *Client) monitorByID(id string) *Monitor {
	c.monsMu.Lock()
	defer c.monsMu.Unlock()
	return c.monsByID[id]
}

// Cancel stops the monitor (monitor_cancel) and forgets it: its tables' rows stay in the
// cache but are no longer updated.
func (m *Monitor) Cancel(ctx context.Context) error {
	m.c.dropMonitor(m)
	m.mu.Lock()
	conn := m.conn
	m.mu.Unlock()
	if conn == nil || conn.Err() != nil {
		return nil
	}
	if err := conn.Call(ctx, "monitor_cancel", []any{m.id}, nil); err != nil {
		return fmt.Errorf("monitor_cancel %s: %w", m.id, rpcErr(conn, err))
	}
	return nil
}

// requests builds the <monitor-requests> object, restricted to what the server has.
func (c *Client) monitorRequests(srv *schema.Database, m *Monitor) (map[string]any, error) {
	reqs := make(map[string]any, len(m.tables))
	for _, tm := range m.tables {
		ti := c.dm.tables[tm.Table]
		st := srv.Table(tm.Table)
		if st == nil {
			return nil, fmt.Errorf("monitor: server has no table %q", tm.Table)
		}
		var cols []string
		if len(tm.Columns) > 0 {
			for _, col := range tm.Columns {
				if st.Column(col) == nil {
					return nil, fmt.Errorf("monitor %s: server has no column %q", tm.Table, col)
				}
			}
			cols = tm.Columns
		} else {
			for _, fi := range ti.fields {
				if strings.HasPrefix(fi.column, "_") {
					continue
				}
				if st.Column(fi.column) == nil {
					c.log.Debug("column missing on server, not monitored", "table", tm.Table, "column", fi.column)
					continue
				}
				cols = append(cols, fi.column)
			}
		}
		reqs[tm.Table] = []any{map[string]any{"columns": cols}}
	}
	return reqs, nil
}

// startMonitor (re)starts m on conn, falling back to older monitor methods, and applies
// the initial data on the reader goroutine so that no later update can overtake it.
func (c *Client) startMonitor(ctx context.Context, conn *jsonrpc.Conn, srv *schema.Database, m *Monitor) error {
	reqs, err := c.monitorRequests(srv, m)
	if err != nil {
		return err
	}
	m.mu.Lock()
	method, last := m.method, m.lastTxnID
	m.mu.Unlock()
	tables := tablesOf(m.tables)
	for i := slices.Index(monitorMethods, method); i < len(monitorMethods); i++ {
		method = monitorMethods[i]
		var params []any
		switch method {
		case methodMonitorCondSince:
			since := last
			if since == "" {
				since = zeroUUID
			}
			params = []any{c.dm.Name(), m.id, reqs, since}
		default:
			params = []any{c.dm.Name(), m.id, reqs}
		}
		err := conn.CallInline(ctx, method, params, func(raw json.RawMessage) error {
			return c.applyMonitorReply(conn, m, method, tables, raw)
		})
		var je *jsonrpc.Error
		if errors.As(err, &je) && strings.Contains(je.Err, errUnknownMethodJSONRPC) {
			c.log.Info("server does not support monitor method, falling back", "method", method)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, strings.Join(tables, ","), err)
		}
		return nil
	}
	return fmt.Errorf("monitor %s: server supports no monitor method", strings.Join(tables, ","))
}

// applyMonitorReply runs on the reader goroutine.
func (c *Client) applyMonitorReply(conn *jsonrpc.Conn, m *Monitor, method string, tables []string, raw json.RawMessage) error {
	w, err := decodeJSON(raw)
	if err != nil {
		return fmt.Errorf("decode %s reply: %w", method, err)
	}
	var (
		updates any
		txnID   string
		delta   bool
	)
	switch method {
	case methodMonitorCondSince:
		arr, ok := w.([]any)
		if !ok || len(arr) != 3 {
			return fmt.Errorf("%s reply: want [found, last-txn-id, updates], got %s", method, describe(w))
		}
		found, ok1 := arr[0].(bool)
		id, ok2 := arr[1].(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("%s reply: want [found, last-txn-id, updates], got %s", method, describe(w))
		}
		updates, txnID, delta = arr[2], id, found
	default:
		updates = w
	}
	if delta {
		// The server still had our point in its history: apply the changes since.
		err = c.cache.applyUpdates2(updates)
	} else {
		var snap snapshot
		snap, err = c.cache.collectSnapshot(updates, method != methodMonitor, tables)
		if err == nil {
			err = c.cache.replace(snap)
		}
	}
	if err != nil {
		return fmt.Errorf("%s reply: %w", method, err)
	}
	m.mu.Lock()
	if txnID == zeroUUID {
		txnID = ""
	}
	m.lastTxnID, m.method, m.conn = txnID, method, conn
	m.starts++
	if delta {
		m.resumes++
	}
	if !m.isReady {
		m.isReady = true
		close(m.ready)
	}
	m.mu.Unlock()
	c.log.Debug("monitor started", "id", m.id, "method", method, "resumed", delta, "tables", tables)
	return nil
}

// onNotification runs on the reader goroutine of conn.
func (c *Client) onNotification(conn *jsonrpc.Conn, method string, params json.RawMessage) {
	switch method {
	case "update", "update2", "update3":
	default:
		c.log.Debug("ignoring notification", "method", method)
		return
	}
	w, err := decodeJSON(params)
	if err != nil {
		c.resyncAfter(conn, nil, fmt.Errorf("decode %s: %w", method, err))
		return
	}
	arr, ok := w.([]any)
	want := 2
	if method == "update3" {
		want = 3
	}
	if !ok || len(arr) != want {
		c.resyncAfter(conn, nil, fmt.Errorf("%s: want %d params, got %s", method, want, describe(w)))
		return
	}
	id, _ := arr[0].(string)
	if id == serverMonitorID {
		c.onServerUpdate(conn, arr[1])
		return
	}
	m := c.monitorByID(id)
	if m == nil {
		return // cancelled
	}
	switch method {
	case "update":
		err = c.cache.applyUpdates1(arr[1])
	case "update2":
		err = c.cache.applyUpdates2(arr[1])
	case "update3":
		txnID, _ := arr[1].(string)
		if err = c.cache.applyUpdates2(arr[2]); err == nil {
			m.mu.Lock()
			m.lastTxnID = txnID
			m.mu.Unlock()
		}
	}
	if err != nil {
		c.resyncAfter(conn, m, fmt.Errorf("%s: %w", method, err))
	}
}

// resyncAfter handles data we could not apply: the cache may now differ from the server,
// so forget the resume point and reconnect, which reloads everything and emits events
// for the difference.
func (c *Client) resyncAfter(conn *jsonrpc.Conn, m *Monitor, err error) {
	c.log.Error("cannot apply monitor data; reconnecting for a full resync", "err", err)
	for _, mon := range c.sortedMonitors() {
		if m == nil || mon == m {
			mon.mu.Lock()
			mon.lastTxnID = ""
			mon.mu.Unlock()
		}
	}
	c.disconnect(conn, "undecodable monitor data")
}
