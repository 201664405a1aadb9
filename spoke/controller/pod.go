package controller

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/spoke/ipam"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// Labels on the objects the controller creates for a pod interface.
const (
	labelPod       = "iaas.yusur.io/pod"
	labelInterface = "iaas.yusur.io/interface"
	// podConditionAllocated is a pod condition the controller sets to False (with the reason)
	// when it cannot allocate the pod's network, and back to True once it can.
	podConditionAllocated corev1.PodConditionType = "iaas.yusur.io/NetworkAllocated"
)

// Reasons for allocation failures, used for events and the pod condition.
const (
	reasonSubnetNotFound = "SubnetNotFound"
	reasonAddressInUse   = "AddressInUse"
	reasonBadAddress     = "InvalidAddress"
	reasonVnicIPNotFound = "VnicIpNotFound"
	reasonVnicIPBusy     = "VnicIpBound"
	reasonSubnetFull     = "SubnetFull"
	reasonAllocated      = "Allocated"
)

// allocError is a failure the user must fix; it is reported on the pod, not retried hot.
type allocError struct {
	reason string
	msg    string
}

func (e *allocError) Error() string { return e.msg }

func userError(reason, format string, args ...any) error {
	return &allocError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// podReconciler gives every scheduled pod's eth0 a VnicIp, Vnic and Nic, and writes the
// allocation annotation the CNI waits for.
type podReconciler struct {
	*env
	// created remembers the VnicIps this process created until its informer shows them.
	// Without it, a reconcile that runs before the VnicIp reaches the cache (the pod's own
	// annotation update triggers one at once) would see no address and allocate a second.
	created sync.Map // "namespace/vnic/podUID" -> *iaasv1.VnicIp
}

func createdKey(pod *corev1.Pod, objName string) string {
	return pod.Namespace + "/" + objName + "/" + string(pod.UID)
}

func (r *podReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if err := r.waitReady(ctx); err != nil {
		return reconcile.Result{}, err
	}
	var pod corev1.Pod
	if err := r.client.Get(ctx, req.NamespacedName, &pod); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Result{}, r.cleanup(ctx, req.Namespace, req.Name)
		}
		return reconcile.Result{}, err
	}
	switch {
	case pod.Spec.HostNetwork || pod.Spec.NodeName == "":
		return reconcile.Result{}, nil
	case pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed:
		// A finished pod keeps no address (its sandbox is gone).
		return reconcile.Result{}, r.cleanup(ctx, pod.Namespace, pod.Name)
	case !pod.DeletionTimestamp.IsZero():
		// Keep the allocation until the pod is gone: the CNI DEL still needs it.
		return reconcile.Result{}, nil
	}
	err := r.ensure(ctx, &pod, iaasv1.PrimaryInterface)
	var ae *allocError
	if errors.As(err, &ae) {
		// A missing Subnet or VnicIp brings the pod back through podsWaitingForSubnet or
		// podsWaitingForVnicIP as soon as it appears; the delayed retry is for what no watch
		// reports (an address freed).
		return reconcile.Result{RequeueAfter: userRetry}, r.reportPod(ctx, &pod, false, ae.reason, ae.msg)
	}
	if err != nil {
		return requeueFor(err)
	}
	return reconcile.Result{}, r.reportPod(ctx, &pod, true, reasonAllocated, "")
}

