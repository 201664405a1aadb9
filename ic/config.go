package ic

import (
	"flag"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
)

// GatewayNodeLabel marks the nodes ycloud-ic may use as interconnect gateway chassis (the
// default --gateway-node-selector is "<GatewayNodeLabel>=true"). The node must also run
// ovn-controller with the OVS key external_ids:ovn-is-interconn=true, which ycloud-cni sets
// from this same label (--ic-gateway-label): ovn-ic only publishes such chassis to the other
// availability zones.
const GatewayNodeLabel = iaasv1.ICGatewayLabel

// Config is everything ycloud-ic needs; cmd/ycloud-ic fills it from flags.
type Config struct {
	// Kubeconfig of the spoke apiserver; empty means in-cluster or $KUBECONFIG.
	Kubeconfig string
	// Cluster names this spoke. It must equal ycloud-controller's --cluster: it goes into
	// the ycloud.io/cluster key of every row we own, and the VPC routers we attach to are the
	// controller's.
	Cluster string
	// AvailabilityZone is the OVN-IC availability zone name written to NB_Global.name;
	// empty means Cluster. It must be unique among all interconnected clusters.
	AvailabilityZone string
	// NBAddress and SBAddress are this cluster's OVN databases; ICNBAddress and ICSBAddress
	// the global interconnect databases ("unix:/path" or "tcp:host:port", comma-separated
	// for a clustered database).
	NBAddress, SBAddress, ICNBAddress, ICSBAddress string
	// GatewayNodeSelector is a label selector for the nodes that may host interconnect
	// gateway chassis.
	GatewayNodeSelector string
	// GatewaysPerVpc bounds the gateway chassis of one VPC's transit router port (HA: the
	// highest priority one is active, the others stand by). VPCs start at different nodes,
	// so active gateways spread over the gateway nodes.
	GatewaysPerVpc int
	// GatewayMTU is options:gateway_mtu of the transit router ports: packets that would not
	// fit the geneve-encapsulated path get an ICMP "fragmentation needed" instead of being
	// dropped silently. The underlay MTU minus the geneve overhead (58 bytes): 1442 on a
	// 1500-byte underlay. 0 leaves it unset.
	GatewayMTU int
	// ResyncPeriod re-reconciles every Vpc and garbage-collects rows and transit claims
	// left behind (drift repair).
	ResyncPeriod time.Duration
	// MetricsAddr and HealthAddr are listen addresses; "0" turns the server off.
	MetricsAddr, HealthAddr string
	// LeaderElect makes replicas elect one active instance through a Lease in
	// LeaderElectionNamespace.
	LeaderElect             bool
	LeaderElectionNamespace string
	// OVSDBTimeout bounds one OVSDB transaction.
	OVSDBTimeout time.Duration
}

// DefaultConfig returns the defaults the flags use.
func DefaultConfig() Config {
	return Config{
		Cluster:                 "cluster1",
		NBAddress:               "unix:/var/run/ovn/ovnnb_db.sock",
		SBAddress:               "unix:/var/run/ovn/ovnsb_db.sock",
		ICNBAddress:             "unix:/var/run/ovn/ovn_ic_nb_db.sock",
		ICSBAddress:             "unix:/var/run/ovn/ovn_ic_sb_db.sock",
		GatewayNodeSelector:     GatewayNodeLabel + "=true",
		GatewaysPerVpc:          3,
		GatewayMTU:              1442,
		ResyncPeriod:            5 * time.Minute,
		MetricsAddr:             ":10662",
		HealthAddr:              ":10663",
		LeaderElect:             true,
		LeaderElectionNamespace: "ycloud-system",
		OVSDBTimeout:            30 * time.Second,
	}
}

