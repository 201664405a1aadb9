package controller

import (
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Config is everything ycloud-controller needs; cmd/ycloud-controller fills it from flags.
type Config struct {
	// Kubeconfig of the spoke apiserver; empty means in-cluster or $KUBECONFIG.
	Kubeconfig string
	// NBAddress is the OVN northbound database: "unix:/path" or "tcp:host:port", comma
	// separated for a clustered database.
	NBAddress string
	// Cluster names this spoke; it goes into every OVN row's ycloud.io/cluster key, so two
	// clusters sharing an NB (or rows copied by ovn-ic) are never confused.
	Cluster string
	// DefaultSubnetCIDR is the CIDR (or "v4,v6" pair) of subnet ovn-default in the default
	// VPC ovn-cluster.
	DefaultSubnetCIDR string
	// JoinSubnetCIDR is the node <-> pod subnet: each node's management port gets an address
	// in it.
	JoinSubnetCIDR string
	// DefaultSubnet and JoinSubnet are the names of those two subnets.
	DefaultSubnet, JoinSubnet string
	// ResyncPeriod re-reconciles every object (drift repair) and runs garbage collection.
	ResyncPeriod time.Duration
	// MetricsAddr and HealthAddr are listen addresses; "0" turns the server off.
	MetricsAddr, HealthAddr string
	// LeaderElect makes replicas elect one active controller through a Lease in
	// LeaderElectionNamespace.
	LeaderElect             bool
	LeaderElectionNamespace string
	// Workers is the number of concurrent reconciles per kind.
	Workers int
	// OVSDBTimeout bounds one NB transaction.
	OVSDBTimeout time.Duration
	// KubeAPIQPS and KubeAPIBurst bound the controller's request rate to the apiserver.
	KubeAPIQPS   float64
	KubeAPIBurst int
	// Pprof serves /debug/pprof/ on the metrics address.
	Pprof bool
}

// DefaultConfig returns the defaults the flags use.
func DefaultConfig() Config {
	return Config{
		NBAddress:               "unix:/var/run/ovn/ovnnb_db.sock",
		Cluster:                 "cluster1",
		DefaultSubnetCIDR:       "10.16.0.0/16",
		JoinSubnetCIDR:          "100.64.0.0/16",
		DefaultSubnet:           "ovn-default",
		JoinSubnet:              "join",
		ResyncPeriod:            5 * time.Minute,
		MetricsAddr:             ":10660",
		HealthAddr:              ":10661",
		LeaderElect:             true,
		LeaderElectionNamespace: "ycloud-system",
		Workers:                 16,
		OVSDBTimeout:            30 * time.Second,
		KubeAPIQPS:              1000,
		KubeAPIBurst:            2000,
	}
}

// BindFlags registers every field on fs, with help text, starting from c's values.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Kubeconfig, "kubeconfig", c.Kubeconfig, "path to the spoke cluster's kubeconfig; empty means in-cluster configuration or $KUBECONFIG")
	fs.StringVar(&c.NBAddress, "ovn-nb", c.NBAddress, "OVN northbound database address: unix:/path or tcp:host:port; comma-separated for a clustered (raft) database, writes go to its leader")
	fs.StringVar(&c.Cluster, "cluster", c.Cluster, "name of this cluster; stored in the ycloud.io/cluster external_id of every OVN row the controller owns")
	fs.StringVar(&c.DefaultSubnetCIDR, "default-cidr", c.DefaultSubnetCIDR, "CIDR of the default subnet in the default VPC ovn-cluster; \"v4cidr,v6cidr\" for dual-stack")
	fs.StringVar(&c.JoinSubnetCIDR, "join-cidr", c.JoinSubnetCIDR, "CIDR of the join subnet that connects nodes (management ports) to pods in the default VPC")
	fs.StringVar(&c.DefaultSubnet, "default-subnet", c.DefaultSubnet, "name of the default subnet (and of its logical switch)")
	fs.StringVar(&c.JoinSubnet, "join-subnet", c.JoinSubnet, "name of the join subnet (and of its logical switch, where node management ports live)")
	fs.DurationVar(&c.ResyncPeriod, "resync-period", c.ResyncPeriod, "how often every object is reconciled again and unowned OVN rows are garbage-collected (drift repair)")
	fs.StringVar(&c.MetricsAddr, "metrics-bind-address", c.MetricsAddr, "address of the Prometheus /metrics endpoint; 0 disables it")
	fs.StringVar(&c.HealthAddr, "health-probe-bind-address", c.HealthAddr, "address of the /healthz and /readyz endpoints; 0 disables them")
	fs.BoolVar(&c.LeaderElect, "leader-elect", c.LeaderElect, "elect one active replica through a coordination.k8s.io Lease")
	fs.StringVar(&c.LeaderElectionNamespace, "leader-election-namespace", c.LeaderElectionNamespace, "namespace of the leader election Lease")
	fs.IntVar(&c.Workers, "workers", c.Workers, "concurrent reconciles per resource kind")
	fs.DurationVar(&c.OVSDBTimeout, "ovsdb-timeout", c.OVSDBTimeout, "timeout of one OVN northbound transaction")
	fs.Float64Var(&c.KubeAPIQPS, "kube-api-qps", c.KubeAPIQPS, "sustained requests per second to the apiserver (the apiserver's own priority and fairness still applies)")
	fs.IntVar(&c.KubeAPIBurst, "kube-api-burst", c.KubeAPIBurst, "burst of requests to the apiserver above --kube-api-qps")
	fs.BoolVar(&c.Pprof, "pprof", c.Pprof, "serve Go profiles at /debug/pprof/ on the metrics address")
}

// Validate checks the values before anything starts.
func (c *Config) Validate() error {
	if c.NBAddress == "" {
		return fmt.Errorf("--ovn-nb is required")
	}
	if c.Cluster == "" {
		return fmt.Errorf("--cluster is required")
	}
	for _, f := range []struct{ name, v string }{{"--default-cidr", c.DefaultSubnetCIDR}, {"--join-cidr", c.JoinSubnetCIDR}} {
		for _, s := range strings.Split(f.v, ",") {
			if _, err := netip.ParsePrefix(strings.TrimSpace(s)); err != nil {
				return fmt.Errorf("%s %q: %w", f.name, f.v, err)
			}
		}
	}
	if c.DefaultSubnet == "" || c.JoinSubnet == "" || c.DefaultSubnet == c.JoinSubnet {
		return fmt.Errorf("--default-subnet and --join-subnet must be set and differ")
	}
	if c.ResyncPeriod <= 0 || c.Workers <= 0 || c.OVSDBTimeout <= 0 || c.KubeAPIQPS <= 0 || c.KubeAPIBurst <= 0 {
		return fmt.Errorf("--resync-period, --workers, --ovsdb-timeout, --kube-api-qps and --kube-api-burst must be positive")
	}
	return nil
}
