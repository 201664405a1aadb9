// Package jsonrpc speaks JSON-RPC 1.0 as OVSDB uses it (RFC 7047 section 4): a stream of
// concatenated JSON objects with no framing, requests with a non-null id, notifications with
// id null, and "echo" requests that either side may send to prove liveness.
//
// A Conn owns one net.Conn. One goroutine reads; any goroutine may call or notify. Incoming
// notifications and replies registered with an inline handler are processed on the reader
// goroutine, in stream order, because OVSDB's ordering guarantees (a monitor's initial reply
// precedes its updates; updates caused by a transaction precede its reply) only hold if
// nothing reorders them on our side.
package jsonrpc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by calls on a connection that has been closed, by either side.
var ErrClosed = errors.New("jsonrpc: connection closed")

// Error is a JSON-RPC error reply. OVSDB puts an object {"error": ..., "details": ...} in the
// "error" member, but some errors are bare strings; both forms land here.
type Error struct {
	Method  string
	Err     string
	Details string
}

func (e *Error) Error() string {
	if e.Details != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Method, e.Err, e.Details)
	}
	return fmt.Sprintf("%s: %s", e.Method, e.Err)
}

// NotificationHandler is called on the reader goroutine for every incoming notification
// (a request with id null, e.g. "update3") and for every request other than "echo" (OVSDB
// servers send none, but "locked"/"stolen" are notifications too). It must not call back
// into the Conn synchronously (a Call would deadlock waiting for the reader).
type NotificationHandler func(method string, params json.RawMessage)

// InlineHandler processes a reply on the reader goroutine before any later message is read.
// Its error, if not nil, is what the waiting Call returns.
type InlineHandler func(result json.RawMessage) error

// Options configure a Conn.
type Options struct {
	// OnNotification receives notifications; nil drops them.
	OnNotification NotificationHandler
	// InactivityProbe, when positive, makes the Conn send an "echo" after this long without
	// receiving anything, and close itself if nothing arrives within another interval.
	InactivityProbe time.Duration
	Logger          *slog.Logger
}

// message is the union of request, notification and reply objects.
type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  json.RawMessage `json:"error,omitempty"`
}

type request struct {
	ID     any    `json:"id"`
	Method string `json:"method"`
	Params any    `json:"params"`
}

type reply struct {
	ID     json.RawMessage `json:"id"`
	Result any             `json:"result"`
	Error  any             `json:"error"`
}

type pending struct {
	method string
	inline InlineHandler
	done   chan struct{}
	result json.RawMessage
	err    error
}

// Conn is a JSON-RPC 1.0 connection.
type Conn struct {
	nc   net.Conn
	opts Options
	log  *slog.Logger

	writeMu sync.Mutex
	enc     *json.Encoder
	bw      *bufio.Writer

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*pending
	err     error // set once, when the connection dies

	lastRecv atomic.Int64 // unix nanos of the last received message
	closed   chan struct{}
}

// New wraps nc and starts its reader (and prober, when configured). The caller must
// eventually Close it.
func New(nc net.Conn, opts Options) *Conn {
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	c := &Conn{
		nc:      nc,
		opts:    opts,
		log:     lg,
		pending: make(map[uint64]*pending),
		closed:  make(chan struct{}),
	}
	c.bw = bufio.NewWriterSize(nc, 64<<10)
	c.enc = json.NewEncoder(c.bw)
	c.lastRecv.Store(time.Now().UnixNano())
	go c.readLoop()
	if opts.InactivityProbe > 0 {
		go c.probeLoop(opts.InactivityProbe)
	}
	return c
}

// Done is closed when the connection has died or been closed.
func (c *Conn) Done() <-chan struct{} { return c.closed }

// Err returns why the connection died (nil while it is alive).
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection; pending calls fail with ErrClosed.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	return nil
}

// fail records the first error, closes the socket and releases every waiter.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	waiters := c.pending
	c.pending = map[uint64]*pending{}
	c.mu.Unlock()
	_ = c.nc.Close()
	for _, p := range waiters {
		p.err = fmt.Errorf("%s: %w", p.method, err)
		close(p.done)
	}
	close(c.closed)
}

// Call sends a request and waits for its reply. A nil result discards the reply.
func (c *Conn) Call(ctx context.Context, method string, params any, result any) error {
	raw, err := c.call(ctx, method, params, nil)
	if err != nil || result == nil {
		return err
	}
	if err := json.Unmarshal(raw, result); err != nil {
		return fmt.Errorf("%s: decode reply: %w", method, err)
	}
	return nil
}

// CallRaw is Call returning the undecoded result.
func (c *Conn) CallRaw(ctx context.Context, method string, params any) (json.RawMessage, error) {
	return c.call(ctx, method, params, nil)
}

