// Command apidemo is the interim `make demo` until the lab lands: it starts a real
// kube-apiserver + etcd with the ycloud CRDs, applies deploy/samples, prints every applied
// object with its printer columns exactly as `kubectl get` shows them, and stops cleanly.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/ycloud-sdn/ycloud/test/framework"
)

func main() {
	samples := flag.String("samples", filepath.Join(framework.RepoRoot(), "deploy", "samples"), "directory of sample YAML files to apply (kustomization.yaml order when present)")
	flag.Parse()
	if err := run(*samples); err != nil {
		slog.Error("demo failed", "err", err)
		os.Exit(1)
	}
}

func run(samples string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	c, err := framework.Start(framework.Options{Name: "demo", OCM: true})
	if err != nil {
		return err
	}
	defer func() {
		if err := c.Stop(); err != nil {
			slog.Error("stop apiserver", "err", err)
		}
	}()
	fmt.Printf("apiserver %s up with ycloud and OCM CRDs in %.1fs\n", c.Config.Host, time.Since(start).Seconds())

	files, err := sampleFiles(samples)
	if err != nil {
		return err
	}
	kinds := map[string]bool{}
	var order []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		objs, err := framework.DecodeYAML(data)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		actx, cancel := context.WithTimeout(ctx, time.Minute)
		err = framework.Apply(actx, c.Client, objs, false)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, o := range objs {
			gvk := o.GroupVersionKind()
			res := strings.ToLower(gvk.Kind)
			if gvk.Group != "" {
				res += "." + gvk.Group
			}
			if !kinds[res] {
				kinds[res] = true
				order = append(order, res)
			}
		}
		fmt.Printf("applied %-40s %d object(s)\n", filepath.Base(f), len(objs))
	}
	for _, res := range order {
		fmt.Printf("\n$ kubectl get %s -A\n", res)
		cmd := exec.CommandContext(ctx, filepath.Join(framework.BinDir(), "kubectl"), "--kubeconfig", c.Kubeconfig, "get", res, "-A")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("kubectl get %s: %w", res, err)
		}
	}
	fmt.Printf("\ndemo finished in %.1fs; apiserver stopped\n", time.Since(start).Seconds())
	return nil
}

// sampleFiles lists the YAML files to apply: the resources of kustomization.yaml in order
// when it exists (namespaces first), else every YAML file sorted by name.
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
