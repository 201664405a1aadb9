package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	clusterv1beta2 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta2"
	"github.com/ycloud-sdn/ycloud/test/framework"
	"github.com/ycloud-sdn/ycloud/test/lab"
)

// demo is one run's shared state.
type demo struct {
	l   *lab.Lab
	o   Options
	res *Result

	mu  sync.Mutex // guards res.Checks, res.Pods, res.Applied, alloc
	kc  map[string]kubernetes.Interface
	crc map[string]client.Client
	// alloc holds the web subnet pieces the hub carved for the federated pods.
	alloc map[fedKey]netip.Prefix
}

// clients makes a clientset and a controller-runtime client (typed for client-go and
// iaas.yusur.io kinds, unstructured for the rest) per cluster.
func (d *demo) clients() error {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(iaasv1.AddToScheme(scheme))
	utilruntime.Must(fedv1.AddToScheme(scheme))
	utilruntime.Must(clusterv1.AddToScheme(scheme))
	utilruntime.Must(clusterv1beta1.AddToScheme(scheme))
	utilruntime.Must(clusterv1beta2.AddToScheme(scheme))
	d.kc, d.crc = map[string]kubernetes.Interface{}, map[string]client.Client{}
	for _, c := range d.l.Clusters() {
		cfg, err := d.l.RESTConfig(c)
		if err != nil {
			return err
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return err
		}
		cl, err := client.New(cfg, client.Options{Scheme: scheme})
		if err != nil {
			return fmt.Errorf("cluster %s: client: %w", c, err)
		}
		d.kc[c], d.crc[c] = cs, cl
	}
	return nil
}

// Where a sample object goes.
const (
	toHub   = "hub"
	toSpoke = "spokes"
)

// route decides where a sample object is applied, or why it is not. Spoke kinds
// (iaas.yusur.io) go to every spoke, federation and OCM kinds to the hub; objects that only
// make sense for a pod the lab cannot run are skipped.
func route(u *unstructured.Unstructured) (where, skip string) {
	gvk := u.GroupVersionKind()
	switch {
	case gvk.Group == "" && gvk.Kind == "Pod":
		return "", "needs Multus and an SR-IOV VF (eth1), which the lab does not have"
	case gvk.Group == iaasv1.GroupVersion.Group && (gvk.Kind == "Nic" || gvk.Kind == "Vnic"):
		return "", "made by the CNI and the controller for a pod's interface (the sample's pod1 does not run here)"
	case gvk.Group == iaasv1.GroupVersion.Group:
		return toSpoke, ""
	case gvk.Group == "" && gvk.Kind == "Namespace",
		gvk.Group == "federation.iaas.yusur.io",
		strings.HasSuffix(gvk.Group, "open-cluster-management.io"):
		return toHub, ""
	}
	return "", "no cluster of the lab serves " + gvk.GroupKind().String()
}

// sampleFiles lists the YAML files to apply: kustomization.yaml's resources in order when
// it exists, else every YAML file sorted by name.
func sampleFiles(dir string) ([]string, error) {
	if data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml")); err == nil {
		var k struct {
			Resources []string `json:"resources"`
		}
		if err := yaml.Unmarshal(data, &k); err != nil {
			return nil, fmt.Errorf("%s/kustomization.yaml: %w", dir, err)
		}
		files := make([]string, 0, len(k.Resources))
		for _, r := range k.Resources {
			files = append(files, filepath.Join(dir, r))
		}
		return files, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".yaml") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(files)
	return files, nil
}

// reconciledKinds are the spoke kinds ycloud-controller reconciles into OVN today; their
// samples must become Ready. The other spoke kinds are stored (their controllers come with
// later issues: security groups, EIPs, NAT, services, probes).
var reconciledKinds = map[string]bool{"Vpc": true, "Subnet": true, "VnicIp": true}

