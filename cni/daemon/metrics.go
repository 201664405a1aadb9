package daemon

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are registered on the daemon's own registry, so several daemons (tests, the
// benchmark) can live in one process.
type metrics struct {
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	allocWait    prometheus.Histogram
	installWait  prometheus.Histogram
	portsDeleted *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	buckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ycloud_cni_requests_total", Help: "CNI requests served, by command and CNI error code (0: success).",
		}, []string{"command", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ycloud_cni_request_duration_seconds", Help: "Time to serve one CNI request, by command.", Buckets: buckets,
		}, []string{"command"}),
		allocWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ycloud_cni_allocation_wait_seconds", Help: "Time ADD waited for the controller's allocation annotation.", Buckets: buckets,
		}),
		installWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ycloud_cni_ovn_install_wait_seconds", Help: "Time ADD waited for ovn-controller to install the port.", Buckets: buckets,
		}),
		portsDeleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ycloud_cni_ports_collected_total", Help: "Stale pod ports removed, by reason (gc: CNI GC; pod-gone: the pod no longer exists; stale-sandbox: replaced by a newer sandbox).",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.requests, m.duration, m.allocWait, m.installWait, m.portsDeleted)
	return m
}

func (m *metrics) observe(command string, code uint, start time.Time) {
	m.requests.WithLabelValues(command, codeLabel(code)).Inc()
	m.duration.WithLabelValues(command).Observe(time.Since(start).Seconds())
}

func codeLabel(code uint) string {
	switch code {
	case 0:
		return "0"
	case 4:
		return "4"
	case 7:
		return "7"
	case 11:
		return "11"
	case 50:
		return "50"
	default:
		return "other"
	}
}
