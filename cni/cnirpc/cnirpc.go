// Package cnirpc is the wire contract between the ycloud CNI shim and the ycloud-cni node
// daemon: one JSON request per CNI invocation, POSTed over HTTP on the daemon's unix
// socket, answered by one JSON response that carries either the CNI result or a CNI error.
//
// The shim is exec'd by the container runtime for every call and must stay tiny and
// stateless, so everything it receives (environment and stdin) is forwarded as-is and the
// daemon does all the work. HTTP over a unix socket keeps the protocol debuggable with
// curl --unix-socket and gives request cancellation for free: when the shim gives up (its
// timeout expired, or the runtime killed it), the connection closes, the daemon's request
// context is cancelled and an ADD in progress rolls back.
package cnirpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/containernetworking/cni/pkg/types"
)

// DefaultSocketPath is where the daemon listens unless configured otherwise.
const DefaultSocketPath = "/run/ycloud/cni.sock"

// Path is the HTTP path of the CNI endpoint.
const Path = "/v1/cni"

// CNI commands, as in CNI_COMMAND.
const (
	CmdAdd    = "ADD"
	CmdDel    = "DEL"
	CmdCheck  = "CHECK"
	CmdGC     = "GC"
	CmdStatus = "STATUS"
)

// Request is one CNI invocation: the CNI_* environment and the network configuration the
// runtime gave the shim on stdin.
type Request struct {
	Command     string `json:"command"`
	ContainerID string `json:"containerID,omitempty"`
	Netns       string `json:"netns,omitempty"`
	IfName      string `json:"ifName,omitempty"`
	// Args is CNI_ARGS verbatim ("K8S_POD_NAMESPACE=a;K8S_POD_NAME=b;...").
	Args string `json:"args,omitempty"`
	// Path is CNI_PATH.
	Path string `json:"path,omitempty"`
	// Config is the network configuration (stdin), verbatim.
	Config json.RawMessage `json:"config"`
	// Deadline is when the shim stops waiting. The daemon finishes a little earlier so
	// that its own, more precise error reaches the runtime instead of a bare timeout.
	Deadline time.Time `json:"deadline,omitzero"`
}

// Response is the daemon's answer. Exactly one of Result and Error is set for ADD; other
// commands set only Error, on failure.
type Response struct {
	// Result is a CNI result in the version the network configuration asked for.
	Result json.RawMessage `json:"result,omitempty"`
	// Error is a CNI error (code, msg, details), passed to the runtime unchanged.
	Error *types.Error `json:"error,omitempty"`
}

// ErrUnreachable wraps failures to reach the daemon at all (no socket, connection
// refused): nothing happened on the node.
var ErrUnreachable = errors.New("ycloud-cni daemon unreachable")

// Client sends requests to the daemon's socket.
type Client struct {
	socket string
	hc     *http.Client
}

// NewClient returns a client for the daemon listening on socketPath.
func NewClient(socketPath string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socketPath)
		},
		// One request per process: keeping connections alive buys nothing.
		DisableKeepAlives: true,
	}
	return &Client{socket: socketPath, hc: &http.Client{Transport: tr}}
}

// Do sends req and returns the daemon's response. Errors are transport failures only: a
// failure to connect wraps ErrUnreachable; an expired ctx wraps context.DeadlineExceeded
// (the request may have been partly carried out; the daemon rolls an ADD back when the
// connection drops).
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	if dl, ok := ctx.Deadline(); ok && req.Deadline.IsZero() {
		req.Deadline = dl
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", req.Command, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://ycloud-cni"+Path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s request: %w", req.Command, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hresp, err := c.hc.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s via %s: %w", req.Command, c.socket, ctx.Err())
		}
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("%w: %s: %w", ErrUnreachable, c.socket, err)
		}
		return nil, fmt.Errorf("%s via %s: %w", req.Command, c.socket, err)
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, 4<<20))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s via %s: read response: %w", req.Command, c.socket, ctx.Err())
		}
		return nil, fmt.Errorf("%s via %s: read response: %w", req.Command, c.socket, err)
	}
	if hresp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s via %s: http %d: %s", req.Command, c.socket, hresp.StatusCode, bytes.TrimSpace(data))
	}
	resp := &Response{}
	if err := json.Unmarshal(data, resp); err != nil {
		return nil, fmt.Errorf("%s via %s: decode response: %w", req.Command, c.socket, err)
	}
	return resp, nil
}

// Handler serves the CNI endpoint with serve, which runs each request under the HTTP
// request's context (cancelled when the shim disconnects).
func Handler(serve func(ctx context.Context, req *Request) *Response) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+Path, func(w http.ResponseWriter, r *http.Request) {
		req := &Request{}
		dec := json.NewDecoder(io.LimitReader(r.Body, 4<<20))
		if err := dec.Decode(req); err != nil {
			writeJSON(w, &Response{Error: types.NewError(types.ErrDecodingFailure, "decode cni request", err.Error())})
			return
		}
		writeJSON(w, serve(r.Context(), req))
	})
	return mux
}

func writeJSON(w http.ResponseWriter, resp *Response) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}
