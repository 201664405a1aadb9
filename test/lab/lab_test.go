package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ycloud-sdn/ycloud/cni/daemon"
	"github.com/ycloud-sdn/ycloud/cni/shim"
	"github.com/ycloud-sdn/ycloud/spoke/controller"
)

func TestConfigValidate(t *testing.T) {
	base := Config{Dir: "/var/tmp/x"}
	cases := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"defaults", func(*Config) {}, ""},
		{"ycloud cni", func(c *Config) { c.CNI = CNIYcloud }, ""},
		{"unknown cni", func(c *Config) { c.CNI = "calico" }, `cni "calico"`},
		{"too many clusters", func(c *Config) { c.Clusters = 51 }, "clusters 51"},
		{"negative nodes", func(c *Config) { c.Nodes = -1 }, "nodes -1"},
		{"long prefix", func(c *Config) { c.Prefix = "abcdefghijk" }, "prefix"},
		{"prefix with dash", func(c *Config) { c.Prefix = "a-b" }, "prefix"},
		{"ic gateways", func(c *Config) { c.ICGateways = 2 }, ""},
		{"too many ic gateways", func(c *Config) { c.ICGateways = 3 }, "ic gateways 3"},
		{"underlay /24", func(c *Config) { c.Underlay = "10.1.0.0/24" }, "underlay"},
		{"underlay not masked", func(c *Config) { c.Underlay = "10.1.2.0/16" }, "underlay"},
		{"underlay ipv6", func(c *Config) { c.Underlay = "fd00::/16" }, "underlay"},
		{"underlay in pod range", func(c *Config) { c.Underlay = "10.130.0.0/16" }, "overlaps the pod range"},
		{"dir under /var/lib", func(c *Config) { c.Dir = "/var/lib/lab" }, "must not be under /var/lib"},
		{"dir under /run", func(c *Config) { c.Dir = "/run/lab" }, "must not be under /run"},
		{"dir too long", func(c *Config) { c.Dir = "/var/tmp/" + strings.Repeat("x", 60) }, "too long"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.mutate(&c)
			err := c.withDefaults().validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.Dir != DefaultDir || c.Clusters != 1 || c.Nodes != 2 || c.CNI != CNIReference || c.Prefix != "ylab" || c.Underlay != "10.250.0.0/16" {
		t.Fatalf("defaults: %+v", c)
	}
	if _, err := os.Stat(filepath.Join(c.RepoRoot, "go.mod")); err != nil {
		t.Fatalf("repo root %q has no go.mod: %v", c.RepoRoot, err)
	}
}

// The plan names and addresses everything from the shape alone.
func TestPlan(t *testing.T) {
	cfg := Config{Dir: "/var/tmp/p", Clusters: 2, Nodes: 3, ICGateways: 1, Prefix: "zz", Underlay: "10.77.0.0/16"}.withDefaults()
	st, err := plan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Clusters) != 3 || st.Clusters[0].Name != HubName || st.Clusters[0].Role != RoleHub || st.Clusters[0].BindIP != "127.0.0.1" {
		t.Fatalf("clusters: %+v", st.Clusters)
	}
	if st.RootIP != "10.77.0.1" || st.RootLink != "zz-root" || st.UnderlayNS != "zz-ul" {
		t.Fatalf("underlay plan: %s %s %s", st.RootIP, st.RootLink, st.UnderlayNS)
	}
	s2 := st.Clusters[2]
	if s2.Name != "spoke2" || s2.BindIP != st.RootIP || s2.PodCIDR != "10.130.0.0/16" || !strings.HasSuffix(s2.NB, "/clusters/spoke2/ovn/nb.sock") {
		t.Fatalf("spoke2: %+v", s2)
	}
	n := s2.Nodes[2]
	want := NodeInfo{Name: "spoke2-n3", Cluster: "spoke2", Index: 3, NetNS: "zz-spoke2-n3", IP: "10.77.2.13",
		PodCIDR: "10.130.3.0/24", Cgroup: "zz-spoke2-n3", UnderlayLink: "c2n3"}
	if n.Name != want.Name || n.NetNS != want.NetNS || n.IP != want.IP || n.PodCIDR != want.PodCIDR || n.Cgroup != want.Cgroup || n.UnderlayLink != want.UnderlayLink {
		t.Fatalf("node: %+v, want %+v", *n, want)
	}
	if !s2.Nodes[0].ICGateway || s2.Nodes[1].ICGateway || n.ICGateway {
		t.Fatalf("only the first node of each spoke is an IC gateway: %v %v %v", s2.Nodes[0].ICGateway, s2.Nodes[1].ICGateway, n.ICGateway)
	}
	seen := map[string]string{}
	for _, ci := range st.Clusters {
		for _, n := range ci.Nodes {
			if other, dup := seen[n.IP]; dup {
				t.Fatalf("nodes %s and %s share IP %s", other, n.Name, n.IP)
			}
			seen[n.IP] = n.Name
			if len(n.UnderlayLink) > 15 {
				t.Fatalf("link name %s longer than IFNAMSIZ", n.UnderlayLink)
			}
		}
	}
}