// ensure makes the interface's objects and the allocation annotation exist.
func (r *podReconciler) ensure(ctx context.Context, pod *corev1.Pod, ifName string) error {
	objName := iaasv1.PodInterfaceObjectName(pod.Name, ifName)
	vip, err := r.currentVnicIP(ctx, pod, objName)
	if err != nil {
		return err
	}
	var subnet *iaasv1.Subnet
	if vip == nil {
		if subnet, err = r.subnetFor(ctx, pod, ifName); err != nil {
			return err
		}
		if vip, err = r.allocate(ctx, pod, ifName, objName, subnet); err != nil {
			return err
		}
	} else {
		subnet = &iaasv1.Subnet{}
		if err := r.client.Get(ctx, client.ObjectKey{Name: vip.Spec.Subnet}, subnet); err != nil {
			return fmt.Errorf("pod %s/%s: subnet %q of vnicip %q: %w", pod.Namespace, pod.Name, vip.Spec.Subnet, vip.Name, err)
		}
	}
	sp, err := r.alloc.pool(ctx, subnet)
	if err != nil {
		return err
	}
	addrs := vnicIPAddrs(vip)
	if len(addrs) == 0 {
		return fmt.Errorf("pod %s/%s: vnicip %q has no address yet: %w", pod.Namespace, pod.Name, vip.Name, ovnnb.ErrParentMissing)
	}
	mac := string(vip.Spec.MAC)
	if mac == "" {
		mac = podMAC(pod.Namespace, objName)
	}
	nicType := iaasv1.NicType("veth")
	if t, ok := iaasv1.LookupInterfaceAnnotation(pod.Annotations, ifName, iaasv1.KeyNicType); ok && t != "" {
		nicType = iaasv1.NicType(t)
	}
	owner := ownerRef(pod)
	labels := map[string]string{labelPod: pod.Name, labelInterface: ifName}
	nic := &iaasv1.Nic{
		ObjectMeta: metav1.ObjectMeta{Name: objName, Namespace: pod.Namespace, Labels: labels, OwnerReferences: owner},
		Spec: iaasv1.NicSpec{Type: nicType, Node: pod.Spec.NodeName, PodName: pod.Name, IfName: ifName,
			Vnic: objName, MAC: iaasv1.MACAddress(mac)},
	}
	vnic := &iaasv1.Vnic{
		ObjectMeta: metav1.ObjectMeta{Name: objName, Namespace: pod.Namespace, Labels: labels, OwnerReferences: owner},
		Spec:       iaasv1.VnicSpec{Subnet: subnet.Name, Nic: objName, MAC: iaasv1.MACAddress(mac)},
	}
	a := &iaasv1.Allocation{
		MAC:               mac,
		Subnet:            subnet.Name,
		Vpc:               subnet.Spec.Vpc,
		LogicalSwitchPort: ovnnb.VnicPortName(pod.Namespace, objName),
		VnicIp:            vip.Name,
		Vnic:              objName,
		NicType:           nicType,
	}
	if subnet.Spec.MTU != nil {
		a.MTU = int(*subnet.Spec.MTU)
	}
	for _, addr := range addrs {
		for i, c := range sp.info.CIDRs {
			if c.Contains(addr) {
				a.IPs = append(a.IPs, netip.PrefixFrom(addr, c.Bits()))
				a.Gateways = append(a.Gateways, sp.info.Gateways[i])
			}
		}
	}
	val, err := iaasv1.FormatAllocation(a)
	if err != nil {
		return fmt.Errorf("pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	key := iaasv1.AllocationAnnotationKey(ifName)
	// The address is locked by the VnicIp; the three writes that remain do not depend on each
	// other (the Vnic's port finds its node through the Nic or the pod), so they go out
	// together: per pod the controller waits for two apiserver round trips, not four.
	return parallel(
		func() error { return r.createIfMissing(ctx, nic, pod) },
		func() error { return r.createIfMissing(ctx, vnic, pod) },
		func() error {
			if pod.Annotations[key] == val {
				return nil
			}
			patch := client.RawPatch("application/merge-patch+json", fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, key, val))
			if err := r.client.Patch(ctx, pod.DeepCopy(), patch); err != nil {
				return fmt.Errorf("pod %s/%s: write allocation: %w", pod.Namespace, pod.Name, err)
			}
			return nil
		},
	)
}

// parallel runs fns concurrently and joins their errors.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = fn() }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// currentVnicIP finds the VnicIp already serving the interface (after a restart, or a crash
// between the VnicIp create and the annotation). One that belonged to an earlier pod of the
// same name is released.
func (r *podReconciler) currentVnicIP(ctx context.Context, pod *corev1.Pod, objName string) (*iaasv1.VnicIp, error) {
	var list iaasv1.VnicIpList
	if err := r.client.List(ctx, &list, client.MatchingFields{indexVnicIPVnic: pod.Namespace + "/" + objName}); err != nil {
		return nil, err
	}
	var found *iaasv1.VnicIp
	key := createdKey(pod, objName)
	if len(list.Items) > 0 {
		r.created.Delete(key)
	} else if v, ok := r.created.Load(key); ok {
		return v.(*iaasv1.VnicIp), nil
	}
	for i := range list.Items {
		v := &list.Items[i]
		if stale(v, pod) {
			if err := r.client.Delete(ctx, v); err != nil && !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("pod %s/%s: delete stale vnicip %q: %w", pod.Namespace, pod.Name, v.Name, err)
			}
			continue
		}
		if found == nil {
			found = v
		}
	}
	return found, nil
}

