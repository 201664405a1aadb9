package controller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ycloud-sdn/ycloud/spoke/ipam"
)

// Reconcile durations per kind come from controller-runtime
// (controller_runtime_reconcile_time_seconds{controller="vpc"|"subnet"|"pod"|...}); these are
// ours.
var (
	nbTxnTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ycloud_ovsdb_transactions_total",
		Help: "OVN northbound transactions sent by the controller, by result (committed or failed).",
	}, []string{"result"})
	nbTxnSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "ycloud_ovsdb_transaction_duration_seconds",
		Help:    "Duration of OVN northbound transactions.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	})
	ipamUsed = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ycloud_ipam_used_addresses",
		Help: "Allocated addresses per subnet and CIDR.",
	}, []string{"subnet", "cidr"})
	ipamFree = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ycloud_ipam_free_addresses",
		Help: "Free addresses per subnet and CIDR (saturates at 2^64 for large IPv6 CIDRs).",
	}, []string{"subnet", "cidr"})
	gcDeleted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ycloud_gc_deleted_rows_total",
		Help: "OVN rows deleted by garbage collection because their owner object is gone, by table.",
	}, []string{"table"})
)

func init() {
	metrics.Registry.MustRegister(nbTxnTotal, nbTxnSeconds, ipamUsed, ipamFree, gcDeleted)
}

// txnObserver feeds the OVSDB client's transaction timings into the metrics.
type txnObserver struct{}

func (txnObserver) TxnDone(d time.Duration, ok bool) {
	r := "committed"
	if !ok {
		r = "failed"
	}
	nbTxnTotal.WithLabelValues(r).Inc()
	nbTxnSeconds.Observe(d.Seconds())
}

func subnetStats(subnet string, p *ipam.Pool) {
	for _, st := range p.Stats() {
		ipamUsed.WithLabelValues(subnet, st.Prefix.String()).Set(float64(st.Used))
		ipamFree.WithLabelValues(subnet, st.Prefix.String()).Set(float64(st.Free))
	}
}

func forgetSubnetStats(subnet string) {
	ipamUsed.DeletePartialMatch(prometheus.Labels{"subnet": subnet})
	ipamFree.DeletePartialMatch(prometheus.Labels{"subnet": subnet})
}
