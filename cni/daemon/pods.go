package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/cni/nic"
	"github.com/ycloud-sdn/ycloud/cni/ovsport"
	"github.com/ycloud-sdn/ycloud/cni/qos"
)

// podWatch follows this node's pods and the Node object: ADD waits on it for allocations,
// and its events drive the pod worker (QoS updates, ports of deleted pods) and the
// management port.
type podWatch struct {
	d           *Daemon
	podFactory  informers.SharedInformerFactory
	nodeFactory informers.SharedInformerFactory
	pods        corelisters.PodLister
	nodes       corelisters.NodeLister
	queue       workqueue.TypedRateLimitingInterface[string]
	isSynced    atomic.Bool

	mu      sync.Mutex
	waiters map[string]chan struct{} // pod key -> closed on the pod's next event
}

func newPodWatch(cs kubernetes.Interface, node string, d *Daemon) *podWatch {
	w := &podWatch{
		d: d,
		// Only this node's pods: the daemon never needs the others, and a large cluster's
		// pod list would cost every node memory and the apiserver bandwidth.
		podFactory: informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", node).String()
		})),
		nodeFactory: informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", node).String()
		})),
		queue:   workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
		waiters: map[string]chan struct{}{},
	}
	podInf := w.podFactory.Core().V1().Pods()
	_ = podInf.Informer().SetTransform(dropManagedFields)
	_, _ = podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.podEvent(obj) },
		UpdateFunc: func(_, obj any) { w.podEvent(obj) },
		DeleteFunc: func(obj any) { w.podEvent(obj) },
	})
	w.pods = podInf.Lister()
	nodeInf := w.nodeFactory.Core().V1().Nodes()
	_ = nodeInf.Informer().SetTransform(dropManagedFields)
	_, _ = nodeInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { d.kickNode() },
		UpdateFunc: func(any, any) { d.kickNode() },
		DeleteFunc: func(any) { d.kickNode() },
	})
	w.nodes = nodeInf.Lister()
	return w
}

func dropManagedFields(obj any) (any, error) {
	if a, err := meta.Accessor(obj); err == nil {
		a.SetManagedFields(nil)
	}
	return obj, nil
}

func (w *podWatch) podEvent(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	w.notify(key)
	w.queue.Add(key)
}

// start starts the informers; synced turns true once both have listed.
func (w *podWatch) start(ctx context.Context) {
	w.podFactory.Start(ctx.Done())
	w.nodeFactory.Start(ctx.Done())
	go func() {
		for _, f := range []informers.SharedInformerFactory{w.podFactory, w.nodeFactory} {
			for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
				if !ok {
					w.d.log.Warn("informer did not sync", "type", typ.String())
					return
				}
			}
		}
		w.isSynced.Store(true)
		w.notifyAll()
		w.d.kickNode()
		// Ports whose pod was deleted while the daemon was down have no pod event.
		w.enqueuePortOwners()
	}()
}

func (w *podWatch) stop() {
	w.queue.ShutDown()
	w.podFactory.Shutdown()
	w.nodeFactory.Shutdown()
}

func (w *podWatch) synced() bool { return w.isSynced.Load() }

func (w *podWatch) changes(key string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := w.waiters[key]
	if ch == nil {
		ch = make(chan struct{})
		w.waiters[key] = ch
	}
	return ch
}

func (w *podWatch) notify(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch := w.waiters[key]; ch != nil {
		close(ch)
		delete(w.waiters, key)
	}
}

func (w *podWatch) notifyAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for key, ch := range w.waiters {
		close(ch)
		delete(w.waiters, key)
	}
}

// waitAllocation returns the pod and the allocation of interface c.IfName once the
// controller has written it, or fails when ctx ends, saying what was missing.
func (w *podWatch) waitAllocation(ctx context.Context, c *call) (*corev1.Pod, *iaasv1.Allocation, error) {
	for {
		ch := w.changes(c.podKey())
		pod, alloc, why := w.allocation(c)
		if alloc != nil {
			return pod, alloc, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("%w: wait for the allocation of pod %s interface %s: %s: %w",
				errTransient, c.podKey(), c.IfName, why, ctx.Err())
		}
	}
}

// allocation looks the allocation of c's interface up in the informer cache; when there is
// none (yet), why says what is missing.
func (w *podWatch) allocation(c *call) (_ *corev1.Pod, _ *iaasv1.Allocation, why string) {
	key := c.podKey()
	if !w.synced() {
		return nil, nil, "the pod informer has not synced with the apiserver"
	}
	pod, err := w.pods.Pods(c.namespace).Get(c.pod)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil, fmt.Sprintf("pod %s is not among node %s's pods", key, w.d.cfg.NodeName)
	case err != nil:
		return nil, nil, err.Error()
	case c.podUID != "" && string(pod.UID) != c.podUID:
		return nil, nil, fmt.Sprintf("pod %s has uid %s, CNI_ARGS say %s (deleted and recreated?)", key, pod.UID, c.podUID)
	}
	annotation := iaasv1.AllocationAnnotationKey(c.IfName)
	v, ok := pod.Annotations[annotation]
	if !ok {
		return pod, nil, fmt.Sprintf("pod %s has no %s annotation yet (is ycloud-controller running?)", key, annotation)
	}
	alloc, err := iaasv1.ParseAllocation(v)
	if err != nil {
		return pod, nil, fmt.Sprintf("pod %s annotation %s: %v", key, annotation, err)
	}
	return pod, alloc, ""
}

