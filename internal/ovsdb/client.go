package ovsdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/jsonrpc"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/schema"
)

var (
	// ErrClosed is returned by every call after Client.Close.
	ErrClosed = errors.New("ovsdb: client closed")
	// ErrDisconnected wraps failures caused by losing the connection. For Transact it means
	// the outcome is unknown: the transaction may or may not have committed. Re-read, or
	// retry with a guard (a Wait operation) that makes the retry idempotent.
	ErrDisconnected = errors.New("ovsdb: disconnected")
	// ErrNotFound is returned by cache lookups that match no row.
	ErrNotFound = errors.New("ovsdb: not found")
)

// Observer receives measurements; the controller exports them as metrics. Calls are made
// synchronously from the calling goroutine and must be cheap.
type Observer interface {
	// TxnDone is called after every Transact with its duration and whether it committed.
	TxnDone(d time.Duration, ok bool)
}

// Option configures a Client.
type Option func(*options)

type options struct {
	logger     *slog.Logger
	probe      time.Duration
	reconnect  bool
	backoffMin time.Duration
	backoffMax time.Duration
	leaderOnly bool
	attempt    time.Duration
	observer   Observer
	indexes    []indexSpec
}

// WithLogger sets the structured logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithInactivityProbe sets the echo probe interval (default 5s; 0 disables it). A
// connection that stays silent for two intervals is considered dead.
func WithInactivityProbe(d time.Duration) Option { return func(o *options) { o.probe = d } }

// WithReconnect sets the reconnect backoff bounds (default 100ms .. 5s, doubling).
func WithReconnect(minDelay, maxDelay time.Duration) Option {
	return func(o *options) { o.reconnect, o.backoffMin, o.backoffMax = true, minDelay, maxDelay }
}

// WithoutReconnect makes a lost connection final: the client stays disconnected and calls
// fail with ErrDisconnected.
func WithoutReconnect() Option { return func(o *options) { o.reconnect = false } }

// WithLeaderOnly sets whether, for a clustered database, the client only talks to the
// raft leader (default true: writes go to the leader without a forwarding hop, and reads
// are never stale).
func WithLeaderOnly(b bool) Option { return func(o *options) { o.leaderOnly = b } }

// WithConnectTimeout bounds one connection attempt, including the initial monitor
// replies (default 30s), so that a member that accepts connections but never answers
// does not hold up trying the others.
func WithConnectTimeout(d time.Duration) Option { return func(o *options) { o.attempt = d } }

// WithObserver installs an Observer.
func WithObserver(ob Observer) Option { return func(o *options) { o.observer = ob } }

// Client is a connection to one database on one server (or on the leader of a cluster),
// with a cache fed by monitors. It reconnects by itself; see Connect.
type Client struct {
	dm        *DatabaseModel
	endpoints []string
	opts      options
	log       *slog.Logger
	cache     *Cache

	// monitorMu serializes starting monitors with publishing a new connection, so that a
	// monitor registered during a reconnect is started exactly once on the new connection.
	monitorMu sync.Mutex
	nextMon   int

	mu        sync.Mutex
	conn      *jsonrpc.Conn // nil while disconnected
	endpoint  string
	connected chan struct{} // closed while conn != nil
	closed    bool
	closing   chan struct{}
	wg        sync.WaitGroup
	next      int // next endpoint to try
	raft      raftState
	started   bool
	srvSchema *schema.Database

	monsMu   sync.Mutex // guards monsByID, read by the reader goroutine
	monsByID map[string]*Monitor
}

// NewClient prepares a client for dm's database at endpoints ("unix:PATH", "tcp:HOST:PORT",
// comma-separated for the members of a cluster). It does not connect; call Connect.
func NewClient(dm *DatabaseModel, endpoints string, opts ...Option) (*Client, error) {
	eps, err := jsonrpc.ParseEndpoints(endpoints)
	if err != nil {
		return nil, fmt.Errorf("new client for %q: %w", dm.Name(), err)
	}
	o := options{
		probe:      5 * time.Second,
		reconnect:  true,
		backoffMin: 100 * time.Millisecond,
		backoffMax: 5 * time.Second,
		leaderOnly: true,
		attempt:    30 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		dm:        dm,
		endpoints: eps,
		opts:      o,
		log:       o.logger.With("db", dm.Name()),
		monsByID:  make(map[string]*Monitor),
		connected: make(chan struct{}),
		closing:   make(chan struct{}),
	}
	c.cache, err = newCache(dm, o.indexes, c.log)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Dial is NewClient followed by Connect.
func Dial(ctx context.Context, dm *DatabaseModel, endpoints string, opts ...Option) (*Client, error) {
	c, err := NewClient(dm, endpoints, opts...)
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Model returns the client's database model.
func (c *Client) Model() *DatabaseModel { return c.dm }

// Cache returns the client's cache, fed by the monitors started with Monitor.
func (c *Client) Cache() *Cache { return c.cache }

// Endpoint returns the endpoint of the current connection ("" while disconnected).
func (c *Client) Endpoint() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endpoint
}

// Connect makes the first connection: it tries the endpoints in turn (skipping cluster
// members that are not the leader, when leader-only) with backoff until one works or ctx
// ends. Afterwards a background goroutine keeps the client connected: after a loss it
// reconnects with backoff, restarts the monitors (resuming from the last transaction id
// when the server still has it) and brings the cache back in line.
func (c *Client) Connect(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.started {
		c.mu.Unlock()
		return fmt.Errorf("connect %s: already connected", c.dm.Name())
	}
	c.started = true
	c.mu.Unlock()
	conn, err := c.connectLoop(ctx)
	if err != nil {
		c.mu.Lock()
		c.started = false
		c.mu.Unlock()
		return err
	}
	c.wg.Add(1)
	go c.supervise(conn)
	return nil
}

// Close disconnects and stops the background goroutines, including the event dispatcher
// (pending events are dropped).
func (c *Client) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	close(c.closing)
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	c.wg.Wait()
	c.cache.close()
}

