package ic

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Reconcile counts and durations come from controller-runtime
// (controller_runtime_reconcile_*{controller="interconnect"}); these are ours. Names carry
// "ic" so that ycloud-controller and ycloud-ic can share a process (tests do).
var (
	txnTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ycloud_ic_ovsdb_transactions_total",
		Help: "OVSDB transactions sent by ycloud-ic, by database (nb, ic-nb) and result (committed or failed).",
	}, []string{"db", "result"})
	txnSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ycloud_ic_ovsdb_transaction_duration_seconds",
		Help:    "Duration of ycloud-ic's OVSDB transactions, by database.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"db"})
	claimConflicts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ycloud_ic_transit_claim_conflicts_total",
		Help: "IC-NB transactions that lost a race (a transit switch or address taken by another AZ first); each is retried.",
	})
	learnedRoutes = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ycloud_ic_learned_routes",
		Help: "Routes ovn-ic learned into a federated VPC's router from other availability zones.",
	}, []string{"vpc"})
	advertisedRoutes = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ycloud_ic_advertised_routes",
		Help: "Routes this availability zone advertises for a federated VPC (IC-SB Route rows).",
	}, []string{"vpc"})
	gatewayChassis = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ycloud_ic_gateway_chassis",
		Help: "Gateway chassis configured on a federated VPC's transit router port.",
	}, []string{"vpc"})
)

func init() {
	metrics.Registry.MustRegister(txnTotal, txnSeconds, claimConflicts, learnedRoutes, advertisedRoutes, gatewayChassis)
}

// txnObserver feeds one client's transaction timings into the metrics.
type txnObserver struct{ db string }

func (o txnObserver) TxnDone(d time.Duration, ok bool) {
	r := "committed"
	if !ok {
		r = "failed"
	}
	txnTotal.WithLabelValues(o.db, r).Inc()
	txnSeconds.WithLabelValues(o.db).Observe(d.Seconds())
}

func forgetVpcMetrics(vpc string) {
	learnedRoutes.DeleteLabelValues(vpc)
	advertisedRoutes.DeleteLabelValues(vpc)
	gatewayChassis.DeleteLabelValues(vpc)
}
