package framework

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DecodeYAML splits a multi-document YAML stream into objects. Empty documents are skipped.
func DecodeYAML(data []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("yaml document %d: %w", i, err)
		}
		u := &unstructured.Unstructured{}
		if err := utilyaml.Unmarshal(doc, &u.Object); err != nil {
			return nil, fmt.Errorf("yaml document %d: %w", i, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		objs = append(objs, u)
	}
}

// Apply creates each object, or updates it when it exists, in order. Options such as
// client.DryRunAll apply to both paths.
func Apply(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, dryRun bool) error {
	for _, o := range objs {
		id := fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
		var createOpts []client.CreateOption
		var updateOpts []client.UpdateOption
		if dryRun {
			createOpts = append(createOpts, client.DryRunAll)
			updateOpts = append(updateOpts, client.DryRunAll)
		}
		err := c.Create(ctx, o.DeepCopy(), createOpts...)
		if apierrors.IsAlreadyExists(err) {
			cur := &unstructured.Unstructured{}
			cur.SetGroupVersionKind(o.GroupVersionKind())
			if err = c.Get(ctx, client.ObjectKeyFromObject(o), cur); err == nil {
				upd := o.DeepCopy()
				upd.SetResourceVersion(cur.GetResourceVersion())
				err = c.Update(ctx, upd, updateOpts...)
			}
		}
		if err != nil {
			return fmt.Errorf("apply %s: %w", id, err)
		}
	}
	return nil
}

// ApplyYAMLFile applies every document of a YAML file to the cluster, failing the test on
// the first error. It returns the decoded objects.
func ApplyYAMLFile(t testing.TB, c *Cluster, path string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	objs, err := DecodeYAML(data)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Apply(ctx, c.Client, objs, false); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return objs
}
