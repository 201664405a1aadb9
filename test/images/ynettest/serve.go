package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// serve starts every requested server, prints one JSON line with the ports actually bound
// (port 0 picks a free one), and runs until SIGTERM or SIGINT.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	bind := fs.String("bind", "", "address to bind (default: all)")
	tcpP := fs.String("tcp", "", "TCP echo ports")
	udpP := fs.String("udp", "", "UDP echo ports")
	httpP := fs.String("http", "", "HTTP ports")
	sinkP := fs.String("sink", "", "TCP sink ports (throughput)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	spec := map[string]string{"tcp": *tcpP, "udp": *udpP, "http": *httpP, "sink": *sinkP}
	hostname, _ := os.Hostname()
	bound, err := startServers(*bind, spec, hostname)
	if err != nil {
		return err
	}
	emit(map[string]any{"op": "serve", "hostname": hostname, "ports": bound})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
	return nil
}

// startServers binds every server of spec (kind -> comma-separated ports) and serves them
// in the background. It returns the ports actually bound, per kind.
func startServers(bind string, spec map[string]string, hostname string) (map[string][]int, error) {
	bound := map[string][]int{"tcp": {}, "udp": {}, "http": {}, "sink": {}}
	for _, kind := range []string{"tcp", "udp", "http", "sink"} {
		ps, err := ports(spec[kind])
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", kind, err)
		}
		for _, p := range ps {
			addr := net.JoinHostPort(bind, strconv.Itoa(p))
			var port int
			if kind == "udp" {
				pc, err := net.ListenPacket("udp", addr)
				if err != nil {
					return nil, err
				}
				port = pc.LocalAddr().(*net.UDPAddr).Port
				go udpEcho(pc)
			} else {
				l, err := net.Listen("tcp", addr)
				if err != nil {
					return nil, err
				}
				port = l.Addr().(*net.TCPAddr).Port
				switch kind {
				case "tcp":
					go acceptLoop(l, tcpEcho)
				case "sink":
					go acceptLoop(l, tcpSink)
				case "http":
					go func() { _ = http.Serve(l, httpHandler(hostname)) }()
				}
			}
			bound[kind] = append(bound[kind], port)
		}
	}
	return bound, nil
}

func acceptLoop(l net.Listener, handle func(net.Conn)) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go handle(c)
	}
}

func tcpEcho(c net.Conn) {
	defer c.Close()
	_, _ = io.Copy(c, c)
}

// tcpSink counts bytes until the peer half-closes, then answers the count in decimal.
func tcpSink(c net.Conn) {
	defer c.Close()
	n, _ := io.Copy(io.Discard, c)
	fmt.Fprintf(c, "%d\n", n)
}

func udpEcho(pc net.PacketConn) {
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		_, _ = pc.WriteTo(buf[:n], from)
	}
}

func httpHandler(hostname string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/bytes", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 {
			http.Error(w, "n must be a byte count", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		chunk := make([]byte, 32*1024)
		for n > 0 {
			k := min(n, len(chunk))
			if _, err := w.Write(chunk[:k]); err != nil {
				return
			}
			n -= k
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"hostname": hostname,
			"remote":   r.RemoteAddr,
			"local":    localAddr(r),
			"path":     r.URL.Path,
		})
	})
	return mux
}

func localAddr(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return a.String()
	}
	return ""
}
