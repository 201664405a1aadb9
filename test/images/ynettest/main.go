// Command ynettest is the lab's network test tool, built static into the test image.
//
//	ynettest serve [--bind ADDR] [--tcp PORTS] [--udp PORTS] [--http PORTS] [--sink PORTS]
//	ynettest tcp-rr     --addr HOST:PORT [--count N] [--size BYTES] [--timeout D]
//	ynettest udp-rr     --addr HOST:PORT [--count N] [--size BYTES] [--timeout D]
//	ynettest udp-probe  --addr HOST:PORT [--interval D] [--duration D] [--timeout D] [--steady N]
//	ynettest http-get   --url URL [--count N] [--timeout D]
//	ynettest throughput --addr HOST:PORT [--duration D] [--timeout D]
//
// serve runs TCP and UDP echo servers, an HTTP server ("/" answers a JSON description of the
// request and the server; "/bytes?n=N" answers N bytes) and byte sinks (read until EOF, then
// answer the byte count: the receiver's count is what throughput reports, not what the
// sender managed to buffer). PORTS is a comma-separated list.
//
// Every client prints exactly one JSON line on stdout — its result, or {"op":...,"error":...}
// — and exits 0 on success, 1 on failure, so tests parse the output instead of scraping text.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	op, args := os.Args[1], os.Args[2:]
	var err error
	var result any
	switch op {
	case "serve":
		err = serve(args)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ynettest serve: %v\n", err)
			os.Exit(1)
		}
		return
	case "tcp-rr":
		result, err = tcpRR(args)
	case "udp-rr":
		result, err = udpRR(args)
	case "udp-probe":
		result, err = udpProbe(args)
	case "http-get":
		result, err = httpGet(args)
	case "throughput":
		result, err = throughput(args)
	case "-h", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "ynettest: unknown command %q\n", op)
		usage()
		os.Exit(2)
	}
	if err != nil {
		emit(map[string]string{"op": op, "error": err.Error()})
		os.Exit(1)
	}
	emit(result)
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  ynettest serve [--bind ADDR] [--tcp PORTS] [--udp PORTS] [--http PORTS] [--sink PORTS]
  ynettest tcp-rr     --addr HOST:PORT [--count N] [--size BYTES] [--timeout D]
  ynettest udp-rr     --addr HOST:PORT [--count N] [--size BYTES] [--timeout D]
  ynettest udp-probe  --addr HOST:PORT [--interval D] [--duration D] [--timeout D] [--steady N]
  ynettest http-get   --url URL [--count N] [--timeout D]
  ynettest throughput --addr HOST:PORT [--duration D] [--timeout D]`)
}

func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
	}
	os.Stdout.Write(append(b, '\n'))
}

// ports parses "80,8080" (empty: none).
func ports(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := strconv.Atoi(f)
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("bad port %q", f)
		}
		out = append(out, p)
	}
	return out, nil
}
