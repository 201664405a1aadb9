package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ycloud-sdn/ycloud/test/lab"
)

// checkSpec is one packet-level check: from a pod (through the apiserver's exec API, so
// the command runs in the pod's network namespace) or from a node (in the node's
// namespaces, where its management port is), an HTTP GET to ip:8080 on the test image.
type checkSpec struct {
	cluster string
	name    string
	// fromPod or fromNode is the source.
	fromPod  *Pod
	fromNode string
	// ip is the destination; wantHost the pod that must answer (reachability), or empty
	// when nothing may answer (isolation).
	ip       string
	wantHost string
	toLabel  string
	// ping sends ICMP echo requests (busybox ping in the pod) instead of the HTTP GET; a
	// reply cannot tell which pod sent it, so the TCP check beside it does.
	ping bool
}

func (s checkSpec) from() string {
	if s.fromPod != nil {
		return "pod " + s.fromPod.Name
	}
	return "node " + s.fromNode
}

// planChecks builds the checks from the running pods (a pure function: the plan is
// unit-tested). pods must be sorted by cluster and name.
func planChecks(pods []Pod) []checkSpec {
	type key struct{ cluster, node string }
	web := map[key][]*Pod{}
	nodes := map[string][]string{}
	byDeploy := map[string]*Pod{}
	for i := range pods {
		p := &pods[i]
		if !strings.HasPrefix(p.Deployment, "web-") {
			if p.Cluster == lab.SpokeName(1) {
				byDeploy[p.Deployment] = p
			}
			continue
		}
		k := key{p.Cluster, p.Node}
		if len(web[k]) == 0 {
			nodes[p.Cluster] = append(nodes[p.Cluster], p.Node)
		}
		web[k] = append(web[k], p)
	}
	clusters := make([]string, 0, len(nodes))
	for c := range nodes {
		clusters = append(clusters, c)
	}
	sort.Strings(clusters)
	to := func(p *Pod) string { return p.IP + " (" + p.Name + ")" }
	var out []checkSpec
	for _, c := range clusters {
		ns := nodes[c]
		sort.Strings(ns)
		for _, n := range ns {
			if w := web[key{c, n}]; len(w) >= 2 {
				out = append(out, checkSpec{cluster: c, name: "pod -> pod, same node " + n, fromPod: w[0], ip: w[1].IP, wantHost: w[1].Name, toLabel: to(w[1])})
			}
		}
		// Across nodes: each node to the next one (two nodes: both directions).
		for i, n := range ns {
			next := ns[(i+1)%len(ns)]
			if next == n {
				continue
			}
			src, dst := web[key{c, n}], web[key{c, next}]
			out = append(out, checkSpec{cluster: c, name: "pod -> pod, across nodes " + n + " -> " + next, fromPod: src[0], ip: dst[0].IP, wantHost: dst[0].Name, toLabel: to(dst[0])})
		}
		for i, n := range ns {
			own := web[key{c, n}][0]
			out = append(out, checkSpec{cluster: c, name: "node -> pod on it, management port", fromNode: n, ip: own.IP, wantHost: own.Name, toLabel: to(own)})
			if next := ns[(i+1)%len(ns)]; next != n {
				other := web[key{c, next}][0]
				out = append(out, checkSpec{cluster: c, name: "node -> pod on " + next + ", management port", fromNode: n, ip: other.IP, wantHost: other.Name, toLabel: to(other)})
			}
		}
	}
	a1, a2, b1, b2 := byDeploy["vpc-a-1"], byDeploy["vpc-a-2"], byDeploy["vpc-b-1"], byDeploy["vpc-b-2"]
	if a1 == nil || a2 == nil || b1 == nil || b2 == nil {
		return out
	}
	c := lab.SpokeName(1)
	var anyWeb *Pod
	if ns := nodes[c]; len(ns) > 0 {
		sort.Strings(ns)
		anyWeb = web[key{c, ns[0]}][0]
	}
	out = append(out,
		checkSpec{cluster: c, name: "vpc demo-a: pod -> pod across nodes", fromPod: a1, ip: a2.IP, wantHost: a2.Name, toLabel: to(a2)},
		checkSpec{cluster: c, name: "vpc demo-b: pod -> pod across nodes", fromPod: b1, ip: b2.IP, wantHost: b2.Name, toLabel: to(b2)},
		checkSpec{cluster: c, name: "overlap: " + a1.IP + " from demo-a answers demo-a's pod", fromPod: a2, ip: a1.IP, wantHost: a1.Name, toLabel: to(a1)},
		checkSpec{cluster: c, name: "overlap: " + b1.IP + " from demo-b answers demo-b's pod", fromPod: b2, ip: b1.IP, wantHost: b1.Name, toLabel: to(b1)},
		checkSpec{cluster: c, name: "isolation: demo-a cannot reach " + b2.IP + " (only in demo-b)", fromPod: a1, ip: b2.IP, toLabel: to(b2)},
		checkSpec{cluster: c, name: "isolation: demo-b cannot reach " + a2.IP + " (only in demo-a)", fromPod: b1, ip: a2.IP, toLabel: to(a2)},
	)
	if anyWeb != nil {
		out = append(out,
			checkSpec{cluster: c, name: "isolation: demo-a cannot reach the default VPC", fromPod: a1, ip: anyWeb.IP, toLabel: to(anyWeb)},
			checkSpec{cluster: c, name: "isolation: the default VPC cannot reach demo-b", fromPod: anyWeb, ip: b2.IP, toLabel: to(b2)},
		)
	}
	return out
}

