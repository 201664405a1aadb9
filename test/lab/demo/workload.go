package demo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/test/images"
	"github.com/ycloud-sdn/ycloud/test/lab"
)

// Namespace holds the demo's Deployments on every spoke.
const Namespace = "ycloud-demo"

// Labels of every demo pod.
const (
	labelPartOf     = "app.kubernetes.io/part-of"
	partOf          = "ycloud-demo"
	labelDeployment = "demo.ycloud.io/deployment"
)

// Ports ynettest serves in every demo pod.
const (
	echoPort = 7000
	httpPort = 8080
)

// The overlapping VPCs on spoke1. Addresses are static (annotation cni.iaas.yusur.io/vnicip)
// so that the checks know which address exists in which VPC: .10 in both, .11 only in
// demo-a, .12 only in demo-b. The two pods of a VPC sit on different nodes.
const demoCIDR = "10.77.0.0/24"

type vpcPod struct {
	deployment, vpc, subnet string
	node                    int // 1-based node index in spoke1
	ip                      string
}

var vpcPods = []vpcPod{
	{"vpc-a-1", "demo-a", "demo-a-net", 1, "10.77.0.10"},
	{"vpc-a-2", "demo-a", "demo-a-net", 2, "10.77.0.11"},
	{"vpc-b-1", "demo-b", "demo-b-net", 2, "10.77.0.10"},
	{"vpc-b-2", "demo-b", "demo-b-net", 1, "10.77.0.12"},
}

// webReplicas is the number of default-VPC pods per node: two, so that there is a
// same-node pair on every node.
const webReplicas = 2

// webDeployment is the name of the default-VPC Deployment pinned to a node.
func webDeployment(node string) string { return "web-" + node }

// deployment builds a Deployment of the test image pinned to a node, with extra pod
// annotations.
func deployment(name, node string, replicas int32, annotations map[string]string) *appsv1.Deployment {
	labels := map[string]string{labelPartOf: partOf, labelDeployment: name}
	grace := int64(1)
	automount := false
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{labelDeployment: name}},
			// Static addresses cannot be held by two pods at once: replace, never surge.
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec: corev1.PodSpec{
					NodeSelector:                  map[string]string{corev1.LabelHostname: node},
					TerminationGracePeriodSeconds: &grace,
					AutomountServiceAccountToken:  &automount,
					Containers: []corev1.Container{{
						Name:            "ynettest",
						Image:           images.TestImage,
						ImagePullPolicy: corev1.PullNever,
						Command: []string{"/bin/ynettest", "serve",
							"--tcp", fmt.Sprint(echoPort), "--http", fmt.Sprint(httpPort)},
					}},
				},
			},
		},
	}
}

// deploymentsFor returns the demo's Deployments on a spoke: web-<node> (default VPC) on
// every node, and on spoke1 the four VPC pods.
func deploymentsFor(spoke string, nodes []string) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, n := range nodes {
		out = append(out, deployment(webDeployment(n), n, webReplicas, nil))
	}
	if spoke != lab.SpokeName(1) || len(nodes) < 2 {
		return out
	}
	for _, p := range vpcPods {
		out = append(out, deployment(p.deployment, nodes[p.node-1], 1, map[string]string{
			iaasv1.AnnotationSubnet: p.subnet,
			iaasv1.AnnotationVnicIp: p.ip,
		}))
	}
	return out
}

// createVPCs makes the two overlapping VPCs on spoke1 and waits until the controller has put
// them into OVN.
func (d *demo) createVPCs(ctx context.Context) error {
	spoke := lab.SpokeName(1)
	if len(d.l.Nodes(spoke)) < 2 {
		fmt.Fprintf(d.o.Out, "  skipped: the VPC checks need two nodes in %s\n", spoke)
		return nil
	}
	c := d.crc[spoke]
	var objs []client.Object
	seen := map[string]bool{}
	for _, p := range vpcPods {
		if seen[p.vpc] {
			continue
		}
		seen[p.vpc] = true
		objs = append(objs,
			&iaasv1.Vpc{ObjectMeta: metav1.ObjectMeta{Name: p.vpc}},
			&iaasv1.Subnet{ObjectMeta: metav1.ObjectMeta{Name: p.subnet},
				Spec: iaasv1.SubnetSpec{Vpc: p.vpc, CIDRBlock: iaasv1.DualStackCIDR(demoCIDR)}})
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			return fmt.Errorf("cluster %s: create %T %s: %w", spoke, o, o.GetName(), err)
		}
	}
	return parallel(objs, func(o client.Object) error {
		u := &unstructured.Unstructured{}
		kind := "Vpc"
		if _, ok := o.(*iaasv1.Subnet); ok {
			kind = "Subnet"
		}
		u.SetGroupVersionKind(iaasv1.GroupVersion.WithKind(kind))
		u.SetName(o.GetName())
		t := time.Now()
		msg, err := waitReady(ctx, c, u)
		ch := Check{Cluster: spoke, Name: kind + " " + o.GetName() + " Ready (in OVN)", Pass: err == nil, Detail: msg, Duration: time.Since(t)}
		if err != nil {
			ch.Detail = err.Error()
		}
		d.addCheck(ch)
		return err
	})
}