// stale reports whether an object the controller made for a pod belongs to an earlier pod
// with the same name.
func stale(o client.Object, pod *corev1.Pod) bool {
	for _, ref := range o.GetOwnerReferences() {
		if ref.Kind == "Pod" && ref.Name == pod.Name && ref.UID != pod.UID {
			return true
		}
	}
	return false
}

// subnetFor picks the interface's subnet: the pod annotation, else a subnet that lists the
// pod's namespace, else the default subnet.
func (r *podReconciler) subnetFor(ctx context.Context, pod *corev1.Pod, ifName string) (*iaasv1.Subnet, error) {
	name, ok := iaasv1.LookupInterfaceAnnotation(pod.Annotations, ifName, iaasv1.KeySubnet)
	if !ok || name == "" {
		name = r.cfg.DefaultSubnet
		var list iaasv1.SubnetList
		if err := r.client.List(ctx, &list); err != nil {
			return nil, err
		}
		for _, s := range list.Items {
			for _, ns := range s.Spec.Namespaces {
				if ns == pod.Namespace && s.DeletionTimestamp.IsZero() {
					name = s.Name
				}
			}
		}
	}
	var s iaasv1.Subnet
	if err := r.client.Get(ctx, client.ObjectKey{Name: name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, userError(reasonSubnetNotFound, "subnet %q does not exist", name)
		}
		return nil, err
	}
	if !s.DeletionTimestamp.IsZero() {
		return nil, userError(reasonSubnetNotFound, "subnet %q is being deleted", name)
	}
	if name == r.cfg.JoinSubnet {
		return nil, userError(reasonSubnetNotFound, "subnet %q is reserved for node management ports", name)
	}
	return &s, nil
}

// waitingSubnet is the pod index behind podsWaitingForSubnet: the subnet a scheduled pod
// asks for while it has no allocation yet (its annotation, else the default subnet, as
// subnetFor decides), and nothing once it is allocated, finished or going away. Pods that
// name a Subnet that does not exist yet wait on it: the hub pushes a FederatedVpc's Subnets
// through OCM while users already create pods, in any order.
//
// An informer index, rather than a set of waiting pods kept by the reconciler, because the
// informer already sees every pod change (allocation written, pod deleted, controller
// restarted) and keeps the index exact with no bookkeeping of ours that could leak or miss
// a pod. Allocated pods are left out, so a Subnet event looks up only the few pods still
// waiting, never every pod of the subnet (or of the cluster).
//
// Only the primary interface is allocated by the reconciler today; secondary interfaces
// would add their own subnets here.
func waitingSubnet(pod *corev1.Pod, defaultSubnet string) []string {
	if !awaitsAllocation(pod) {
		return nil
	}
	// Without the annotation subnetFor takes a Subnet that lists the pod's namespace (found
	// in the cache, so it exists) or else the default subnet: only the latter can be missing
	// (deleted, until the controller puts it back), so it is the one such a pod waits for.
	if name, ok := iaasv1.LookupInterfaceAnnotation(pod.Annotations, iaasv1.PrimaryInterface, iaasv1.KeySubnet); ok && name != "" {
		return []string{name}
	}
	return []string{defaultSubnet}
}

