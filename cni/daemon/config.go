package daemon

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/cni/cnirpc"
)

// Config is everything the node daemon needs; cmd/ycloud-cni fills it from flags.
type Config struct {
	// Kubeconfig of the cluster; empty means in-cluster configuration or $KUBECONFIG.
	Kubeconfig string
	// NodeName is this node's Kubernetes name; it is also the OVN chassis name.
	NodeName string
	// OVSDB is the local Open_vSwitch database ("unix:/var/run/openvswitch/db.sock").
	OVSDB string
	// OVNRemote is the OVN southbound database ovn-controller connects to.
	OVNRemote string
	// EncapType and EncapIP are this chassis's tunnel type and endpoint address.
	EncapType, EncapIP string
	// DatapathType of br-int: "system" (kernel) or "netdev" (userspace).
	DatapathType string
	// Bridge is the integration bridge.
	Bridge string
	// SocketPath is where the daemon serves the CNI shim.
	SocketPath string
	// PodCIDRs are routed from the node through the management port ("10.16.0.0/16,...").
	PodCIDRs string
	// MTU of pod interfaces whose allocation sets none.
	MTU int
	// MetricsAddr serves /metrics and /healthz; "0" disables it.
	MetricsAddr string
	// HostNetns is the network namespace of the node's OVS (where host-side devices and
	// the management port live); empty means the daemon's own. Labs that run the
	// daemon outside the node's namespace set it.
	HostNetns string
	// MgmtPort is the management port's device name.
	MgmtPort string
	// ResyncPeriod re-applies every pod's QoS and collects ports of pods that are gone.
	ResyncPeriod time.Duration
	// ICGatewayLabel is the node label whose value "true" makes this chassis an OVN
	// interconnect gateway candidate (OVS external_ids:ovn-is-interconn=true; any other
	// value or no label writes "false"). Empty leaves ovn-is-interconn to someone else.
	ICGatewayLabel string
}

// DefaultConfig returns the defaults the flags use.
func DefaultConfig() Config {
	return Config{
		OVSDB:        "unix:/var/run/openvswitch/db.sock",
		EncapType:    "geneve",
		DatapathType: "system",
		Bridge:       "br-int",
		SocketPath:   cnirpc.DefaultSocketPath,
		MTU:          1400,
		MetricsAddr:  ":10665",
		MgmtPort:     "ycloud0",
		ResyncPeriod: 5 * time.Minute,

		ICGatewayLabel: iaasv1.ICGatewayLabel,
	}
}

// BindFlags registers every field on fs, with help text, starting from c's values.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Kubeconfig, "kubeconfig", c.Kubeconfig, "path to the cluster's kubeconfig; empty means in-cluster configuration or $KUBECONFIG")
	fs.StringVar(&c.NodeName, "node-name", c.NodeName, "this node's Kubernetes name, also its OVN chassis name (external_ids:system-id); default $NODE_NAME")
	fs.StringVar(&c.OVSDB, "ovsdb", c.OVSDB, "address of the local Open_vSwitch database: unix:/path or tcp:host:port")
	fs.StringVar(&c.OVNRemote, "ovn-remote", c.OVNRemote, "OVN southbound database address written to external_ids:ovn-remote for ovn-controller (comma-separated for a cluster)")
	fs.StringVar(&c.EncapType, "encap-type", c.EncapType, "tunnel encapsulation between chassis (external_ids:ovn-encap-type): geneve or vxlan")
	fs.StringVar(&c.EncapIP, "encap-ip", c.EncapIP, "this node's tunnel endpoint address (external_ids:ovn-encap-ip)")
	fs.StringVar(&c.DatapathType, "datapath-type", c.DatapathType, "OVS datapath of br-int: system (kernel module) or netdev (userspace); netdev also shapes pod egress with tc, which that datapath cannot police")
	fs.StringVar(&c.Bridge, "bridge", c.Bridge, "OVS integration bridge, created when missing")
	fs.StringVar(&c.SocketPath, "socket", c.SocketPath, "unix socket the ycloud CNI shim talks to")
	fs.StringVar(&c.PodCIDRs, "pod-cidrs", c.PodCIDRs, "comma-separated pod CIDRs the node routes through its management port (via the join subnet gateway)")
	fs.IntVar(&c.MTU, "mtu", c.MTU, "MTU of pod interfaces whose allocation has none (geneve costs 58 bytes of the underlay MTU)")
	fs.StringVar(&c.MetricsAddr, "metrics-bind-address", c.MetricsAddr, "address of the Prometheus /metrics and /healthz endpoint; 0 disables it")
	fs.StringVar(&c.HostNetns, "host-netns", c.HostNetns, "network namespace (path) of the node's OVS, where pod host-side devices and the management port live; empty means the daemon's own")
	fs.StringVar(&c.MgmtPort, "mgmt-port", c.MgmtPort, "device name of the node's management port on the join subnet")
	fs.DurationVar(&c.ResyncPeriod, "resync-period", c.ResyncPeriod, "how often every pod's QoS is re-applied and ports of deleted pods are collected")
	fs.StringVar(&c.ICGatewayLabel, "ic-gateway-label", c.ICGatewayLabel, "node label whose value \"true\" makes this node an OVN interconnect gateway candidate (OVS external_ids:ovn-is-interconn=true, \"false\" otherwise, updated when the label changes); empty leaves ovn-is-interconn alone")
}

// Validate checks the values before anything starts.
func (c *Config) Validate() error {
	var errs []error
	if c.NodeName == "" {
		errs = append(errs, errors.New("--node-name (or $NODE_NAME) is required"))
	}
	if c.OVSDB == "" || c.Bridge == "" || c.SocketPath == "" || c.MgmtPort == "" {
		errs = append(errs, errors.New("--ovsdb, --bridge, --socket and --mgmt-port must be set"))
	}
	if c.DatapathType != "system" && c.DatapathType != "netdev" {
		errs = append(errs, fmt.Errorf("--datapath-type %q: want system or netdev", c.DatapathType))
	}
	if c.EncapIP != "" {
		if _, err := netip.ParseAddr(c.EncapIP); err != nil {
			errs = append(errs, fmt.Errorf("--encap-ip: %w", err))
		}
	}
	if _, err := c.podCIDRs(); err != nil {
		errs = append(errs, err)
	}
	if c.MTU < 576 || c.MTU > 9000 {
		errs = append(errs, fmt.Errorf("--mtu %d: want 576..9000", c.MTU))
	}
	if len(c.MgmtPort) > 15 {
		errs = append(errs, fmt.Errorf("--mgmt-port %q: longer than 15 characters", c.MgmtPort))
	}
	if c.ResyncPeriod <= 0 {
		errs = append(errs, errors.New("--resync-period must be positive"))
	}
	if c.ICGatewayLabel != "" {
		if msgs := validation.IsQualifiedName(c.ICGatewayLabel); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--ic-gateway-label %q: %s", c.ICGatewayLabel, strings.Join(msgs, "; ")))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) podCIDRs() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(c.PodCIDRs, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--pod-cidrs %q: %w", c.PodCIDRs, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