// run processes the pod queue until ctx ends.
func (w *podWatch) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w.processNext(ctx) {
			}
		}()
	}
	<-ctx.Done()
	w.queue.ShutDown()
	wg.Wait()
}

// enqueueAll queues every pod of the node and every pod that still owns a port.
func (w *podWatch) enqueueAll() {
	pods, _ := w.pods.List(labels.Everything())
	for _, p := range pods {
		w.queue.Add(p.Namespace + "/" + p.Name)
	}
	w.enqueuePortOwners()
}

func (w *podWatch) enqueuePortOwners() {
	ports, err := w.d.sw.PortsOwnedBy(ovsport.OwnerKindPod)
	if err != nil {
		w.d.log.Warn("list pod ports", "err", err)
		return
	}
	for _, p := range ports {
		w.queue.Add(p.ExternalIDs[ovsport.KeyOwner])
	}
}

func (w *podWatch) processNext(ctx context.Context) bool {
	key, quit := w.queue.Get()
	if quit {
		return false
	}
	defer w.queue.Done(key)
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := w.d.reconcilePod(rctx, key)
	cancel()
	if err != nil && ctx.Err() == nil {
		w.d.log.Warn("reconcile pod", "pod", key, "err", err)
		w.queue.AddRateLimited(key)
		return true
	}
	w.queue.Forget(key)
	return true
}

// reconcilePod brings the ports of one pod in line with it: the QoS its annotations ask
// for, and no port at all once the pod (that incarnation of it) is gone.
func (d *Daemon) reconcilePod(ctx context.Context, key string) error {
	if !d.pods.synced() {
		return errors.New("informer not synced")
	}
	ports, err := d.sw.PortsOf(key)
	if err != nil || len(ports) == 0 {
		return err
	}
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	pod, err := d.pods.pods.Pods(ns).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	var errs []error
	for _, p := range ports {
		uid := p.ExternalIDs[ovsport.KeyPodUID]
		if pod == nil || (uid != "" && uid != string(pod.UID)) {
			errs = append(errs, d.collectPort(ctx, p, "pod-gone"))
			continue
		}
		ifName := p.ExternalIDs[ovsport.KeyIfName]
		limits, err := qos.FromAnnotations(pod.Annotations, ifName)
		if err != nil {
			// The user's mistake: keep the current limits rather than drop them.
			d.log.Warn("ignoring invalid rate annotation", "pod", key, "err", err)
			continue
		}
		errs = append(errs, d.applyQoS(ctx, p, limits))
	}
	return errors.Join(errs...)
}

// applyQoS sets a port's QoS and, on the netdev datapath, the egress shaper of its NIC.
func (d *Daemon) applyQoS(ctx context.Context, p *ovsport.PortInfo, l qos.Limits) error {
	if p.QoS != l.ToOVS() {
		if err := d.sw.SetQoS(ctx, p.Name, l.ToOVS()); err != nil {
			return err
		}
		d.log.Info("pod qos changed", "pod", p.ExternalIDs[ovsport.KeyOwner], "ifname", p.ExternalIDs[ovsport.KeyIfName],
			"ingressMbps", l.Ingress, "egressMbps", l.Egress)
	}
	if d.cfg.DatapathType != "netdev" {
		return nil
	}
	n, err := d.nicFor(iaasv1.NicType(p.ExternalIDs[ovsport.KeyNicType]))
	if err != nil {
		return err
	}
	if err := n.SetEgressLimit(ctx, portRequest(p), l.Egress); err != nil {
		if _, serr := os.Stat(p.ExternalIDs[ovsport.KeyNetns]); serr != nil {
			return nil // the pod's sandbox is gone; its port goes with the next DEL or GC
		}
		return err
	}
	return nil
}

// portRequest rebuilds the NIC request of an existing port from its external_ids.
func portRequest(p *ovsport.PortInfo) *nic.Request {
	return &nic.Request{
		ContainerID: p.ExternalIDs[ovsport.KeySandbox],
		Netns:       p.ExternalIDs[ovsport.KeyNetns],
		IfName:      p.ExternalIDs[ovsport.KeyIfName],
		HostIfName:  p.Name,
	}
}

// collectPort removes a pod port (and its NIC) that should no longer exist.
func (d *Daemon) collectPort(ctx context.Context, p *ovsport.PortInfo, reason string) error {
	sandbox := p.ExternalIDs[ovsport.KeySandbox]
	unlock := d.locks.lock(sandbox)
	defer unlock()
	if err := d.sw.DelPort(ctx, p.Name); err != nil {
		return err
	}
	n, err := d.nicFor(iaasv1.NicType(p.ExternalIDs[ovsport.KeyNicType]))
	if err != nil {
		return err
	}
	if err := n.Del(ctx, portRequest(p)); err != nil {
		return err
	}
	d.metrics.portsDeleted.WithLabelValues(reason).Inc()
	d.log.Info("removed stale pod port", "port", p.Name, "pod", p.ExternalIDs[ovsport.KeyOwner],
		"sandbox", short(sandbox), "reason", reason)
	return nil
}