// awaitsAllocation reports whether the pod's primary interface still waits for its
// allocation: a running (or pending) pod with a network and no allocation annotation.
func awaitsAllocation(pod *corev1.Pod) bool {
	if !wantsNetwork(pod) || !pod.DeletionTimestamp.IsZero() ||
		pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	_, ok := pod.Annotations[iaasv1.AllocationAnnotationKey(iaasv1.PrimaryInterface)]
	return !ok
}

// waitingVnicIP is the index function of indexPodWaitingVnicIP: the pre-created VnicIp
// (by name, in the pod's namespace) an unallocated pod asks for with the vnicip
// annotation. Such a pod is refused while that VnicIp does not exist or is bound to
// another interface, and comes back when it is created or released (podsWaitingForVnicIP).
func waitingVnicIP(pod *corev1.Pod) []string {
	if !awaitsAllocation(pod) {
		return nil
	}
	name, _ := iaasv1.LookupInterfaceAnnotation(pod.Annotations, iaasv1.PrimaryInterface, iaasv1.KeyVnicIp)
	if name = strings.TrimSpace(name); name == "" || looksLikeIP(name) {
		return nil
	}
	return []string{name}
}

// podsWaitingForVnicIP brings back the pods of the VnicIp's namespace that wait for it by
// name, instead of leaving them to their periodic retry.
func podsWaitingForVnicIP(c client.Reader) handler.EventHandler {
	return podsIndexedBy(c, indexPodWaitingVnicIP)
}

// podsWaitingForSubnet brings back the pods waiting for a Subnet when it is created, or when
// its spec changes (a fixed CIDR, or a wider one for pods refused with SubnetFull). The pod
// reconciler needs no more than the Subnet in the informer cache: it allocates from the
// controller's own pool, not from the logical switch, and the Vnic reconciler waits for the
// switch in NB on its own (ErrParentMissing). So neither Ready nor the switch is awaited
// here. Without this watch such a pod would start only at its next periodic retry.
func podsWaitingForSubnet(c client.Reader) handler.EventHandler {
	return podsIndexedBy(c, indexPodWaitingSubnet)
}

// podsIndexedBy maps an object to the pods the pod index files under its name, in its
// namespace (every namespace for a cluster-scoped object).
func podsIndexedBy(c client.Reader, index string) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		var list corev1.PodList
		if err := c.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{index: o.GetName()}); err != nil {
			log.FromContext(ctx).Error(err, "list waiting pods", "index", index, "object", client.ObjectKeyFromObject(o))
			return nil
		}
		out := make([]reconcile.Request, 0, len(list.Items))
		for _, p := range list.Items {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
		}
		return out
	})
}

