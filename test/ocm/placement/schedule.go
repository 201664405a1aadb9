/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package placement

import (
	"fmt"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	clusterv1beta2 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta2"
)

// input is everything one scheduling decision depends on.
type input struct {
	placement *clusterv1beta1.Placement
	// bindings are the ManagedClusterSetBindings in the placement's namespace.
	bindings []clusterv1beta2.ManagedClusterSetBinding
	sets     map[string]*clusterv1beta2.ManagedClusterSet
	clusters []clusterv1.ManagedCluster
	// decided are the clusters of the current decisions (for Steady and NoSelectIfNew).
	decided map[string]bool
	now     time.Time
}

// result is the decision and the conditions explaining it.
type result struct {
	// clusters are the selected cluster names, sorted.
	clusters      []string
	satisfied     metav1.Condition
	misconfigured metav1.Condition
	// requeueAfter > 0 means a toleration runs out then and the decision must be redone.
	requeueAfter time.Duration
}

// schedule selects clusters for a placement. It is pure: the controller feeds it listed
// objects and writes what it returns.
//
//	bound sets (bindings whose set exists) ∩ spec.clusterSets (when given)
//	  -> member clusters (ClusterSetLabel, or the set's label selector), not being deleted
//	  -> predicates (ORed; label selector AND claim selector within one)
//	  -> taints not tolerated (NoSelect; NoSelectIfNew for clusters not already decided)
//	  -> already decided first (Steady), then by name; cut at numberOfClusters
func schedule(in input) result {
	p := in.placement
	res := result{misconfigured: metav1.Condition{
		Type: clusterv1beta1.PlacementConditionMisconfigured, Status: metav1.ConditionFalse,
		Reason: clusterv1beta1.ReasonSucceedConfigured, Message: "Placement configurations check pass",
	}}
	unsatisfied := func(reason, msg string) result {
		res.satisfied = metav1.Condition{Type: clusterv1beta1.PlacementConditionSatisfied,
			Status: metav1.ConditionFalse, Reason: reason, Message: msg}
		return res
	}

	wanted := map[string]bool{}
	for _, s := range p.Spec.ClusterSets {
		wanted[s] = true
	}
	var bound []*clusterv1beta2.ManagedClusterSet
	seen := map[string]bool{}
	for _, b := range in.bindings {
		set := in.sets[b.Spec.ClusterSet]
		if set == nil || !set.DeletionTimestamp.IsZero() || !b.DeletionTimestamp.IsZero() || seen[set.Name] {
			continue
		}
		seen[set.Name] = true
		if len(wanted) == 0 || wanted[set.Name] {
			bound = append(bound, set)
		}
	}
	if len(bound) == 0 {
		return unsatisfied(clusterv1beta1.ReasonNoManagedClusterSetBindings,
			"No valid ManagedClusterSetBindings found in placement namespace")
	}

	var problems []string
	var members []*clusterv1.ManagedCluster
	for i := range in.clusters {
		c := &in.clusters[i]
		if !c.DeletionTimestamp.IsZero() {
			continue // upstream never selects terminating clusters
		}
		for _, set := range bound {
			ok, err := inSet(c, set)
			if err != nil {
				problems = append(problems, err.Error())
			}
			if ok {
				members = append(members, c)
				break
			}
		}
	}
	if len(members) == 0 {
		names := make([]string, len(bound))
		for i, s := range bound {
			names[i] = s.Name
		}
		res = withProblems(res, problems)
		return unsatisfied(clusterv1beta1.ReasonAllManagedClusterSetsEmpty,
			fmt.Sprintf("All ManagedClusterSets [%s] have no member ManagedCluster", strings.Join(names, ",")))
	}

	var candidates []string
	for _, c := range members {
		ok, err := matchesPredicates(c, p.Spec.Predicates)
		if err != nil {
			problems = append(problems, err.Error())
		}
		if !ok {
			continue
		}
		tolerated, expires := tolerates(c, p.Spec.Tolerations, in.decided[c.Name], in.now)
		if expires > 0 && (res.requeueAfter == 0 || expires < res.requeueAfter) {
			res.requeueAfter = expires
		}
		if tolerated {
			candidates = append(candidates, c.Name)
		}
	}
	res = withProblems(res, problems)
	if len(candidates) == 0 {
		return unsatisfied(clusterv1beta1.ReasonNoManagedClusterMatched, "No ManagedCluster matches any of the cluster predicate")
	}

	steady := steadyEnabled(p.Spec.PrioritizerPolicy)
	sort.Slice(candidates, func(i, j int) bool {
		a, b := candidates[i], candidates[j]
		if steady && in.decided[a] != in.decided[b] {
			return in.decided[a]
		}
		return a < b
	})
	if n := p.Spec.NumberOfClusters; n != nil && int(*n) < len(candidates) {
		candidates = candidates[:max(0, int(*n))]
	}
	sort.Strings(candidates)
	res.clusters = candidates
	res.satisfied = metav1.Condition{Type: clusterv1beta1.PlacementConditionSatisfied, Status: metav1.ConditionTrue,
		Reason: clusterv1beta1.ReasonAllDecisionsScheduled, Message: "All cluster decisions scheduled"}
	if n := p.Spec.NumberOfClusters; n != nil && len(candidates) < int(*n) {
		res.satisfied.Status, res.satisfied.Reason = metav1.ConditionFalse, clusterv1beta1.ReasonNotAllDecisionsScheduled
		res.satisfied.Message = fmt.Sprintf("%d cluster decisions unscheduled", int(*n)-len(candidates))
	}
	return res
}

