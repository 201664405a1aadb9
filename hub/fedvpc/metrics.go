package fedvpc

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
)

// Metric names, exported for benchmarks and dashboards.
const (
	MetricWorkWrites   = "ycloud_hub_manifestwork_writes_total"
	MetricReadySeconds = "ycloud_hub_federatedvpc_ready_seconds"
)

var (
	workWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricWorkWrites,
		Help: "ManifestWork write requests the hub sent, by operation (create, update, delete) and result (ok, error). In a converged hub it stays flat: a resync writes nothing.",
	}, []string{"operation", "result"})
	readySeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: MetricReadySeconds,
		Help: "Seconds from a FederatedVpc generation being applied on the hub (creation for the first one, first sight by the hub for later ones) to Ready on every placed cluster.",
		// 0.25 s to about 68 min.
		Buckets: prometheus.ExponentialBuckets(0.25, 2, 15),
	})
)

func init() {
	metrics.Registry.MustRegister(workWrites, readySeconds)
}

// countWrite counts one ManifestWork write request. Failed requests count too: they load
// the apiserver all the same (and a create that timed out may have happened).
func countWrite(op string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	workWrites.WithLabelValues(op, result).Inc()
}

// readyTracker remembers, per FederatedVpc, when the generation now being rolled out was
// first seen, and observes the time to Ready once per generation.
type readyTracker struct {
	mu      sync.Mutex
	pending map[string]pendingReady
	// done is the last generation observed (or found) Ready.
	done map[string]int64
}

type pendingReady struct {
	generation int64
	start      time.Time
}

// update is called with the Ready condition before and after a reconcile.
func (t *readyTracker) update(fv *fedv1.FederatedVpc, oldReady, newReady *metav1.Condition, now time.Time) {
	key, gen := fv.Namespace+"/"+fv.Name, fv.Generation
	isReady := newReady != nil && newReady.Status == metav1.ConditionTrue
	wasReady := oldReady != nil && oldReady.Status == metav1.ConditionTrue && oldReady.ObservedGeneration == gen
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending == nil {
		t.pending, t.done = map[string]pendingReady{}, map[string]int64{}
	}
	p, hasPending := t.pending[key]
	hasPending = hasPending && p.generation == gen
	switch {
	case isReady && (wasReady || t.done[key] >= gen):
		// Already Ready before (for instance before a hub restart): nothing to measure.
		t.done[key] = gen
		delete(t.pending, key)
	case isReady:
		switch {
		case hasPending:
			readySeconds.Observe(now.Sub(p.start).Seconds())
		case gen == 1:
			readySeconds.Observe(now.Sub(fv.CreationTimestamp.Time).Seconds())
		}
		t.done[key] = gen
		delete(t.pending, key)
	case t.done[key] < gen && !hasPending:
		// The first generation's apply time is known exactly; later ones are timed from
		// when the hub first sees them.
		start := now
		if gen == 1 {
			start = fv.CreationTimestamp.Time
		}
		t.pending[key] = pendingReady{generation: gen, start: start}
	}
}

func (t *readyTracker) forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pending, key)
	delete(t.done, key)
}
