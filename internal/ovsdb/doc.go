// Package ovsdb is our OVSDB client (RFC 7047 plus the ovsdb-server(7) extensions):
// typed transactions, monitors feeding a cache with indexes and event handlers, and a
// connection that survives server restarts and raft leader changes.
//
// # Models
//
// Tables map to Go structs with `ovsdb:"column"` tags (see Model); the generated packages
// (nb, sb, icnb, icsb, vswitch) provide them. NewDatabaseModel checks every tag against
// the schema once; the per-type layout is cached, so reflection is paid once per type.
//
// # Transactions
//
// Build operations as values, append them to a slice, send the slice once:
//
//	ops = append(ops,
//		ovsdb.Insert(&nb.LogicalSwitchPort{Name: "p1"}).WithNamedUUID("p1"),
//		ovsdb.Mutate(&nb.LogicalSwitch{UUID: ls}, ovsdb.InsertValues("ports", []string{"p1"})))
//	results, err := client.Transact(ctx, ops...)
//
// A uuid-typed value that is a UUID is sent as ["uuid", x]; one that is an identifier
// is a uuid-name, sent as ["named-uuid", x], referring to a row inserted with that name in
// the same transaction (that is how a non-root row and its parent's reference are
// created together). results[i].UUID holds each inserted row's UUID. Update, Mutate and
// Delete select their rows with Where, or by the model's UUID; an operation with no
// condition at all is refused unless it says WhereAll. Wait makes a write conditional
// (optimistic concurrency; also what makes a retry after an unknown outcome idempotent).
// A refused transaction returns a *TxnError whose OperationErrors name the operation's
// index, kind and table and carry the server's error and details.
//
// # Monitors and the cache
//
// Client.Monitor(ctx, TableMonitor{...}) loads tables (all mapped columns, or the given
// ones) into Client.Cache() and keeps them current with monitor_cond_since (falling back
// to monitor_cond, then monitor, on older servers). Updates caused by a transaction are
// applied before Transact returns. The cache has secondary indexes registered at
// construction (WithIndex, WithExternalIDIndex) and returns copies from every read
// (Cache.Get, GetByUUID, List, Lookup, LookupExternalID). Handlers (Cache.AddHandler)
// receive add/update/delete events in order on one dispatcher goroutine; see Handler for
// the contract.
//
// # Connection
//
// Endpoints are "unix:PATH" or "tcp:HOST:PORT", comma-separated for the members of a
// cluster. JSON-RPC echo requests are answered in both directions and an inactivity
// probe (WithInactivityProbe) drops silent connections. After a loss the client
// reconnects with exponential backoff (WithReconnect), resumes each monitor from its last
// transaction id when the server still has it in its history, and otherwise reloads the
// tables and emits events for the difference only: the cache converges with no lost and
// no phantom rows. For a clustered database the client reads and monitors _Server and
// only stays on a member that is connected to the cluster, up to date, of the expected
// cluster and (by default, WithLeaderOnly) the leader; when the leader dies it fails over
// to the new one. A transaction in flight when a connection dies returns an error
// wrapping ErrDisconnected: its outcome is unknown.
//
// Logs go to the slog.Logger given by WithLogger; an Observer (WithObserver) receives the
// duration and outcome of every transaction for metrics.
package ovsdb