// applySamples applies the samples and checks that the ones ycloud-controller reconciles
// become Ready on every spoke.
func (d *demo) applySamples(ctx context.Context) error {
	dir := d.o.Samples
	if dir == "none" {
		return nil
	}
	if dir == "" {
		dir = SamplesDir(d.l.RepoRoot())
	}
	files, err := sampleFiles(dir)
	if err != nil {
		return fmt.Errorf("samples %s: %w", dir, err)
	}
	var hub, spoke []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		objs, err := framework.DecodeYAML(data)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, o := range objs {
			where, why := route(o)
			switch where {
			case toHub:
				hub = append(hub, o)
			case toSpoke:
				spoke = append(spoke, o)
			default:
				d.res.Skipped = append(d.res.Skipped, fmt.Sprintf("%s %s (%s): %s", o.GetKind(), o.GetName(), filepath.Base(f), why))
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	// The federation samples reach the spokes only once the clusters carry the labels their
	// Placements select (federate, the next step, sets them).
	applyAll := func(cluster string, objs []*unstructured.Unstructured) error {
		for _, o := range objs {
			if err := framework.Apply(ctx, d.crc[cluster], []*unstructured.Unstructured{o}, false); err != nil {
				return fmt.Errorf("cluster %s: %w", cluster, err)
			}
		}
		d.mu.Lock()
		d.res.Applied[cluster] += len(objs)
		d.mu.Unlock()
		return nil
	}
	targets := []string{lab.HubName}
	targets = append(targets, d.l.Spokes()...)
	return parallel(targets, func(cluster string) error {
		if cluster == lab.HubName {
			return applyAll(cluster, hub)
		}
		if err := applyAll(cluster, spoke); err != nil {
			return err
		}
		for _, o := range spoke {
			if !reconciledKinds[o.GetKind()] {
				continue
			}
			t := time.Now()
			msg, err := waitReady(ctx, d.crc[cluster], o)
			c := Check{Cluster: cluster, Name: "sample " + o.GetKind() + " " + o.GetName() + " Ready (in OVN)", Pass: err == nil, Detail: msg, Duration: time.Since(t)}
			if err != nil {
				c.Detail = err.Error()
			}
			d.addCheck(c)
		}
		return nil
	})
}

// waitReady polls an object until its Ready condition is True, and returns its message.
func waitReady(ctx context.Context, c client.Client, o *unstructured.Unstructured) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	last := "no Ready condition yet"
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		cur := &unstructured.Unstructured{}
		cur.SetGroupVersionKind(o.GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKeyFromObject(o), cur); err != nil {
			if ctx.Err() == nil {
				last = err.Error()
			}
		} else if status, reason, msg, ok := readyCondition(cur); ok {
			if status == "True" {
				return msg, nil
			}
			last = reason + ": " + msg
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("not Ready after 60s (%s)", last)
		case <-tick.C:
		}
	}
}

// readyCondition returns the Ready condition of an object's status.
func readyCondition(u *unstructured.Unstructured) (status, reason, message string, ok bool) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, isMap := c.(map[string]any)
		if !isMap || m["type"] != "Ready" {
			continue
		}
		s, _ := m["status"].(string)
		r, _ := m["reason"].(string)
		msg, _ := m["message"].(string)
		return s, r, msg, true
	}
	return "", "", "", false
}

// addCheck records a check and prints it.
func (d *demo) addCheck(c Check) {
	d.mu.Lock()
	d.res.Checks = append(d.res.Checks, c)
	d.mu.Unlock()
	d.printCheck(c)
}

// printCheck prints one line per check as it completes.
func (d *demo) printCheck(c Check) {
	d.mu.Lock()
	defer d.mu.Unlock()
	status := "PASS"
	if !c.Pass {
		status = "FAIL"
	}
	where := c.Cluster
	if where == "" {
		where = "-"
	}
	// One write per line: test writers log each write as a line.
	var b strings.Builder
	fmt.Fprintf(&b, "  %s %-8s %s", status, where, c.Name)
	if c.From != "" {
		fmt.Fprintf(&b, " [%s -> %s]", c.From, c.To)
	}
	if !c.Pass {
		fmt.Fprintf(&b, ": %s", c.Detail)
	}
	b.WriteString("\n")
	_, _ = io.WriteString(d.o.Out, b.String())
}

// parallel runs f for every item concurrently and joins the errors.
func parallel[T any](items []T, f func(T) error) error {
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(it)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
