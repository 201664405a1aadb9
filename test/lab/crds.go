package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
)

// crdDir is a directory of CRD manifests; optional ones may be missing (the default
// deploy/crds directories are generated and may not exist in a fresh tree yet).
type crdDir struct {
	path     string
	optional bool
}

// crdDirs returns the CRD directories of a cluster.
func (l *Lab) crdDirs(ci *ClusterInfo) []crdDir {
	deploy := func(sub string) string { return filepath.Join(l.cfg.RepoRoot, "deploy", "crds", sub) }
	var out []crdDir
	add := func(explicit []string, defaults ...string) {
		if explicit != nil {
			for _, d := range explicit {
				out = append(out, crdDir{path: d})
			}
			return
		}
		for _, d := range defaults {
			out = append(out, crdDir{path: d, optional: true})
		}
	}
	if ci.Role == RoleHub {
		add(l.cfg.HubCRDDirs, deploy("iaas"), deploy("federation"))
		out = append(out, crdDir{path: l.cfg.OCMCRDDir})
	} else {
		add(l.cfg.SpokeCRDDirs, deploy("iaas"))
	}
	return out
}

// readCRDs decodes every CustomResourceDefinition of the YAML files in dir; other kinds
// (a kustomization.yaml) are ignored.
func readCRDs(dir string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	more, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	files = append(files, more...)
	sort.Strings(files)
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for i := 0; ; i++ {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s document %d: %w", f, i, err)
			}
			var meta metav1.TypeMeta
			if err := utilyaml.Unmarshal(doc, &meta); err != nil {
				return nil, fmt.Errorf("%s document %d: %w", f, i, err)
			}
			if meta.Kind != "CustomResourceDefinition" {
				continue
			}
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := utilyaml.Unmarshal(doc, crd); err != nil {
				return nil, fmt.Errorf("%s document %d: %w", f, i, err)
			}
			out = append(out, crd)
		}
	}
	return out, nil
}

// installCRDs creates (or updates) the cluster's CRDs and waits until each is Established.
// It returns the installed names and warnings about skipped optional directories.
func installCRDs(ctx context.Context, cfg *rest.Config, ci *ClusterInfo, dirs []crdDir, timeout time.Duration) ([]string, []string, error) {
	cs, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster %s: %w", ci.Name, err)
	}
	var names, warnings []string
	for _, d := range dirs {
		if _, err := os.Stat(d.path); err != nil {
			if d.optional {
				warnings = append(warnings, fmt.Sprintf("cluster %s: CRD directory %s is missing (run `make manifests`); skipped", ci.Name, d.path))
				continue
			}
			return nil, nil, fmt.Errorf("cluster %s: CRD directory: %w", ci.Name, err)
		}
		crds, err := readCRDs(d.path)
		if err != nil {
			return nil, nil, fmt.Errorf("cluster %s: %w", ci.Name, err)
		}
		for _, crd := range crds {
			api := cs.ApiextensionsV1().CustomResourceDefinitions()
			_, err := api.Create(ctx, crd, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				cur, gerr := api.Get(ctx, crd.Name, metav1.GetOptions{})
				if gerr != nil {
					return nil, nil, fmt.Errorf("cluster %s: crd %s: %w", ci.Name, crd.Name, gerr)
				}
				crd.ResourceVersion = cur.ResourceVersion
				_, err = api.Update(ctx, crd, metav1.UpdateOptions{})
			}
			if err != nil {
				return nil, nil, fmt.Errorf("cluster %s: crd %s: %w", ci.Name, crd.Name, err)
			}
			names = append(names, crd.Name)
		}
	}
	api := cs.ApiextensionsV1().CustomResourceDefinitions()
	for _, name := range names {
		err := poll(ctx, timeout, 100*time.Millisecond, "crd "+name+" established", nil, func() (bool, string) {
			crd, err := api.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			for _, c := range crd.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return true, ""
				}
			}
			return false, "not established"
		})
		if err != nil {
			return nil, nil, fmt.Errorf("cluster %s: %w", ci.Name, err)
		}
	}
	sort.Strings(names)
	return names, warnings, nil
}

// crdGroups summarises installed CRD names by API group, for status output.
func crdGroups(names []string) string {
	count := map[string]int{}
	for _, n := range names {
		if _, g, ok := strings.Cut(n, "."); ok {
			count[g]++
		}
	}
	var groups []string
	for g := range count {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var parts []string
	for _, g := range groups {
		parts = append(parts, fmt.Sprintf("%s(%d)", g, count[g]))
	}
	return strings.Join(parts, " ")
}
