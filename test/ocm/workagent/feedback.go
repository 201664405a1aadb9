/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package workagent

import (
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/jsonpath"

	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
)

// feedbackValues evaluates the JSONPaths feedback rules on obj, the object's current state on
// the spoke. getVersion reads the object at another API version, for paths that ask for one.
// It returns the values in rule order (first one wins for a repeated name: the status list is
// keyed by name and the apiserver refuses duplicates) and the problems that make
// StatusFeedbackSynced False. A path that selects nothing is not a problem: upstream reports
// no value for it.
func feedbackValues(rules []workv1.FeedbackRule, obj *unstructured.Unstructured,
	getVersion func(version string) (*unstructured.Unstructured, error)) ([]workv1.FeedbackValue, []string) {
	var values []workv1.FeedbackValue
	var problems []string
	seen := map[string]bool{}
	for _, rule := range rules {
		if rule.Type != workv1.JSONPathsType {
			// WellKnownStatus is not implemented by the stand-in (see the package doc).
			continue
		}
		for _, jp := range rule.JsonPaths {
			if seen[jp.Name] {
				continue
			}
			src := obj
			if jp.Version != "" && jp.Version != obj.GroupVersionKind().Version {
				var err error
				if src, err = getVersion(jp.Version); err != nil {
					problems = append(problems, fmt.Sprintf("%s: read version %s: %v", jp.Name, jp.Version, err))
					continue
				}
			}
			v, ok, err := scalarAt(src.Object, jp.Path)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", jp.Name, err))
				continue
			}
			if !ok {
				continue
			}
			seen[jp.Name] = true
			values = append(values, workv1.FeedbackValue{Name: jp.Name, Value: v})
		}
	}
	return values, problems
}

// scalarAt evaluates a Kubernetes JSONPath (".status.phase", or with filters) on an object
// and returns the single scalar it selects. ok is false when it selects nothing. Lists,
// objects, several results and non-integer numbers are errors: upstream reports only
// Integer, String and Boolean (JsonRaw needs a feature gate we do not emulate).
func scalarAt(obj map[string]any, path string) (workv1.FieldValue, bool, error) {
	jp := jsonpath.New("feedback").AllowMissingKeys(true)
	if err := jp.Parse(fmt.Sprintf("{%s}", path)); err != nil {
		return workv1.FieldValue{}, false, fmt.Errorf("parse path %q: %w", path, err)
	}
	results, err := jp.FindResults(obj)
	if err != nil {
		return workv1.FieldValue{}, false, fmt.Errorf("evaluate path %q: %w", path, err)
	}
	var found []reflect.Value
	for _, r := range results {
		found = append(found, r...)
	}
	if len(found) == 0 {
		return workv1.FieldValue{}, false, nil
	}
	if len(found) > 1 {
		return workv1.FieldValue{}, false, fmt.Errorf("path %q selects %d values, want one", path, len(found))
	}
	v := found[0]
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if !v.IsValid() || (v.Kind() == reflect.Interface && v.IsNil()) {
		return workv1.FieldValue{}, false, nil // JSON null
	}
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		return workv1.FieldValue{Type: workv1.String, String: &s}, true, nil
	case reflect.Bool:
		b := v.Bool()
		return workv1.FieldValue{Type: workv1.Boolean, Boolean: &b}, true, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i := v.Int()
		return workv1.FieldValue{Type: workv1.Integer, Integer: &i}, true, nil
	case reflect.Map, reflect.Slice:
		return workv1.FieldValue{}, false, fmt.Errorf("path %q selects a %s, only scalars are reported", path, kindName(v.Kind()))
	default:
		return workv1.FieldValue{}, false, fmt.Errorf("path %q selects a %s, only integers, strings and booleans are reported", path, v.Type())
	}
}

func kindName(k reflect.Kind) string {
	if k == reflect.Map {
		return "object"
	}
	return "list"
}