// httpAnswer is what the test image's HTTP server says about a request.
type httpAnswer struct {
	Hostname string `json:"hostname"`
	Remote   string `json:"remote"`
}

// get runs one `ynettest http-get` from the spec's source. A network failure (the tool ran
// and reports an error) is netErr; err is a failure to run the tool at all.
func (d *demo) get(ctx context.Context, s checkSpec, timeout time.Duration) (ans httpAnswer, latency time.Duration, netErr, err error) {
	url := "http://" + net.JoinHostPort(s.ip, strconv.Itoa(httpPort)) + "/demo"
	args := []string{"http-get", "--url", url, "--timeout", timeout.String()}
	var res lab.ExecResult
	if s.fromPod != nil {
		res, err = d.l.Exec(ctx, s.cluster, s.fromPod.Namespace, s.fromPod.Name, append([]string{"/bin/ynettest"}, args...)...)
	} else {
		res, err = d.l.NodeExec(ctx, s.fromNode, append([]string{d.l.Ynettest()}, args...)...)
	}
	var out struct {
		Error  string `json:"error"`
		Status int    `json:"status"`
		Body   string `json:"body"`
		P50    int64  `json:"p50_us"`
	}
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(res.Stdout)), &out); jerr != nil {
		if err == nil {
			err = fmt.Errorf("ynettest output %q: %w", res.Stdout, jerr)
		}
		return ans, 0, nil, fmt.Errorf("%w (stderr %q)", err, strings.TrimSpace(res.Stderr))
	}
	var exit *lab.ExitError
	if errors.As(err, &exit) || out.Error != "" {
		return ans, 0, errors.New(out.Error), nil
	}
	if err != nil {
		return ans, 0, nil, err
	}
	if out.Status != 200 {
		return ans, 0, fmt.Errorf("HTTP status %d", out.Status), nil
	}
	if err := json.Unmarshal([]byte(out.Body), &ans); err != nil {
		return ans, 0, fmt.Errorf("answer %q: %w", out.Body, err), nil
	}
	return ans, time.Duration(out.P50) * time.Microsecond, nil, nil
}

// ping runs one `ping -c 1` from the spec's source pod. netErr reports no reply; err a
// failure to run ping at all.
func (d *demo) ping(ctx context.Context, s checkSpec, timeout time.Duration) (detail string, netErr, err error) {
	secs := strconv.Itoa(max(1, int(timeout.Round(time.Second)/time.Second)))
	res, err := d.l.Exec(ctx, s.cluster, s.fromPod.Namespace, s.fromPod.Name, "ping", "-c", "1", "-W", secs, s.ip)
	var exit *lab.ExitError
	if errors.As(err, &exit) {
		return "", fmt.Errorf("no echo reply within %ss", secs), nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("%w (stderr %q)", err, strings.TrimSpace(res.Stderr))
	}
	// busybox: "1 packets transmitted, 1 packets received, 0% packet loss" and
	// "round-trip min/avg/max = 0.512/0.512/0.512 ms".
	for _, line := range strings.Split(res.Stdout, "\n") {
		if strings.HasPrefix(line, "round-trip") {
			detail = strings.TrimSpace(line)
		}
	}
	return detail, nil, nil
}