func TestCNIConfig(t *testing.T) {
	n := &NodeInfo{Name: "spoke1-n1", Dir: "/d/nodes/spoke1-n1", PodCIDR: "10.129.1.0/24", CNISocket: "/d/nodes/spoke1-n1/run/ycloud-cni.sock"}

	name, b, err := cniConfig(CNIYcloud, n)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		CNIVersion string           `json:"cniVersion"`
		Name       string           `json:"name"`
		Plugins    []map[string]any `json:"plugins"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	// What libcni hands the plugin: the list's name and version plus the plugin's keys.
	if name != "10-ycloud.conflist" || list.CNIVersion != "1.0.0" || list.Name != "ycloud" || len(list.Plugins) != 1 {
		t.Fatalf("ycloud conflist %s: %s", name, b)
	}
	if p := list.Plugins[0]; p["type"] != "ycloud" || p["socketPath"] != n.CNISocket || len(p) != 2 {
		t.Fatalf("ycloud plugin config: %v", p)
	}
	// The shim must read the socket from what libcni hands it (the list's name and
	// version plus the plugin's keys), not fall back to its default.
	p := list.Plugins[0]
	p["name"], p["cniVersion"] = list.Name, list.CNIVersion
	stdin, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := shim.ParseNetConf(stdin)
	if err != nil {
		t.Fatalf("shim rejects the lab's plugin config %s: %v", stdin, err)
	}
	if conf.SocketPath != n.CNISocket || conf.Type != "ycloud" {
		t.Fatalf("shim reads socket %q type %q from %s, want %q", conf.SocketPath, conf.Type, stdin, n.CNISocket)
	}

	name, b, err = cniConfig(CNIReference, n)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"type": "bridge"`, `"type": "host-local"`, `"subnet": "10.129.1.0/24"`, `"dataDir": "/d/nodes/spoke1-n1/cni/ipam"`, `"type": "loopback"`} {
		if !strings.Contains(s, want) {
			t.Errorf("reference conflist %s lacks %s:\n%s", name, want, s)
		}
	}
	if _, _, err := cniConfig("other", n); err == nil {
		t.Fatal("unknown mode accepted")
	}
}

// The settings KUBELET-NOTES.md found necessary on this machine must be in every node's
// kubelet configuration.
func TestKubeletConfig(t *testing.T) {
	n := &NodeInfo{Name: "spoke1-n2", Dir: "/d/nodes/spoke1-n2", IP: "10.250.1.12", Cgroup: "ylab-spoke1-n2"}
	kc := kubeletConfig(n, "/d/ca.crt")
	want := map[string]any{
		"failCgroupV1":                false,
		"cgroupDriver":                "cgroupfs",
		"cgroupRoot":                  "/ylab-spoke1-n2",
		"address":                     "10.250.1.12",
		"readOnlyPort":                0,
		"podLogsDir":                  "/d/nodes/spoke1-n2/pod-logs",
		"volumePluginDir":             "/d/nodes/spoke1-n2/kubelet/volume-plugins",
		"resolvConf":                  "",
		"protectKernelDefaults":       false,
		"containerRuntimeEndpoint":    "unix:///d/nodes/spoke1-n2/run/containerd.sock",
		"imageGCHighThresholdPercent": 100,
	}
	for k, v := range want {
		if kc[k] != v {
			t.Errorf("%s = %v, want %v", k, kc[k], v)
		}
	}
	if kc["authorization"].(map[string]any)["mode"] != "Webhook" {
		t.Errorf("authorization: %v", kc["authorization"])
	}
	if _, err := json.Marshal(kc); err != nil {
		t.Fatal(err)
	}
}

