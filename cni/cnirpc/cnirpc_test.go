package cnirpc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

func TestRoundTripCarriesTheDeadline(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "d.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var got *Request
	srv := &http.Server{Handler: Handler(func(_ context.Context, r *Request) *Response {
		got = r
		return &Response{Result: []byte(`{"cniVersion":"1.1.0"}`)}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := NewClient(sock).Do(ctx, &Request{Command: CmdAdd, ContainerID: "c", Config: []byte(`{"name":"n"}`)})
	if err != nil || string(resp.Result) != `{"cniVersion":"1.1.0"}` {
		t.Fatalf("Do = %+v, %v", resp, err)
	}
	dl, _ := ctx.Deadline()
	if got.Command != CmdAdd || got.ContainerID != "c" || !got.Deadline.Equal(dl) {
		t.Fatalf("server got %+v, deadline want %v", got, dl)
	}
}

func TestUnreachable(t *testing.T) {
	_, err := NewClient(filepath.Join(t.TempDir(), "none.sock")).Do(context.Background(), &Request{Command: CmdDel, Config: []byte(`{}`)})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Do without a daemon = %v, want ErrUnreachable", err)
	}
}
