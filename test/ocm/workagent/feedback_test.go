/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package workagent

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
)

func vpcLike() map[string]any {
	return map[string]any{
		"apiVersion": "iaas.yusur.io/v1", "kind": "Vpc",
		"metadata": map[string]any{"name": "a", "labels": map[string]any{"x": "y"}},
		"status": map[string]any{
			"router":    "vpc-a",
			"ready":     true,
			"learned":   int64(3),
			"ratio":     0.5,
			"subnets":   []any{"s1", "s2"},
			"noSubnets": []any{},
			"nothing":   nil,
			"conditions": []any{
				map[string]any{"type": "Ready", "status": "True"},
				map[string]any{"type": "Degraded", "status": "False"},
			},
		},
	}
}

func TestScalarAt(t *testing.T) {
	cases := []struct {
		name    string
		path    string
		want    workv1.FieldValue
		found   bool
		errText string
	}{
		{name: "string", path: ".status.router", want: workv1.FieldValue{Type: workv1.String, String: ptr.To("vpc-a")}, found: true},
		{name: "boolean", path: ".status.ready", want: workv1.FieldValue{Type: workv1.Boolean, Boolean: ptr.To(true)}, found: true},
		{name: "integer", path: ".status.learned", want: workv1.FieldValue{Type: workv1.Integer, Integer: ptr.To[int64](3)}, found: true},
		{name: "filter selects one", path: `.status.conditions[?(@.type=="Ready")].status`,
			want: workv1.FieldValue{Type: workv1.String, String: ptr.To("True")}, found: true},
		{name: "index selects one element", path: ".status.subnets[0]", want: workv1.FieldValue{Type: workv1.String, String: ptr.To("s1")}, found: true},
		{name: "last index", path: ".status.subnets[-1]", want: workv1.FieldValue{Type: workv1.String, String: ptr.To("s2")}, found: true},
		{name: "index under a missing parent is no value", path: ".status.interconnect.gatewayChassis[0]"},
		// As upstream (client-go's jsonpath): an error, so StatusFeedbackSynced=False.
		{name: "index into an empty list is refused", path: ".status.noSubnets[0]", errText: "out of bounds"},
		{name: "missing field is no value", path: ".status.absent"},
		{name: "missing parent is no value", path: ".spec.deep.absent"},
		{name: "null is no value", path: ".status.nothing"},
		{name: "filter selects none", path: `.status.conditions[?(@.type=="Gone")].status`},
		{name: "list is refused", path: ".status.subnets", errText: "selects a list"},
		{name: "object is refused", path: ".metadata.labels", errText: "selects a object"},
		{name: "several values are refused", path: ".status.conditions[*].type", errText: "selects 2 values"},
		{name: "float is refused", path: ".status.ratio", errText: "only integers, strings and booleans"},
		{name: "bad syntax", path: ".status[", errText: "parse path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, found, err := scalarAt(vpcLike(), tc.path)
			if tc.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("want error containing %q, got value %+v err %v", tc.errText, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if found != tc.found {
				t.Fatalf("found = %v, want %v", found, tc.found)
			}
			if found && !fieldValueEqual(got, tc.want) {
				t.Fatalf("got %s, want %s", show(got), show(tc.want))
			}
		})
	}
}

func fieldValueEqual(a, b workv1.FieldValue) bool {
	return show(a) == show(b)
}

func show(v workv1.FieldValue) string {
	s := string(v.Type)
	if v.String != nil {
		s += fmt.Sprintf(" string=%q", *v.String)
	}
	if v.Boolean != nil {
		s += fmt.Sprintf(" boolean=%v", *v.Boolean)
	}
	if v.Integer != nil {
		s += fmt.Sprintf(" integer=%d", *v.Integer)
	}
	return s
}