func TestContainerdConfig(t *testing.T) {
	var b bytes.Buffer
	if err := containerdTmpl.Execute(&b, map[string]string{"Node": "n", "N": "/d/n", "Pause": "p:1", "CNIBin": "/d/cni-bin"}); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{`restrict_oom_score_adj = true`, `address = "/d/n/run/containerd.sock"`, `Root = "/d/n/runc"`,
		`SystemdCgroup = false`, `conf_dir = "/d/n/cni/net.d"`, `bin_dir = "/d/cni-bin"`, `sandbox_image = "p:1"`, `max_conf_num = 1`} {
		if !strings.Contains(s, want) {
			t.Errorf("containerd config lacks %s", want)
		}
	}
}

func TestComponentArgs(t *testing.T) {
	ctx := ComponentContext{Cluster: "spoke1", NB: "unix:/x/nb.sock", HealthPort: 1234}
	got, err := componentArgs(DefaultControllerArgs, ctx)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(got, " ")
	for _, want := range []string{"--cluster=spoke1", "--ovn-nb=unix:/x/nb.sock", "--health-probe-bind-address=127.0.0.1:1234", "--leader-elect=false"} {
		if !strings.Contains(joined, want) {
			t.Errorf("args %q lack %s", joined, want)
		}
	}
	if !usesField(DefaultControllerArgs, "HealthPort") || !usesField(DefaultCNIDaemonArgs, "HealthPort") || usesField(DefaultCNIDaemonArgs, "MetricsPort") {
		t.Error("usesField disagrees with the default templates")
	}
	ctx = ComponentContext{Cluster: "spoke1", Kubeconfig: "/k", SB: "unix:/x/sb.sock", DefaultCIDR: "10.129.0.0/16", JoinCIDR: "100.65.0.0/16",
		Node: "spoke1-n1", NodeIP: "10.250.1.11", OVSDB: "unix:/n/db.sock", CNISocket: "/n/run/cni.sock", HealthPort: 10665}
	for _, tc := range []struct {
		tmpl []string
		want []string
	}{
		{DefaultControllerArgs, []string{"--default-cidr=10.129.0.0/16", "--join-cidr=100.65.0.0/16"}},
		// The flags of cni/daemon.Config, with the values the lab wrote into Open_vSwitch.
		{DefaultCNIDaemonArgs, []string{"--node-name=spoke1-n1", "--ovsdb=unix:/n/db.sock", "--ovn-remote=unix:/x/sb.sock",
			"--encap-ip=10.250.1.11", "--encap-type=geneve", "--datapath-type=netdev", "--socket=/n/run/cni.sock",
			"--pod-cidrs=10.129.0.0/16", "--metrics-bind-address=10.250.1.11:10665", "--kubeconfig=/k"}},
	} {
		got, err := componentArgs(tc.tmpl, ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("args %q lack %s", got, w)
			}
		}
	}
	if _, err := componentArgs([]string{"{{.NoSuchField}}"}, ctx); err == nil {
		t.Error("unknown template field accepted")
	}
	if _, err := componentArgs([]string{"{{"}, ctx); err == nil {
		t.Error("broken template accepted")
	}
}