// allocate reserves the interface's address(es) and records them in a VnicIp.
func (r *podReconciler) allocate(ctx context.Context, pod *corev1.Pod, ifName, objName string, subnet *iaasv1.Subnet) (*iaasv1.VnicIp, error) {
	requested, _ := iaasv1.LookupInterfaceAnnotation(pod.Annotations, ifName, iaasv1.KeyVnicIp)
	requested = strings.TrimSpace(requested)
	if requested != "" && !looksLikeIP(requested) {
		return r.bindNamed(ctx, pod, objName, requested)
	}
	sp, err := r.alloc.pool(ctx, subnet)
	if err != nil {
		return nil, err
	}
	static := requested != ""
	for attempt := 0; attempt < 16; attempt++ {
		var addrs []netip.Addr
		placeholder := pod.Namespace + "/" + objName
		if static {
			for _, s := range strings.Split(requested, ",") {
				a, err := netip.ParseAddr(strings.TrimSpace(s))
				if err != nil {
					return nil, userError(reasonBadAddress, "annotation %s: %q is not an IP address", iaasv1.InterfaceAnnotationKey(ifName, iaasv1.KeyVnicIp), s)
				}
				if err := sp.pool.Reserve(a, placeholder); err != nil {
					for _, got := range addrs {
						sp.pool.Release(got)
					}
					var inUse *ipam.InUseError
					switch {
					case errors.As(err, &inUse):
						return nil, userError(reasonAddressInUse, "static address %s in subnet %q is already in use by %s", a, subnet.Name, inUse.Owner)
					default:
						return nil, userError(reasonBadAddress, "static address %s in subnet %q: %v", a, subnet.Name, err)
					}
				}
				addrs = append(addrs, a.Unmap())
			}
		} else {
			addrs, err = sp.pool.Allocate(placeholder)
			if err != nil {
				if errors.Is(err, ipam.ErrFull) {
					return nil, userError(reasonSubnetFull, "subnet %q has no free address", subnet.Name)
				}
				return nil, err
			}
		}
		name := vnicIPName(subnet.Name, addrs[0])
		owner := pod.Namespace + "/" + name
		for _, a := range addrs {
			sp.pool.Transfer(a, placeholder, owner)
		}
		subnetStats(subnet.Name, sp.pool)
		strs := make([]string, len(addrs))
		for i, a := range addrs {
			strs[i] = a.String()
		}
		vip := &iaasv1.VnicIp{
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: pod.Namespace, OwnerReferences: ownerRef(pod),
				Labels: map[string]string{labelPod: pod.Name, labelInterface: ifName},
			},
			Spec: iaasv1.VnicIpSpec{Subnet: subnet.Name, Vnic: objName, IPAddress: iaasv1.DualStackIP(strings.Join(strs, ","))},
		}
		err := r.client.Create(ctx, vip)
		if err == nil {
			r.created.Store(createdKey(pod, objName), vip)
			return vip, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			for _, a := range addrs {
				sp.pool.Release(a)
			}
			return nil, fmt.Errorf("pod %s/%s: create vnicip %q: %w", pod.Namespace, pod.Name, name, err)
		}
		// The name is the lock and someone holds it. If it is this interface's (an earlier
		// attempt whose create we did not see succeed), adopt it; otherwise the address is
		// taken: leave it marked used and try the next one.
		var cur iaasv1.VnicIp
		if gerr := r.client.Get(ctx, client.ObjectKeyFromObject(vip), &cur); gerr == nil && cur.Spec.Vnic == objName && !stale(&cur, pod) {
			return &cur, nil
		}
		if static {
			return nil, userError(reasonAddressInUse, "static address %s in subnet %q is already in use by vnicip %s/%s", addrs[0], subnet.Name, pod.Namespace, name)
		}
	}
	return nil, fmt.Errorf("pod %s/%s: no allocation after 16 attempts in subnet %q", pod.Namespace, pod.Name, subnet.Name)
}

// bindNamed binds a pre-created VnicIp (the seed's "vnicip: vnicip-1") to the interface.
func (r *podReconciler) bindNamed(ctx context.Context, pod *corev1.Pod, objName, name string) (*iaasv1.VnicIp, error) {
	var v iaasv1.VnicIp
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: pod.Namespace, Name: name}, &v); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, userError(reasonVnicIPNotFound, "vnicip %s/%s does not exist", pod.Namespace, name)
		}
		return nil, err
	}
	if v.Spec.Vnic != "" && v.Spec.Vnic != objName {
		return nil, userError(reasonVnicIPBusy, "vnicip %s/%s is bound to vnic %q", pod.Namespace, name, v.Spec.Vnic)
	}
	if v.Spec.Vnic == objName {
		return &v, nil
	}
	old := v.DeepCopy()
	v.Spec.Vnic = objName
	if err := r.client.Patch(ctx, &v, client.MergeFrom(old)); err != nil {
		return nil, fmt.Errorf("pod %s/%s: bind vnicip %q: %w", pod.Namespace, pod.Name, name, err)
	}
	return &v, nil
}