// Reachability is polled (the first packets of a new flow may be lost while OVN's
// neighbours resolve); isolation is tried several times and must fail every time.
const (
	reachDeadline    = 30 * time.Second
	isolationTries   = 3
	isolationTimeout = 2 * time.Second
)

// attempt is the outcome of one probe.
type attempt struct {
	// answered: a reply came back. fail, when set, fails the check at once even so (the
	// wrong pod answered, the source address was rewritten): a wrong delivery, not a loss.
	answered bool
	fail     string
	// detail says what the reply showed, or why none came.
	detail string
	// err: the probe itself could not run.
	err error
}

// probe runs one HTTP GET or ping for a check.
func (d *demo) probe(ctx context.Context, s checkSpec, timeout time.Duration) attempt {
	if s.ping {
		detail, netErr, err := d.ping(ctx, s, timeout)
		switch {
		case err != nil:
			return attempt{err: err}
		case netErr != nil:
			return attempt{detail: netErr.Error()}
		}
		return attempt{answered: true, detail: "echo reply, " + detail}
	}
	ans, lat, netErr, err := d.get(ctx, s, timeout)
	switch {
	case err != nil:
		return attempt{err: err}
	case netErr != nil:
		return attempt{detail: netErr.Error()}
	}
	a := attempt{answered: true, detail: fmt.Sprintf("%s answered as pod %s", s.ip, ans.Hostname)}
	if s.wantHost == "" {
		return a
	}
	remote, _, _ := net.SplitHostPort(ans.Remote)
	switch {
	case ans.Hostname != s.wantHost:
		a.fail = fmt.Sprintf("%s answered as pod %s, want %s", s.ip, ans.Hostname, s.wantHost)
	case s.fromPod != nil && remote != s.fromPod.IP:
		a.fail = fmt.Sprintf("%s saw the request from %s, want the source pod's %s (no NAT inside a VPC)", s.wantHost, remote, s.fromPod.IP)
	default:
		a.detail = fmt.Sprintf("answered by %s, request from %s, %s", ans.Hostname, remote, lat.Round(10*time.Microsecond))
	}
	return a
}

// run executes one check: reachability is polled until the expected answer (or a wrong
// one, which fails at once); isolation is tried isolationTries times, each of which must
// go unanswered.
func (d *demo) run(ctx context.Context, s checkSpec) Check {
	c := Check{Cluster: s.cluster, Name: s.name, From: s.from(), To: s.toLabel}
	t := time.Now()
	defer func() { c.Duration = time.Since(t) }()
	if s.wantHost == "" {
		for i := range isolationTries {
			a := d.probe(ctx, s, isolationTimeout)
			switch {
			case a.err != nil:
				c.Detail = "could not run the probe: " + a.err.Error()
				return c
			case a.answered:
				c.Detail = fmt.Sprintf("attempt %d got an answer: %s", i+1, a.detail)
				return c
			}
			c.Detail = fmt.Sprintf("%d of %d attempts unanswered as they must be (%s)", i+1, isolationTries, a.detail)
		}
		c.Pass = true
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, reachDeadline)
	defer cancel()
	last := ""
	for n := 1; ; n++ {
		a := d.probe(ctx, s, 2*time.Second)
		switch {
		case a.err != nil:
			last = "could not run the probe: " + a.err.Error()
		case !a.answered:
			last = a.detail
		case a.fail != "":
			c.Detail = a.fail
			return c
		default:
			c.Pass = true
			c.Detail = a.detail
			if n > 1 {
				c.Detail += fmt.Sprintf(" (attempt %d)", n)
			}
			return c
		}
		select {
		case <-ctx.Done():
			c.Detail = fmt.Sprintf("no answer within %s after %d attempts: %s", reachDeadline, n, last)
			return c
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// runChecks runs every planned check, reachability first, a few at a time.
func (d *demo) runChecks(ctx context.Context) {
	specs := append(planChecks(d.res.Pods), planFedChecks(d.res.Pods)...)
	sort.SliceStable(specs, func(i, j int) bool { return specs[i].wantHost != "" && specs[j].wantHost == "" })
	results := make([]Check, len(specs))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = d.run(ctx, s)
			d.printCheck(results[i])
		}()
	}
	wg.Wait()
	d.mu.Lock()
	d.res.Checks = append(d.res.Checks, results...)
	d.mu.Unlock()
}
