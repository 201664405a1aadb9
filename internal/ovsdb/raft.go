package ovsdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/jsonrpc"
)

// Clustered databases (ovsdb(7) "Clustered Database Service Model", ovsdb-server(7)
// 4.1.18): the _Server database tells each member's view of each database. We read it on
// connect and monitor it afterwards, and leave a member that is not (or no longer) a good
// peer: disconnected from the cluster, not the leader when we only talk to leaders, or
// behind what we have already seen (a stale member would show us the past).

const serverMonitorID = "ycloud-server"

var serverColumns = []string{"name", "model", "connected", "leader", "index", "cid"}

type raftState struct {
	maxIndex int64  // highest _Server index seen, across connections
	cid      string // cluster id, once known
}

// serverRow is the part of a _Server.Database row we use.
type serverRow struct {
	Name      string
	Model     string
	Connected bool
	Leader    bool
	Index     int64
	HasIndex  bool
	CID       string
}

func parseServerRow(row map[string]any) (serverRow, error) {
	var r serverRow
	var ok bool
	if r.Name, ok = row["name"].(string); !ok {
		return r, fmt.Errorf("_Server row without a name: %s", describe(row))
	}
	r.Model, _ = row["model"].(string)
	r.Connected, _ = row["connected"].(bool)
	r.Leader, _ = row["leader"].(bool)
	if w, ok := row["index"]; ok {
		elems, err := wireSet(w)
		if err != nil {
			return r, fmt.Errorf("_Server index: %w", err)
		}
		if len(elems) == 1 {
			n, ok := elems[0].(json.Number)
			if !ok {
				return r, fmt.Errorf("_Server index: want an integer, got %s", describe(elems[0]))
			}
			i, err := n.Int64()
			if err != nil {
				return r, fmt.Errorf("_Server index: %w", err)
			}
			r.Index, r.HasIndex = i, true
		}
	}
	if w, ok := row["cid"]; ok {
		elems, err := wireSet(w)
		if err != nil {
			return r, fmt.Errorf("_Server cid: %w", err)
		}
		if len(elems) == 1 {
			if r.CID, err = wireUUID(elems[0]); err != nil {
				return r, fmt.Errorf("_Server cid: %w", err)
			}
		}
	}
	return r, nil
}

// judge says why a member is not a suitable peer ("" when it is) and records what it saw.
func (c *Client) judge(r serverRow) string {
	if r.Model != "clustered" {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !r.Connected:
		return "member is not connected to its cluster"
	case c.opts.leaderOnly && !r.Leader:
		return "member is not the leader"
	case r.HasIndex && r.Index < c.raft.maxIndex:
		return fmt.Sprintf("member is stale (index %d < %d already seen)", r.Index, c.raft.maxIndex)
	case c.raft.cid != "" && r.CID != "" && r.CID != c.raft.cid:
		return fmt.Sprintf("member belongs to cluster %s, not %s", r.CID, c.raft.cid)
	}
	if r.HasIndex && r.Index > c.raft.maxIndex {
		c.raft.maxIndex = r.Index
	}
	if c.raft.cid == "" {
		c.raft.cid = r.CID
	}
	return ""
}

// checkServer reads _Server on a fresh connection and, for a clustered database, keeps
// watching it.
func (c *Client) checkServer(ctx context.Context, conn *jsonrpc.Conn, ep string) error {
	sel := map[string]any{
		"op":      "select",
		"table":   "Database",
		"where":   []any{[]any{"name", "==", c.dm.Name()}},
		"columns": serverColumns,
	}
	raw, err := conn.CallRaw(ctx, "transact", []any{"_Server", sel})
	if err != nil {
		var je *jsonrpc.Error
		if errors.As(err, &je) {
			// A server without _Server (older than 2.9) cannot be clustered.
			c.log.Debug("no _Server database; assuming standalone", "endpoint", ep, "err", err)
			return nil
		}
		return fmt.Errorf("%s: read _Server: %w", ep, err)
	}
	res, err := parseResults([]Operation{{op: "select"}}, []string{"Database"}, raw)
	if err != nil {
		return fmt.Errorf("%s: read _Server: %w", ep, err)
	}
	if len(res[0].Rows) != 1 {
		return fmt.Errorf("%s: database %q: %s", ep, c.dm.Name(), ErrUnknownDatabase)
	}
	row, err := parseServerRow(res[0].Rows[0])
	if err != nil {
		return fmt.Errorf("%s: %w", ep, err)
	}
	if why := c.judge(row); why != "" {
		return fmt.Errorf("%s: %s", ep, why)
	}
	if row.Model != "clustered" {
		return nil
	}
	// Without change awareness the server would drop us on every schema conversion; with
	// it we learn such changes through the _Server monitor instead.
	if err := conn.Call(ctx, "set_db_change_aware", []any{true}, nil); err != nil {
		c.log.Debug("set_db_change_aware refused", "err", err)
	}
	reqs := map[string]any{"Database": []any{map[string]any{"columns": serverColumns}}}
	// Plain "monitor" sends whole rows ("new"), which is all we need for a few columns.
	if err := conn.Call(ctx, methodMonitor, []any{"_Server", serverMonitorID, reqs}, nil); err != nil {
		return fmt.Errorf("%s: monitor _Server: %w", ep, err)
	}
	return nil
}

// onServerUpdate runs on the reader goroutine for _Server changes.
func (c *Client) onServerUpdate(conn *jsonrpc.Conn, w any) {
	tables, err := asObject(w, "_Server update")
	if err != nil {
		c.log.Warn("bad _Server update", "err", err)
		return
	}
	rows, _ := tables["Database"].(map[string]any)
	for _, ru := range rows {
		obj, _ := ru.(map[string]any)
		newRow, _ := obj["new"].(map[string]any)
		if newRow == nil {
			continue
		}
		r, err := parseServerRow(newRow)
		if err != nil || r.Name != c.dm.Name() {
			continue
		}
		if why := c.judge(r); why != "" {
			c.disconnect(conn, why)
			return
		}
	}
}