// cleanup deletes what the controller created for a pod's interfaces and unbinds the
// pre-created VnicIps it used. Addresses are released when the VnicIp deletions reach the
// informer. Everything here tolerates "already gone".
func (r *podReconciler) cleanup(ctx context.Context, ns, pod string) error {
	prefix := ns + "/" + iaasv1.PodInterfaceObjectName(pod, iaasv1.PrimaryInterface) + "/"
	r.created.Range(func(k, _ any) bool {
		if strings.HasPrefix(k.(string), prefix) {
			r.created.Delete(k)
		}
		return true
	})
	sel := client.MatchingLabels{labelPod: pod}
	for _, list := range []client.ObjectList{&iaasv1.VnicIpList{}, &iaasv1.VnicList{}, &iaasv1.NicList{}} {
		if err := r.client.List(ctx, list, client.InNamespace(ns), sel); err != nil {
			return err
		}
		objs, err := meta.ExtractList(list)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := r.client.Delete(ctx, o.(client.Object)); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("pod %s/%s: delete %T: %w", ns, pod, o, err)
			}
		}
	}
	// Pre-created VnicIps go back to being reserved.
	var bound iaasv1.VnicIpList
	objName := iaasv1.PodInterfaceObjectName(pod, iaasv1.PrimaryInterface)
	if err := r.client.List(ctx, &bound, client.MatchingFields{indexVnicIPVnic: ns + "/" + objName}); err != nil {
		return err
	}
	for i := range bound.Items {
		v := &bound.Items[i]
		if v.Labels[labelPod] != "" {
			continue
		}
		old := v.DeepCopy()
		v.Spec.Vnic = ""
		if err := r.client.Patch(ctx, v, client.MergeFrom(old)); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("pod %s/%s: unbind vnicip %q: %w", ns, pod, v.Name, err)
		}
	}
	return nil
}

// reportPod records an allocation failure on the pod (event + condition); on success it
// only writes when a failure was recorded before, so the happy path costs no status write.
func (r *podReconciler) reportPod(ctx context.Context, pod *corev1.Pod, ok bool, reason, msg string) error {
	var cur *corev1.PodCondition
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == podConditionAllocated {
			cur = &pod.Status.Conditions[i]
		}
	}
	status := corev1.ConditionFalse
	if ok {
		if cur == nil || cur.Status == corev1.ConditionTrue {
			return nil
		}
		status, msg = corev1.ConditionTrue, "network allocated"
	} else {
		r.events.Eventf(pod, nil, corev1.EventTypeWarning, reason, "Allocate", "%s", msg)
	}
	if cur != nil && cur.Status == status && cur.Reason == reason && cur.Message == msg {
		return nil
	}
	old := pod.DeepCopy()
	cond := corev1.PodCondition{Type: podConditionAllocated, Status: status, Reason: reason, Message: msg, LastTransitionTime: metav1.Now()}
	if cur != nil {
		*cur = cond
	} else {
		pod.Status.Conditions = append(pod.Status.Conditions, cond)
	}
	if err := r.client.Status().Patch(ctx, pod, client.MergeFrom(old)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("pod %s/%s: condition: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// createIfMissing creates o unless it exists; one left by an earlier pod of the same name
// is replaced.
func (r *podReconciler) createIfMissing(ctx context.Context, o client.Object, pod *corev1.Pod) error {
	cur := o.DeepCopyObject().(client.Object)
	if err := r.client.Get(ctx, client.ObjectKeyFromObject(o), cur); err == nil {
		if !stale(cur, pod) {
			return nil
		}
		if err := r.client.Delete(ctx, cur); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete stale %T %s: %w", o, client.ObjectKeyFromObject(o), err)
		}
	}
	if err := r.client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create %T %s: %w", o, client.ObjectKeyFromObject(o), err)
	}
	return nil
}

func ownerRef(pod *corev1.Pod) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}}
}

// podMAC derives a stable MAC for a pod interface (same scheme as router ports, another
// input), so a retried allocation does not change the MAC the CNI may already have set.
func podMAC(ns, name string) string {
	h := sha256.Sum256([]byte("pod/" + ns + "/" + name))
	return net.HardwareAddr{0x0a, 0x58, h[0], h[1], h[2], h[3]}.String()
}

func looksLikeIP(s string) bool {
	first, _, _ := strings.Cut(s, ",")
	_, err := netip.ParseAddr(strings.TrimSpace(first))
	return err == nil
}