// The default argument templates must parse with the components' own flag sets and
// validate, so a renamed flag fails here rather than in a lab.
func TestComponentArgsParse(t *testing.T) {
	ctx := ComponentContext{Cluster: "spoke1", Kubeconfig: "/k", NB: "unix:/x/nb.sock", SB: "unix:/x/sb.sock",
		DefaultCIDR: "10.129.0.0/16", JoinCIDR: "100.65.0.0/16", Node: "spoke1-n1", NodeIP: "10.250.1.11",
		OVSDB: "unix:/n/db.sock", CNISocket: "/n/run/cni.sock", HealthPort: 10665, MetricsPort: 10666}

	args, err := componentArgs(DefaultCNIDaemonArgs, ctx)
	if err != nil {
		t.Fatal(err)
	}
	dc := daemon.DefaultConfig()
	fs := flag.NewFlagSet("ycloud-cni", flag.ContinueOnError)
	dc.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("ycloud-cni %q: %v", args, err)
	}
	if err := dc.Validate(); err != nil {
		t.Fatalf("ycloud-cni %q: %v", args, err)
	}
	if dc.NodeName != ctx.Node || dc.EncapIP != ctx.NodeIP || dc.OVNRemote != ctx.SB || dc.DatapathType != "netdev" || dc.SocketPath != ctx.CNISocket {
		t.Fatalf("ycloud-cni config from %q: %+v", args, dc)
	}

	args, err = componentArgs(DefaultControllerArgs, ctx)
	if err != nil {
		t.Fatal(err)
	}
	cc := controller.DefaultConfig()
	fs = flag.NewFlagSet("ycloud-controller", flag.ContinueOnError)
	cc.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("ycloud-controller %q: %v", args, err)
	}
	if err := cc.Validate(); err != nil {
		t.Fatalf("ycloud-controller %q: %v", args, err)
	}
	if cc.LeaderElect || cc.Cluster != "spoke1" || cc.DefaultSubnetCIDR != ctx.DefaultCIDR || cc.JoinSubnetCIDR != ctx.JoinCIDR || cc.NBAddress != ctx.NB {
		t.Fatalf("ycloud-controller config from %q: %+v", args, cc)
	}
}