func TestFeedbackValues(t *testing.T) {
	obj := &unstructured.Unstructured{Object: vpcLike()}
	other := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "iaas.yusur.io/v2", "kind": "Vpc", "status": map[string]any{"router": "from-v2"},
	}}
	rules := []workv1.FeedbackRule{
		{Type: workv1.WellKnownStatusType}, // not implemented: contributes nothing, no error
		{Type: workv1.JSONPathsType, JsonPaths: []workv1.JsonPath{
			{Name: "router", Path: ".status.router"},
			{Name: "router", Path: ".status.ready"}, // repeated name: the first wins
			{Name: "subnets", Path: ".status.subnets"},
			{Name: "absent", Path: ".status.absent"},
			{Name: "v2router", Version: "v2", Path: ".status.router"},
			{Name: "v1router", Version: "v1", Path: ".status.router"}, // the applied version: no extra read
			{Name: "v3router", Version: "v3", Path: ".status.router"},
		}},
	}
	var reads []string
	values, problems := feedbackValues(rules, obj, func(v string) (*unstructured.Unstructured, error) {
		reads = append(reads, v)
		if v == "v2" {
			return other, nil
		}
		return nil, errors.New("no such version")
	})
	var got []string
	for _, v := range values {
		got = append(got, v.Name+"="+*v.Value.String)
	}
	if want := "router=vpc-a v2router=from-v2 v1router=vpc-a"; strings.Join(got, " ") != want {
		t.Errorf("values %q, want %q", strings.Join(got, " "), want)
	}
	if strings.Join(reads, ",") != "v2,v3" {
		t.Errorf("read versions %v, want v2 and v3 only", reads)
	}
	if len(problems) != 2 || !strings.HasPrefix(problems[0], "subnets:") || !strings.HasPrefix(problems[1], "v3router:") {
		t.Errorf("problems %q, want the list path and the unreadable version", problems)
	}
}

// The hub asks every spoke Vpc for its interconnect link (hub/render), which only exists
// once ycloud-ic linked the VPC: absent values are left out without a problem, so the
// manifest keeps StatusFeedbackSynced=True, and an index picks the first gateway chassis.
func TestFeedbackValuesInterconnect(t *testing.T) {
	rules := []workv1.FeedbackRule{{Type: workv1.JSONPathsType, JsonPaths: []workv1.JsonPath{
		{Name: "router", Path: ".status.router"},
		{Name: "transitSwitch", Path: ".status.interconnect.transitSwitch"},
		{Name: "activeGateway", Path: ".status.interconnect.gatewayChassis[0]"},
		{Name: "learnedRoutes", Path: ".status.interconnect.learnedRoutes"},
		{Name: "advertisedRoutes", Path: ".status.interconnect.advertisedRoutes"},
	}}}
	noVersions := func(v string) (*unstructured.Unstructured, error) {
		return nil, fmt.Errorf("unexpected read of version %s", v)
	}
	for _, tc := range []struct {
		name         string
		interconnect map[string]any
		want         string
	}{
		{name: "linked", interconnect: map[string]any{"transitSwitch": "ts-a", "gatewayChassis": []any{"gw2", "gw1"},
			"learnedRoutes": int64(3), "advertisedRoutes": int64(1)},
			want: "router=vpc-a transitSwitch=ts-a activeGateway=gw2 learnedRoutes=3 advertisedRoutes=1"},
		{name: "not linked", interconnect: map[string]any{"learnedRoutes": int64(0), "advertisedRoutes": int64(0)},
			want: "router=vpc-a learnedRoutes=0 advertisedRoutes=0"},
		{name: "not federated", want: "router=vpc-a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &unstructured.Unstructured{Object: vpcLike()}
			if tc.interconnect != nil {
				obj.Object["status"].(map[string]any)["interconnect"] = tc.interconnect
			}
			values, problems := feedbackValues(rules, obj, noVersions)
			var got []string
			for _, v := range values {
				switch {
				case v.Value.String != nil:
					got = append(got, v.Name+"="+*v.Value.String)
				case v.Value.Integer != nil:
					got = append(got, fmt.Sprintf("%s=%d", v.Name, *v.Value.Integer))
				default:
					t.Fatalf("%s: unexpected value %s", v.Name, show(v.Value))
				}
			}
			if strings.Join(got, " ") != tc.want || len(problems) > 0 {
				t.Fatalf("values %q problems %q, want %q and no problems", strings.Join(got, " "), problems, tc.want)
			}
		})
	}
}