// supervise watches the current connection and replaces it when it dies.
func (c *Client) supervise(conn *jsonrpc.Conn) {
	defer c.wg.Done()
	for {
		select {
		case <-conn.Done():
		case <-c.closing:
			return
		}
		c.markDown(conn)
		if c.isClosed() {
			return
		}
		c.log.Warn("ovsdb connection lost", "err", conn.Err())
		if !c.opts.reconnect {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-c.closing:
				cancel()
			case <-ctx.Done():
			}
		}()
		next, err := c.connectLoop(ctx)
		cancel()
		if err != nil {
			return // closed
		}
		conn = next
	}
}

// markDown forgets conn if it is the current connection, so callers wait for the next.
func (c *Client) markDown(conn *jsonrpc.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == conn {
		c.conn = nil
		c.endpoint = ""
		c.connected = make(chan struct{})
	}
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// connectLoop tries endpoints round-robin with exponential backoff until one connects.
func (c *Client) connectLoop(ctx context.Context) (*jsonrpc.Conn, error) {
	delay := c.opts.backoffMin
	if delay <= 0 {
		delay = 100 * time.Millisecond
	}
	var lastErr error
	for {
		for range c.endpoints {
			c.mu.Lock()
			ep := c.endpoints[c.next%len(c.endpoints)]
			c.next++
			c.mu.Unlock()
			actx, cancel := context.WithTimeout(ctx, c.opts.attempt)
			conn, err := c.connectOnce(actx, ep)
			cancel()
			if err == nil {
				return conn, nil
			}
			lastErr = err
			c.log.Debug("ovsdb connect attempt failed", "endpoint", ep, "err", err)
			if ctx.Err() != nil {
				return nil, fmt.Errorf("connect %s: %w (last error: %v)", c.dm.Name(), ctx.Err(), lastErr)
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect %s: %w (last error: %v)", c.dm.Name(), ctx.Err(), lastErr)
		case <-c.closing:
			return nil, ErrClosed
		case <-time.After(delay):
		}
		delay *= 2
		if c.opts.backoffMax > 0 && delay > c.opts.backoffMax {
			delay = c.opts.backoffMax
		}
	}
}

// connectOnce dials one endpoint and prepares the connection: schema check, cluster
// checks, monitors. Only then is the connection published to callers.
func (c *Client) connectOnce(ctx context.Context, ep string) (_ *jsonrpc.Conn, err error) {
	nc, err := jsonrpc.Dial(ctx, ep)
	if err != nil {
		return nil, err
	}
	var conn *jsonrpc.Conn
	conn = jsonrpc.New(nc, jsonrpc.Options{
		OnNotification:  func(method string, params json.RawMessage) { c.onNotification(conn, method, params) },
		InactivityProbe: c.opts.probe,
		Logger:          c.log,
	})
	defer func() {
		if err != nil {
			conn.Close()
		}
	}()
	// Stop setting up when the client is closed meanwhile.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.closing:
			cancel()
		case <-ctx.Done():
		}
	}()

	var rawSchema json.RawMessage
	if err := conn.Call(ctx, "get_schema", []any{c.dm.Name()}, &rawSchema); err != nil {
		return nil, fmt.Errorf("%s: %w", ep, err)
	}
	srvSchema, err := schema.Parse(rawSchema)
	if err != nil {
		return nil, fmt.Errorf("%s: server schema: %w", ep, err)
	}
	if err := c.checkServer(ctx, conn, ep); err != nil {
		return nil, err
	}

	c.monitorMu.Lock()
	defer c.monitorMu.Unlock()
	for _, m := range c.sortedMonitors() {
		if err := c.startMonitor(ctx, conn, srvSchema, m); err != nil {
			return nil, fmt.Errorf("%s: %w", ep, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	c.conn = conn
	c.endpoint = ep
	c.srvSchema = srvSchema
	close(c.connected)
	c.log.Info("ovsdb connected", "endpoint", ep)
	return conn, nil
}

// current waits until the client is connected (or ctx ends) and returns the connection.
func (c *Client) current(ctx context.Context) (*jsonrpc.Conn, error) {
	for {
		c.mu.Lock()
		conn, ch, closed, started := c.conn, c.connected, c.closed, c.started
		c.mu.Unlock()
		switch {
		case closed:
			return nil, ErrClosed
		case conn != nil && conn.Err() != nil:
			// Dead, and the supervisor has not caught up yet: do not hand it out.
			c.markDown(conn)
			continue
		case conn != nil:
			return conn, nil
		case !started || !c.opts.reconnect:
			return nil, ErrDisconnected
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrDisconnected, ctx.Err())
		case <-c.closing:
			return nil, ErrClosed
		}
	}
}

// rpcErr classifies an error of a call on conn: connection failures wrap ErrDisconnected.
func rpcErr(conn *jsonrpc.Conn, err error) error {
	var je *jsonrpc.Error
	if errors.As(err, &je) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if conn.Err() == nil {
			return err
		}
	}
	return fmt.Errorf("%w: %w", ErrDisconnected, err)
}

// Transact encodes ops and runs them as one transaction, waiting for a connection if
// needed. A server-side failure returns a *TxnError naming each failed operation; a lost
// connection returns an error wrapping ErrDisconnected (outcome unknown).
func (c *Client) Transact(ctx context.Context, ops ...Operation) ([]OperationResult, error) {
	start := time.Now()
	res, err := c.transact(ctx, ops)
	if c.opts.observer != nil {
		c.opts.observer.TxnDone(time.Since(start), err == nil)
	}
	return res, err
}

func (c *Client) transact(ctx context.Context, ops []Operation) ([]OperationResult, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	params := make([]any, 0, len(ops)+1)
	params = append(params, c.dm.Name())
	tables := make([]string, len(ops))
	for i := range ops {
		w, err := c.dm.encodeOp(&ops[i])
		if err != nil {
			return nil, fmt.Errorf("transact: operation %d (%s): %w", i, ops[i].op, err)
		}
		tables[i], _ = w["table"].(string)
		params = append(params, w)
	}
	conn, err := c.current(ctx)
	if err != nil {
		return nil, fmt.Errorf("transact: %w", err)
	}
	raw, err := conn.CallRaw(ctx, "transact", params)
	if err != nil {
		return nil, fmt.Errorf("transact: %w", rpcErr(conn, err))
	}
	return parseResults(ops, tables, raw)
}

// ListDatabases returns the names of the server's databases.
func (c *Client) ListDatabases(ctx context.Context) ([]string, error) {
	conn, err := c.current(ctx)
	if err != nil {
		return nil, fmt.Errorf("list_dbs: %w", err)
	}
	var dbs []string
	if err := conn.Call(ctx, "list_dbs", []any{}, &dbs); err != nil {
		return nil, rpcErr(conn, err)
	}
	return dbs, nil
}

// ServerSchema returns the schema the connected server reported for the database (nil
// while disconnected before the first connection). Use it to gate columns that only
// newer schema versions have.
func (c *Client) ServerSchema() *schema.Database {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.srvSchema
}

// GetSchema fetches the schema of any database of the server.
func (c *Client) GetSchema(ctx context.Context, db string) (*schema.Database, error) {
	conn, err := c.current(ctx)
	if err != nil {
		return nil, fmt.Errorf("get_schema %s: %w", db, err)
	}
	var raw json.RawMessage
	if err := conn.Call(ctx, "get_schema", []any{db}, &raw); err != nil {
		return nil, rpcErr(conn, err)
	}
	return schema.Parse(raw)
}

// Echo sends an echo request and waits for the reply.
func (c *Client) Echo(ctx context.Context) error {
	conn, err := c.current(ctx)
	if err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	var out []any
	if err := conn.Call(ctx, "echo", []any{"ycloud"}, &out); err != nil {
		return rpcErr(conn, err)
	}
	if len(out) != 1 || out[0] != "ycloud" {
		return fmt.Errorf("echo: reply %v does not echo the request", out)
	}
	return nil
}

// disconnect drops the current connection (the supervisor reconnects); used when the
// server tells us it is no longer a suitable peer (lost leadership, stale).
func (c *Client) disconnect(conn *jsonrpc.Conn, reason string) {
	c.log.Info("ovsdb dropping connection", "reason", reason)
	conn.Close()
}