// CallInline sends a request whose reply is handed to h on the reader goroutine, so that h
// runs strictly before any notification that the server sent after the reply.
func (c *Conn) CallInline(ctx context.Context, method string, params any, h InlineHandler) error {
	_, err := c.call(ctx, method, params, h)
	return err
}

func (c *Conn) call(ctx context.Context, method string, params any, h InlineHandler) (json.RawMessage, error) {
	p := &pending{method: method, inline: h, done: make(chan struct{})}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = p
	c.mu.Unlock()

	if err := c.write(ctx, request{ID: id, Method: method, Params: params}); err != nil {
		c.forget(id)
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case <-p.done:
		return p.result, p.err
	case <-ctx.Done():
		// The reply may still arrive; the reader drops replies with unknown ids. An inline
		// handler that is already running finishes: callers that care must tolerate that.
		c.forget(id)
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

func (c *Conn) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// Notify sends a notification (id null).
func (c *Conn) Notify(ctx context.Context, method string, params any) error {
	return c.write(ctx, request{ID: nil, Method: method, Params: params})
}

func (c *Conn) write(ctx context.Context, v any) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.Err(); err != nil {
		return err
	}
	// A server that stops reading must not wedge writers forever: bound the write by the
	// caller's deadline.
	if dl, ok := ctx.Deadline(); ok {
		_ = c.nc.SetWriteDeadline(dl)
	} else {
		_ = c.nc.SetWriteDeadline(time.Time{})
	}
	if err := c.enc.Encode(v); err != nil {
		c.fail(fmt.Errorf("write: %w", err))
		return err
	}
	if err := c.bw.Flush(); err != nil {
		c.fail(fmt.Errorf("write: %w", err))
		return err
	}
	return nil
}

func (c *Conn) readLoop() {
	dec := json.NewDecoder(bufio.NewReaderSize(c.nc, 256<<10))
	for {
		var m message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.EOF
			}
			c.fail(fmt.Errorf("read: %w", err))
			return
		}
		c.lastRecv.Store(time.Now().UnixNano())
		if m.Method != "" {
			c.handleRequest(&m)
			continue
		}
		c.handleReply(&m)
	}
}

func (c *Conn) handleRequest(m *message) {
	isNotification := len(m.ID) == 0 || string(m.ID) == "null"
	if m.Method == "echo" && !isNotification {
		// Reply with the same params, as RFC 7047 4.1.11 requires. Writing from the reader
		// goroutine is safe: writes never wait for reads.
		var params any = json.RawMessage(m.Params)
		if len(m.Params) == 0 {
			params = []any{}
		}
		if err := c.write(context.Background(), reply{ID: m.ID, Result: params, Error: nil}); err != nil {
			c.log.Debug("echo reply failed", "err", err)
		}
		return
	}
	if !isNotification {
		// Unknown request: refuse it so the peer does not wait forever.
		_ = c.write(context.Background(), reply{ID: m.ID, Result: nil, Error: "unknown method"})
		return
	}
	if c.opts.OnNotification != nil {
		c.opts.OnNotification(m.Method, m.Params)
	}
}

func (c *Conn) handleReply(m *message) {
	id, err := strconv.ParseUint(string(m.ID), 10, 64)
	if err != nil {
		c.log.Debug("reply with foreign id dropped", "id", string(m.ID))
		return
	}
	c.mu.Lock()
	p := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if p == nil {
		return
	}
	if len(m.Error) != 0 && string(m.Error) != "null" {
		p.err = parseError(p.method, m.Error)
	} else {
		p.result = m.Result
		if p.inline != nil {
			p.err = p.inline(m.Result)
		}
	}
	close(p.done)
}

func parseError(method string, raw json.RawMessage) error {
	e := &Error{Method: method}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		e.Err = s
		return e
	}
	var obj struct {
		Error   string `json:"error"`
		Details any    `json:"details"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Error != "" {
		e.Err = obj.Error
		if obj.Details != nil {
			e.Details = fmt.Sprint(obj.Details)
		}
		return e
	}
	e.Err = string(raw)
	return e
}

// probeLoop implements the inactivity probe: after interval without input, send an echo;
// if that echo gets no answer within another interval, the peer is gone.
func (c *Conn) probeLoop(interval time.Duration) {
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-t.C:
		}
		idle := time.Since(time.Unix(0, c.lastRecv.Load()))
		if idle < interval {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), interval)
		err := c.Call(ctx, "echo", []any{"ycloud-probe"}, nil)
		cancel()
		if err != nil && c.Err() == nil {
			c.log.Warn("inactivity probe failed, closing connection", "idle", idle, "err", err)
			c.fail(fmt.Errorf("inactivity probe: no reply within %s: %w", interval, err))
			return
		}
	}
}
