package hub

import (
	"flag"
	"fmt"
	"net/netip"
	"time"

	"k8s.io/client-go/rest"

	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
)

// Config is everything ycloud-hub needs; cmd/ycloud-hub fills it from flags.
type Config struct {
	// Kubeconfig of the hub apiserver; empty means in-cluster or $KUBECONFIG.
	Kubeconfig string
	// REST, when set, is used instead of Kubeconfig (tests and the lab run the hub in
	// process). It is not a flag.
	REST *rest.Config
	// QPS and Burst limit the hub's requests to its apiserver.
	QPS   float64
	Burst int

	// MetricsAddr and HealthAddr are listen addresses; "0" turns the server off.
	MetricsAddr, HealthAddr string
	// LeaderElect makes replicas elect one active hub through a Lease in
	// LeaderElectionNamespace. Only the leader allocates, which keeps allocations unique.
	LeaderElect             bool
	LeaderElectionNamespace string

	// Workers is the number of federated objects reconciled at once.
	Workers int
	// ResyncPeriod reconciles every object again (drift repair: a work edited or deleted
	// behind the hub's back whose event was missed).
	ResyncPeriod time.Duration
	// FeedbackScrapeType is how work agents collect the spoke status the hub reads: Poll
	// (every agent status sync) or Watch.
	FeedbackScrapeType string
	// StatusBatchDelay delays reacting to ManifestWork status reports, so the reports of
	// several clusters become one FederatedVpc status write.
	StatusBatchDelay time.Duration

	// TransitCIDR is the pool of transit link networks; each federated VPC gets one slice
	// of TransitPrefixLength.
	TransitCIDR         string
	TransitPrefixLength int
}

// DefaultConfig returns the defaults the flags use.
func DefaultConfig() Config {
	return Config{
		QPS:                     100,
		Burst:                   200,
		MetricsAddr:             ":10670",
		HealthAddr:              ":10671",
		LeaderElect:             true,
		LeaderElectionNamespace: "ycloud-hub",
		Workers:                 8,
		ResyncPeriod:            10 * time.Minute,
		FeedbackScrapeType:      string(workv1.FeedbackPollScrapeType),
		StatusBatchDelay:        500 * time.Millisecond,
		TransitCIDR:             "169.254.0.0/16",
		TransitPrefixLength:     28,
	}
}

// BindFlags registers every flag on fs, with help text, starting from c's values.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Kubeconfig, "kubeconfig", c.Kubeconfig, "path to the hub cluster's kubeconfig; empty means in-cluster configuration or $KUBECONFIG")
	fs.Float64Var(&c.QPS, "kube-api-qps", c.QPS, "requests per second to the hub apiserver")
	fs.IntVar(&c.Burst, "kube-api-burst", c.Burst, "burst of requests to the hub apiserver")
	fs.StringVar(&c.MetricsAddr, "metrics-bind-address", c.MetricsAddr, "address of the Prometheus /metrics endpoint; 0 disables it")
	fs.StringVar(&c.HealthAddr, "health-probe-bind-address", c.HealthAddr, "address of the /healthz and /readyz endpoints; 0 disables them")
	fs.BoolVar(&c.LeaderElect, "leader-elect", c.LeaderElect, "elect one active replica through a coordination.k8s.io Lease (only the leader allocates CIDRs and transits)")
	fs.StringVar(&c.LeaderElectionNamespace, "leader-election-namespace", c.LeaderElectionNamespace, "namespace of the leader election Lease")
	fs.IntVar(&c.Workers, "workers", c.Workers, "federated objects reconciled at once")
	fs.DurationVar(&c.ResyncPeriod, "resync-period", c.ResyncPeriod, "status sync: how often every federated object is reconciled again even without events (drift repair; a converged resync writes nothing)")
	fs.StringVar(&c.FeedbackScrapeType, "feedback-scrape-type", c.FeedbackScrapeType, "status sync: how work agents collect the spoke status fields the hub reads back (Poll: every agent status sync; Watch: on change)")
	fs.DurationVar(&c.StatusBatchDelay, "status-batch-delay", c.StatusBatchDelay, "status sync: how long to gather ManifestWork status reports before rolling them up, so the reports of several clusters cost one FederatedVpc status write; 0 reacts to each at once")
	fs.StringVar(&c.TransitCIDR, "transit-cidr", c.TransitCIDR, "IPv4 pool of OVN-IC transit link networks, one slice per federated VPC (169.254.0.0/16 is never advertised by ovn-ic)")
	fs.IntVar(&c.TransitPrefixLength, "transit-prefix-length", c.TransitPrefixLength, "prefix length of each VPC's transit slice; a /28 links up to 14 clusters")
}

// Validate checks the values before anything starts.
func (c *Config) Validate() error {
	if _, err := netip.ParsePrefix(c.TransitCIDR); err != nil {
		return fmt.Errorf("--transit-cidr %q: %w", c.TransitCIDR, err)
	}
	switch workv1.FeedbackScrapeType(c.FeedbackScrapeType) {
	case workv1.FeedbackPollScrapeType, workv1.FeedbackWatchScrapeType:
	default:
		return fmt.Errorf("--feedback-scrape-type %q: want Poll or Watch", c.FeedbackScrapeType)
	}
	if c.StatusBatchDelay < 0 {
		return fmt.Errorf("--status-batch-delay must not be negative")
	}
	if c.Workers <= 0 || c.ResyncPeriod <= 0 || c.QPS <= 0 || c.Burst <= 0 {
		return fmt.Errorf("--workers, --resync-period, --kube-api-qps and --kube-api-burst must be positive")
	}
	if c.LeaderElect && c.LeaderElectionNamespace == "" {
		return fmt.Errorf("--leader-election-namespace is required with --leader-elect")
	}
	return nil
}
