package jsonrpc

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// ParseEndpoints splits an OVSDB remote list ("unix:/a.sock,tcp:127.0.0.1:6641") into its
// members and checks each one's form. ssl: is not supported (no certificates here yet).
func ParseEndpoints(s string) ([]string, error) {
	var out []string
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if _, _, err := splitEndpoint(e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no endpoint in %q", s)
	}
	return out, nil
}

func splitEndpoint(e string) (network, addr string, err error) {
	switch {
	case strings.HasPrefix(e, "unix:"):
		addr = strings.TrimPrefix(e, "unix:")
		if addr == "" {
			return "", "", fmt.Errorf("endpoint %q: empty socket path", e)
		}
		return "unix", addr, nil
	case strings.HasPrefix(e, "tcp:"):
		addr = strings.TrimPrefix(e, "tcp:")
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return "", "", fmt.Errorf("endpoint %q: %w", e, err)
		}
		return "tcp", addr, nil
	default:
		return "", "", fmt.Errorf("endpoint %q: want unix:PATH or tcp:HOST:PORT", e)
	}
}

// Dial opens a stream to one endpoint ("unix:PATH" or "tcp:HOST:PORT").
func Dial(ctx context.Context, endpoint string) (net.Conn, error) {
	network, addr, err := splitEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", endpoint, err)
	}
	return nc, nil
}