// BindFlags registers every field on fs, with help text, starting from c's values.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Kubeconfig, "kubeconfig", c.Kubeconfig, "path to the spoke cluster's kubeconfig; empty means in-cluster configuration or $KUBECONFIG")
	fs.StringVar(&c.Cluster, "cluster", c.Cluster, "name of this cluster, as given to ycloud-controller --cluster; stored in the ycloud.io/cluster external_id of every row ycloud-ic owns")
	fs.StringVar(&c.AvailabilityZone, "availability-zone", c.AvailabilityZone, "OVN-IC availability zone name written to NB_Global.name (unique among interconnected clusters); empty means --cluster")
	fs.StringVar(&c.NBAddress, "ovn-nb", c.NBAddress, "this cluster's OVN northbound database: unix:/path or tcp:host:port; comma-separated for a clustered (raft) database")
	fs.StringVar(&c.SBAddress, "ovn-sb", c.SBAddress, "this cluster's OVN southbound database (read: which chassis are interconnect gateways)")
	fs.StringVar(&c.ICNBAddress, "ovn-ic-nb", c.ICNBAddress, "global OVN-IC northbound database, where transit switches are created")
	fs.StringVar(&c.ICSBAddress, "ovn-ic-sb", c.ICSBAddress, "global OVN-IC southbound database (read: transit port bindings and advertised routes)")
	fs.StringVar(&c.GatewayNodeSelector, "gateway-node-selector", c.GatewayNodeSelector, "label selector of the nodes that may be interconnect gateway chassis; each must also have OVS external_ids:ovn-is-interconn=true")
	fs.IntVar(&c.GatewaysPerVpc, "gateways-per-vpc", c.GatewaysPerVpc, "gateway chassis (with descending priorities, for HA) on each VPC's transit router port; at least 2 for failover")
	fs.IntVar(&c.GatewayMTU, "gateway-mtu", c.GatewayMTU, "options:gateway_mtu of transit router ports: underlay MTU minus the 58-byte geneve overhead; 0 leaves it unset")
	fs.DurationVar(&c.ResyncPeriod, "resync-period", c.ResyncPeriod, "how often every Vpc is reconciled again and leftover rows and transit claims are garbage-collected")
	fs.StringVar(&c.MetricsAddr, "metrics-bind-address", c.MetricsAddr, "address of the Prometheus /metrics endpoint; 0 disables it")
	fs.StringVar(&c.HealthAddr, "health-probe-bind-address", c.HealthAddr, "address of the /healthz and /readyz endpoints; 0 disables them")
	fs.BoolVar(&c.LeaderElect, "leader-elect", c.LeaderElect, "elect one active replica through a coordination.k8s.io Lease")
	fs.StringVar(&c.LeaderElectionNamespace, "leader-election-namespace", c.LeaderElectionNamespace, "namespace of the leader election Lease")
	fs.DurationVar(&c.OVSDBTimeout, "ovsdb-timeout", c.OVSDBTimeout, "timeout of one OVSDB transaction")
}

// AZ returns the availability zone name.
func (c *Config) AZ() string {
	if c.AvailabilityZone != "" {
		return c.AvailabilityZone
	}
	return c.Cluster
}

// Validate checks the values before anything starts.
func (c *Config) Validate() error {
	if c.Cluster == "" {
		return fmt.Errorf("--cluster is required")
	}
	for _, f := range []struct{ name, v string }{
		{"--ovn-nb", c.NBAddress}, {"--ovn-sb", c.SBAddress}, {"--ovn-ic-nb", c.ICNBAddress}, {"--ovn-ic-sb", c.ICSBAddress},
	} {
		if f.v == "" {
			return fmt.Errorf("%s is required", f.name)
		}
	}
	if _, err := labels.Parse(c.GatewayNodeSelector); err != nil {
		return fmt.Errorf("--gateway-node-selector %q: %w", c.GatewayNodeSelector, err)
	}
	if c.GatewaysPerVpc < 1 {
		return fmt.Errorf("--gateways-per-vpc must be at least 1")
	}
	if c.GatewayMTU != 0 && (c.GatewayMTU < 68 || c.GatewayMTU > 65535) {
		return fmt.Errorf("--gateway-mtu %d: want 0 or 68..65535 (ovn-nb(5))", c.GatewayMTU)
	}
	if c.ResyncPeriod <= 0 || c.OVSDBTimeout <= 0 {
		return fmt.Errorf("--resync-period and --ovsdb-timeout must be positive")
	}
	return nil
}