func withProblems(res result, problems []string) result {
	if len(problems) == 0 {
		return res
	}
	sort.Strings(problems)
	res.misconfigured = metav1.Condition{Type: clusterv1beta1.PlacementConditionMisconfigured, Status: metav1.ConditionTrue,
		Reason: clusterv1beta1.ReasonMisconfigured, Message: strings.Join(uniq(problems), "; ")}
	return res
}

func uniq(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// inSet reports whether a cluster is a member of a set.
func inSet(c *clusterv1.ManagedCluster, set *clusterv1beta2.ManagedClusterSet) (bool, error) {
	sel := set.Spec.ClusterSelector
	switch sel.SelectorType {
	case "", clusterv1beta2.ExclusiveClusterSetLabel:
		return c.Labels[clusterv1beta2.ClusterSetLabel] == set.Name, nil
	case clusterv1beta2.LabelSelector:
		s, err := metav1.LabelSelectorAsSelector(sel.LabelSelector) // nil selects nothing, {} everything
		if err != nil {
			return false, fmt.Errorf("managedclusterset %q: label selector: %w", set.Name, err)
		}
		return s.Matches(labels.Set(c.Labels)), nil
	}
	return false, fmt.Errorf("managedclusterset %q: unknown selector type %q", set.Name, sel.SelectorType)
}

// matchesPredicates: no predicates match everything; otherwise any predicate matching is
// enough. Within one, the label selector and the claim selector must both match. CEL
// selectors are not supported by the stand-in: such a predicate matches nothing and is
// reported as a misconfiguration, so a test relying on it fails loudly.
func matchesPredicates(c *clusterv1.ManagedCluster, preds []clusterv1beta1.ClusterPredicate) (bool, error) {
	if len(preds) == 0 {
		return true, nil
	}
	claims := labels.Set{}
	for _, cl := range c.Status.ClusterClaims {
		claims[cl.Name] = cl.Value
	}
	var errs []string
	for i, p := range preds {
		sel := p.RequiredClusterSelector
		if len(sel.CelSelector.CelExpressions) > 0 {
			errs = append(errs, fmt.Sprintf("predicate %d: celSelector is not supported by the placement stand-in", i))
			continue
		}
		ls, err := metav1.LabelSelectorAsSelector(&sel.LabelSelector)
		if err != nil {
			errs = append(errs, fmt.Sprintf("predicate %d: label selector: %v", i, err))
			continue
		}
		cs, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchExpressions: sel.ClaimSelector.MatchExpressions})
		if err != nil {
			errs = append(errs, fmt.Sprintf("predicate %d: claim selector: %v", i, err))
			continue
		}
		if ls.Matches(labels.Set(c.Labels)) && cs.Matches(claims) {
			return true, joinErr(errs)
		}
	}
	return false, joinErr(errs)
}

func joinErr(errs []string) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(errs, "; "))
}

// tolerates reports whether every selection-blocking taint of the cluster is tolerated.
// PreferNoSelect never blocks (upstream does not implement it either); NoSelectIfNew blocks
// only clusters that are not already decided. expires > 0 is when a tolerationSeconds runs
// out for a taint that is tolerated now.
func tolerates(c *clusterv1.ManagedCluster, tols []clusterv1beta1.Toleration, decided bool, now time.Time) (bool, time.Duration) {
	var expires time.Duration
	for _, taint := range c.Spec.Taints {
		switch taint.Effect {
		case clusterv1.TaintEffectNoSelect:
		case clusterv1.TaintEffectNoSelectIfNew:
			if decided {
				continue
			}
		default:
			continue
		}
		ok := false
		for _, tol := range tols {
			if !tolerationMatches(tol, taint) {
				continue
			}
			if tol.TolerationSeconds == nil || taint.TimeAdded.IsZero() {
				ok = true
				break
			}
			left := taint.TimeAdded.Add(time.Duration(*tol.TolerationSeconds) * time.Second).Sub(now)
			if left > 0 {
				ok = true
				if expires == 0 || left < expires {
					expires = left
				}
				break
			}
		}
		if !ok {
			return false, 0
		}
	}
	return true, expires
}

func tolerationMatches(tol clusterv1beta1.Toleration, taint clusterv1.Taint) bool {
	if tol.Effect != "" && tol.Effect != taint.Effect {
		return false
	}
	switch tol.Operator {
	case clusterv1beta1.TolerationOpExists:
		return tol.Key == "" || tol.Key == taint.Key
	case "", clusterv1beta1.TolerationOpEqual:
		return tol.Key == taint.Key && tol.Value == taint.Value
	}
	return false
}

// steadyEnabled: the Steady prioritizer (keep existing decisions) is on by default
// (Additive mode) and in Exact mode only when configured with a positive weight. It is the
// only prioritizer the stand-in implements; the rest rank by name.
func steadyEnabled(pp clusterv1beta1.PrioritizerPolicy) bool {
	if pp.Mode != clusterv1beta1.PrioritizerPolicyModeExact {
		for _, c := range pp.Configurations {
			if c.ScoreCoordinate != nil && c.ScoreCoordinate.BuiltIn == "Steady" && c.Weight <= 0 {
				return false
			}
		}
		return true
	}
	for _, c := range pp.Configurations {
		if c.ScoreCoordinate != nil && c.ScoreCoordinate.BuiltIn == "Steady" && c.Weight > 0 {
			return true
		}
	}
	return false
}