func TestParseMountinfo(t *testing.T) {
	line := `45 42 0:4 net:[4026532319] /run/netns/a\040b rw shared:4 master:1 - nsfs nsfs rw`
	m, ok := parseMountinfo(line)
	if !ok {
		t.Fatal("not parsed")
	}
	if m.mountPoint != "/run/netns/a b" || m.fstype != "nsfs" || len(m.optional) != 2 || m.optional[0] != "shared:4" || m.superOpts != "rw" {
		t.Fatalf("parsed %+v", m)
	}
	if _, ok := parseMountinfo("garbage"); ok {
		t.Fatal("garbage parsed")
	}
	if got := unescapeMount(`a\134b\`); got != `a\b\` {
		t.Fatalf("unescape: %q", got)
	}
}

// The hierarchies of this machine: v1 controllers under /sys/fs/cgroup (KUBELET-NOTES.md).
func TestCgroupHierarchies(t *testing.T) {
	hs, err := cgroupHierarchies()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cpu", "cpuset", "memory", "pids"} {
		found := false
		for _, h := range hs {
			found = found || h == want
		}
		if !found {
			t.Errorf("hierarchy %s not found in %v", want, hs)
		}
	}
}

func TestProcessIdentity(t *testing.T) {
	st, err := procStartTime(os.Getpid())
	if err != nil || st == 0 {
		t.Fatalf("start time of self: %d, %v", st, err)
	}
	self := &Process{Name: "self", PID: os.Getpid(), StartTime: st}
	if !self.Alive() {
		t.Fatal("self not alive")
	}
	// Same PID, another start time: a recycled PID is someone else.
	other := &Process{Name: "recycled", PID: os.Getpid(), StartTime: st + 1}
	if other.Alive() {
		t.Fatal("a process with another start time counts as alive")
	}
	if (&Process{PID: 0}).Alive() {
		t.Fatal("pid 0 alive")
	}
}

func TestPollReportsLastReason(t *testing.T) {
	n := 0
	err := poll(context.Background(), 100*time.Millisecond, 10*time.Millisecond, "thing", nil, func() (bool, string) {
		n++
		return false, "still broken"
	})
	if err == nil || !strings.Contains(err.Error(), "waiting for thing") || !strings.Contains(err.Error(), "still broken") || n < 2 {
		t.Fatalf("err = %v after %d checks", err, n)
	}
	if err := poll(context.Background(), time.Second, 10*time.Millisecond, "ok", nil, func() (bool, string) { return true, "" }); err != nil {
		t.Fatal(err)
	}
}

// Up on a directory whose lab is complete returns it for the same shape and refuses
// another; an unfinished lab is refused too.
func TestUpReusesExistingState(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, Clusters: 1, Nodes: 1, Prefix: "yunit", Underlay: "10.99.0.0/16"}.withDefaults()
	st, err := plan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.save(); err != nil {
		t.Fatal(err)
	}
	if _, err := Up(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("up over an unfinished lab: %v", err)
	}
	st.Complete = true
	if err := st.save(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cfg.Log = &log
	l, err := Up(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "already up") || len(l.Nodes("spoke1")) != 1 {
		t.Fatalf("reuse: log %q nodes %v", log.String(), l.Nodes("spoke1"))
	}
	other := cfg
	other.Nodes = 2
	if _, err := Up(context.Background(), other); err == nil || !strings.Contains(err.Error(), "already up with") {
		t.Fatalf("up with another shape: %v", err)
	}
	// Open from "another process" sees the same lab.
	o, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ep, err := o.OVN("spoke1"); err != nil || !strings.HasSuffix(ep.SB, "sb.sock") {
		t.Fatalf("ovn endpoints: %+v %v", ep, err)
	}
	if _, err := o.OVN("hub"); err == nil {
		t.Fatal("hub has no OVN")
	}
	if _, err := o.Kubeconfig("nope"); err == nil {
		t.Fatal("unknown cluster accepted")
	}
}

func TestOpenWithoutLab(t *testing.T) {
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), ErrNoLab.Error()) {
		t.Fatalf("err = %v", err)
	}
	if err := Down(context.Background(), t.TempDir()); err != nil {
		t.Fatalf("down without a lab: %v", err)
	}
}

func TestCLIErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := RunCLI(context.Background(), []string{"frobnicate"}, nil, &out, &errOut); code != 2 {
		t.Fatalf("unknown command: code %d", code)
	}
	if code := RunCLI(context.Background(), nil, nil, &out, &errOut); code != 2 {
		t.Fatalf("no command: code %d", code)
	}
	dir := t.TempDir()
	errOut.Reset()
	if code := RunCLI(context.Background(), []string{"--dir", dir, "status"}, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "no lab state") {
		t.Fatalf("status without lab: code %d, %q", code, errOut.String())
	}
	if code := RunCLI(context.Background(), []string{"--dir", dir, "exec", "badtarget", "--", "ls"}, nil, &out, &errOut); code != 1 {
		t.Fatalf("exec with a bad target: code %d", code)
	}
	errOut.Reset()
	if code := RunCLI(context.Background(), []string{"--dir", dir, "node-exec", "spoke1-n1", "--", "ip", "route"}, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "no lab state") {
		t.Fatalf("node-exec without lab: code %d, %q", code, errOut.String())
	}
	out.Reset()
	if code := RunCLI(context.Background(), []string{"--dir", dir, "down"}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "no lab") {
		t.Fatalf("down without lab: code %d, %q", code, out.String())
	}
}

// Commands defined outside the package (demo) get the lab directory and their arguments,
// and appear in the usage text.
func TestCLIExtraCommand(t *testing.T) {
	var gotDir string
	var gotArgs []string
	extra := Command{Name: "hello", Usage: "  hello ARGS\n         say hello\n", Run: func(_ context.Context, dir string, args []string, stdout, _ io.Writer) int {
		gotDir, gotArgs = dir, args
		fmt.Fprintln(stdout, "hi")
		return 3
	}}
	var out, errOut bytes.Buffer
	if code := RunCLI(context.Background(), []string{"--dir", "/var/tmp/d", "hello", "--x", "y"}, nil, &out, &errOut, extra); code != 3 || out.String() != "hi\n" {
		t.Fatalf("extra command: code %d out %q", code, out.String())
	}
	if gotDir != "/var/tmp/d" || strings.Join(gotArgs, " ") != "--x y" {
		t.Fatalf("extra command got dir %q args %q", gotDir, gotArgs)
	}
	out.Reset()
	if code := RunCLI(context.Background(), []string{"help"}, nil, &out, &errOut, extra); code != 0 || !strings.Contains(out.String(), "  hello ARGS") || !strings.Contains(out.String(), "DIR defaults") {
		t.Fatalf("usage with an extra command: %q", out.String())
	}
}
