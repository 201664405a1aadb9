package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/plugins/pkg/ns"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/cni/cnirpc"
	"github.com/ycloud-sdn/ycloud/cni/nic"
	"github.com/ycloud-sdn/ycloud/cni/shim"
)

const conf = `{"cniVersion":"1.1.0","name":"ycloud","type":"ycloud"}`

func TestDecode(t *testing.T) {
	cases := []struct {
		name string
		req  cnirpc.Request
		code uint // 0: success
	}{
		{"add", cnirpc.Request{Command: "ADD", ContainerID: "c", IfName: "eth0", Netns: "/n",
			Args: "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_UID=u", Config: json.RawMessage(conf)}, 0},
		{"add without pod args", cnirpc.Request{Command: "ADD", ContainerID: "c", IfName: "eth0", Netns: "/n",
			Args: "IgnoreUnknown=1", Config: json.RawMessage(conf)}, types.ErrInvalidEnvironmentVariables},
		{"add without netns", cnirpc.Request{Command: "ADD", ContainerID: "c", IfName: "eth0",
			Args: "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p", Config: json.RawMessage(conf)}, types.ErrInvalidEnvironmentVariables},
		{"del needs no pod args nor netns", cnirpc.Request{Command: "DEL", ContainerID: "c", IfName: "eth0",
			Config: json.RawMessage(conf)}, 0},
		{"gc needs no container", cnirpc.Request{Command: "GC", Config: json.RawMessage(conf)}, 0},
		{"bad json", cnirpc.Request{Command: "DEL", ContainerID: "c", IfName: "eth0", Config: json.RawMessage(`{`)}, types.ErrDecodingFailure},
		{"no version", cnirpc.Request{Command: "STATUS", Config: json.RawMessage(`{"name":"ycloud"}`)}, types.ErrInvalidNetworkConfig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := decode(&tc.req)
			switch {
			case tc.code == 0 && err != nil:
				t.Fatalf("decode: %v", err)
			case tc.code != 0 && (err == nil || err.Code != tc.code):
				t.Fatalf("decode = %v, want code %d", err, tc.code)
			}
			if tc.name == "add" && (c.podKey() != "ns/p" || c.podUID != "u") {
				t.Fatalf("pod %s uid %s", c.podKey(), c.podUID)
			}
		})
	}
}

func TestCNIErrorCodes(t *testing.T) {
	cases := []struct {
		err  error
		code uint
	}{
		{types.NewError(types.ErrInvalidNetNS, "x", ""), types.ErrInvalidNetNS},
		{fmt.Errorf("wrapped: %w", ns.NSPathNotExistErr{}), types.ErrInvalidNetNS},
		{fmt.Errorf("%w: waiting", errTransient), types.ErrTryAgainLater},
		{fmt.Errorf("install: %w", context.DeadlineExceeded), types.ErrTryAgainLater},
		{errors.New("boom"), types.ErrInternal},
	}
	for _, tc := range cases {
		if got := cniError("ADD", tc.err); got.Code != tc.code || got.Details == "" && tc.code != types.ErrInvalidNetNS {
			t.Errorf("cniError(%v) = %+v, want code %d", tc.err, got, tc.code)
		}
	}
}

func TestBuildResult(t *testing.T) {
	c := &call{Request: &cnirpc.Request{IfName: "eth0", Netns: "/var/run/netns/p"}, conf: mustConf(t)}
	alloc := &iaasv1.Allocation{
		IPs:      []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24"), netip.MustParsePrefix("fd00::5/120")},
		Gateways: []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("fd00::1")},
		Routes:   []iaasv1.AllocationRoute{{Dst: netip.MustParsePrefix("172.20.1.0/24")}},
		MAC:      "0a:58:0a:00:00:05", LogicalSwitchPort: "p",
	}
	r := buildResult(c, alloc, &nic.Result{HostIfName: "ycabc", HostMAC: "02:00:00:00:00:01", PodMAC: "0a:58:0a:00:00:05"}, 1400)
	data, _ := json.Marshal(r)
	for _, want := range []string{
		`{"mac":"02:00:00:00:00:01","name":"ycabc"}`,
		`{"mac":"0a:58:0a:00:00:05","mtu":1400,"name":"eth0","sandbox":"/var/run/netns/p"}`,
		`{"address":"10.0.0.5/24","gateway":"10.0.0.1","interface":1}`,
		`{"address":"fd00::5/120","gateway":"fd00::1","interface":1}`,
		`{"dst":"0.0.0.0/0","gw":"10.0.0.1"}`, `{"dst":"::/0","gw":"fd00::1"}`, `{"dst":"172.20.1.0/24"}`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("result %s lacks %s", data, want)
		}
	}
	// An older configuration version gets an older result.
	c.conf.CNIVersion = "0.4.0"
	d := &Daemon{}
	resp := d.result(c, r)
	if resp.Error != nil || !strings.Contains(string(resp.Result), `"cniVersion":"0.4.0"`) {
		t.Fatalf("0.4.0 result: %s %v", resp.Result, resp.Error)
	}
}

func mustConf(t *testing.T) *shim.NetConf {
	t.Helper()
	c, err := decode(&cnirpc.Request{Command: "GC", Config: json.RawMessage(conf)})
	if err != nil {
		t.Fatal(err)
	}
	return c.conf
}

func TestRequestContextEndsBeforeTheShim(t *testing.T) {
	deadline := time.Now().Add(10 * time.Second)
	ctx, cancel := requestContext(context.Background(), deadline)
	defer cancel()
	got, ok := ctx.Deadline()
	if !ok || !got.Before(deadline) || deadline.Sub(got) > 1100*time.Millisecond {
		t.Fatalf("deadline %v for a shim deadline %v", got, deadline)
	}
	ctx2, cancel2 := requestContext(context.Background(), time.Time{})
	defer cancel2()
	if _, ok := ctx2.Deadline(); ok {
		t.Fatal("no shim deadline must give no deadline")
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.NodeName = "n1"
	good.PodCIDRs = "10.16.0.0/16, fd00::/64"
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	if cidrs, _ := good.podCIDRs(); len(cidrs) != 2 {
		t.Fatalf("pod cidrs %v", cidrs)
	}
	for name, mod := range map[string]func(*Config){
		"no node":       func(c *Config) { c.NodeName = "" },
		"datapath":      func(c *Config) { c.DatapathType = "dpdk" },
		"pod cidrs":     func(c *Config) { c.PodCIDRs = "10.16.0.0/33" },
		"encap ip":      func(c *Config) { c.EncapIP = "host" },
		"mtu":           func(c *Config) { c.MTU = 100 },
		"long mgmt":     func(c *Config) { c.MgmtPort = "a-very-long-device-name" },
		"resync period": func(c *Config) { c.ResyncPeriod = 0 },
	} {
		c := good
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
	}
}