// runPods creates the Deployments on every spoke and waits until all their pods run,
// measuring each pod's create -> Running time.
func (d *demo) runPods(ctx context.Context) error {
	err := parallel(d.l.Spokes(), func(spoke string) error { return d.runSpokePods(ctx, spoke) })
	sort.Slice(d.res.Pods, func(i, j int) bool {
		a, b := d.res.Pods[i], d.res.Pods[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		return a.Name < b.Name
	})
	if len(d.res.Pods) > 0 {
		fmt.Fprintf(d.o.Out, "  %d pods Running; create -> Running median %s\n", len(d.res.Pods), d.res.MedianStart().Round(time.Millisecond))
	}
	return err
}

func (d *demo) runSpokePods(ctx context.Context, spoke string) error {
	cs := d.kc[spoke]
	var nodes []string
	for _, n := range d.l.Nodes(spoke) {
		nodes = append(nodes, n.Name)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("cluster %s: namespace %s: %w", spoke, Namespace, err)
	}
	// Pods are refused until kube-controller-manager made the namespace's ServiceAccount;
	// waiting here keeps that out of the pods' start times.
	if err := pollUntil(ctx, time.Minute, func() (bool, string) {
		_, err := cs.CoreV1().ServiceAccounts(Namespace).Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	}); err != nil {
		return fmt.Errorf("cluster %s: namespace %s ServiceAccount default: %w", spoke, Namespace, err)
	}
	d.mu.Lock()
	deps := append(deploymentsFor(spoke, nodes), fedDeploymentsFor(spoke, nodes, d.alloc)...)
	d.mu.Unlock()
	want := 0
	for _, dep := range deps {
		want += int(*dep.Spec.Replicas)
	}
	w, err := cs.CoreV1().Pods(Namespace).Watch(ctx, metav1.ListOptions{LabelSelector: labelPartOf + "=" + partOf})
	if err != nil {
		return fmt.Errorf("cluster %s: watch pods: %w", spoke, err)
	}
	defer w.Stop()
	for _, dep := range deps {
		if _, err := cs.AppsV1().Deployments(Namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("cluster %s: deployment %s: %w", spoke, dep.Name, err)
		}
	}
	seen := map[string]time.Time{}
	running := map[string]*corev1.Pod{}
	starts := map[string]time.Duration{}
	deadline := time.NewTimer(d.o.PodTimeout)
	defer deadline.Stop()
	for len(running) < want {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return fmt.Errorf("cluster %s: pod watch closed with %d of %d pods running", spoke, len(running), want)
			}
			p, isPod := ev.Object.(*corev1.Pod)
			if !isPod {
				continue
			}
			if ev.Type == watch.Deleted {
				delete(running, p.Name)
				continue
			}
			if _, ok := seen[p.Name]; !ok {
				seen[p.Name] = time.Now()
			}
			if _, ok := running[p.Name]; !ok && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" {
				running[p.Name] = p
				starts[p.Name] = time.Since(seen[p.Name])
			}
		case <-deadline.C:
			return fmt.Errorf("cluster %s: %d of %d pods Running after %s:\n%s", spoke, len(running), want, d.o.PodTimeout, notRunning(ctx, cs, running))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, p := range running {
		pod := Pod{Cluster: spoke, Namespace: p.Namespace, Name: name, Node: p.Spec.NodeName, IP: p.Status.PodIP,
			Deployment: p.Labels[labelDeployment], Start: starts[name]}
		if a, err := iaasv1.ParseAllocation(p.Annotations[iaasv1.AnnotationAllocation]); err == nil {
			pod.Vpc, pod.Subnet = a.Vpc, a.Subnet
		}
		d.res.Pods = append(d.res.Pods, pod)
	}
	return nil
}

// notRunning describes the demo pods that do not run, with their latest warning event (a
// failed sandbox says what the CNI answered).
func notRunning(ctx context.Context, cs kubernetes.Interface, running map[string]*corev1.Pod) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	pods, err := cs.CoreV1().Pods(Namespace).List(ctx, metav1.ListOptions{LabelSelector: labelPartOf + "=" + partOf})
	if err != nil {
		return err.Error()
	}
	events, _ := cs.CoreV1().Events(Namespace).List(ctx, metav1.ListOptions{})
	var b strings.Builder
	for _, p := range pods.Items {
		if _, ok := running[p.Name]; ok {
			continue
		}
		last := ""
		if events != nil {
			var lastTime time.Time
			for _, e := range events.Items {
				if e.InvolvedObject.Name == p.Name && e.Type == corev1.EventTypeWarning && !e.LastTimestamp.Time.Before(lastTime) {
					lastTime, last = e.LastTimestamp.Time, e.Reason+": "+e.Message
				}
			}
		}
		fmt.Fprintf(&b, "  pod %s on %q: phase %s; %s\n", p.Name, p.Spec.NodeName, p.Status.Phase, last)
	}
	return b.String()
}

// pollUntil calls check every 100ms until it returns true or timeout passes.
func pollUntil(ctx context.Context, timeout time.Duration, check func() (bool, string)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		ok, why := check()
		if ok {
			return nil
		}
		if why != "" {
			last = why
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out after %s (last: %s)", timeout, last)
		case <-tick.C:
		}
	}
}
