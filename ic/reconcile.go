package ic

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icnb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icsb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/sb"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// indexTransitSwitch indexes Vpcs by spec.federation.transitSwitch.
const indexTransitSwitch = "spec.federation.transitSwitch"

// Event reasons.
const (
	ReasonNoGateway       = "NoInterconnectGateway"
	ReasonInvalidTransit  = "InvalidTransit"
	ReasonTransitConflict = "TransitSwitchShared"
	ReasonLinked          = "Interconnected"
)

// errClaimLost means another AZ won an IC-NB race; the reconcile is retried shortly, when
// our cache has seen the winner's write.
var errClaimLost = errors.New("transit switch claim lost to another availability zone")

// reconciler links federated Vpcs to their transit switches. One reconcile reads the
// informer and OVSDB caches, sends at most one IC-NB and one NB transaction, and patches
// the Vpc's status.interconnect when it changed.
type reconciler struct {
	cfg      Config
	az       string
	client   client.Client
	dbs      *databases
	selector labels.Selector
	events   recorder.EventRecorder
	keys     chan event.TypedGenericEvent[keyEvent]
	azPoke   chan struct{}
	// janitor carries transit switches that may have stale advertised routes or be
	// abandoned (see janitorLoop).
	janitor chan string
	ready   chan struct{}
	// claimMu orders reconciles (readers: each touches only its own VPC's transit switch)
	// against the garbage collector of transit claims (writer), which decides from the
	// set of all Vpcs.
	claimMu sync.RWMutex
}

func (r *reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var vpc iaasv1.Vpc
	if err := r.client.Get(ctx, req.NamespacedName, &vpc); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, err
		}
		return raceRetry(r.unlink(ctx, req.Name, nil))
	}
	fed := vpc.Spec.Federation
	if fed == nil || fed.TransitSwitch == "" || fed.TransitSubnet == "" {
		return raceRetry(r.unlink(ctx, vpc.Name, &vpc))
	}
	subnet, err := netip.ParsePrefix(string(fed.TransitSubnet))
	if err != nil || !subnet.Addr().Is4() || subnet.Bits() > 30 {
		r.events.Eventf(&vpc, nil, corev1.EventTypeWarning, ReasonInvalidTransit, "Link",
			"transit subnet %q is not an IPv4 prefix of at most /30", fed.TransitSubnet)
		return raceRetry(r.unlink(ctx, vpc.Name, &vpc))
	}
	subnet = subnet.Masked()
	// Isolation rests on one VPC per transit switch: a second local Vpc on the same switch
	// would learn the first one's routes. The hub never does that; refuse it if it happens.
	if first, err := r.firstOnTransit(ctx, fed.TransitSwitch); err != nil {
		return reconcile.Result{}, err
	} else if first != vpc.Name {
		r.events.Eventf(&vpc, nil, corev1.EventTypeWarning, ReasonTransitConflict, "Link",
			"transit switch %q is already used by vpc %q in this cluster", fed.TransitSwitch, first)
		return raceRetry(r.unlink(ctx, vpc.Name, &vpc))
	}

	gws, err := r.gateways(ctx, vpc.Name)
	if err != nil {
		return reconcile.Result{}, err
	}
	if len(gws) == 0 {
		// Without a gateway chassis the router port would be distributed while ovn-ic still
		// advertised its routes: the other AZs would send traffic into a black hole. So a
		// VPC without any gateway is not linked (and one that was is unlinked, which
		// withdraws its routes). A node event (label, ovn-is-interconn) brings it back.
		r.events.Eventf(&vpc, nil, corev1.EventTypeWarning, ReasonNoGateway, "Link",
			"no node matches %q with OVS external_ids:ovn-is-interconn=true; vpc is not linked to transit switch %q",
			r.cfg.GatewayNodeSelector, fed.TransitSwitch)
		if err := r.unlink(ctx, vpc.Name, nil); err != nil {
			return raceRetry(err)
		}
		return reconcile.Result{}, r.writeStatus(ctx, &vpc, &iaasv1.VpcInterconnectStatus{})
	}
	st := &iaasv1.VpcInterconnectStatus{GatewayChassis: gws}

	r.claimMu.RLock()
	defer r.claimMu.RUnlock()
	addr, err := r.claim(ctx, &vpc, subnet)
	if errors.Is(err, errClaimLost) {
		return reconcile.Result{RequeueAfter: 20 * time.Millisecond}, nil
	}
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("vpc %q: transit switch %q: %w", vpc.Name, fed.TransitSwitch, err)
	}
	o := Owner(r.cfg.Cluster, vpc.Name)
	held, err := OwnedTransits(r.dbs.nb.Cache(), o)
	if err != nil {
		return reconcile.Result{}, err
	}
	link := BuildLink(LinkInput{
		Cluster: r.cfg.Cluster, AZ: r.az, Vpc: vpc.Name,
		Tenant: fed.Tenant, FederatedVpc: fed.FederatedVpc, TransitSwitch: fed.TransitSwitch,
		Address: netip.PrefixFrom(addr, subnet.Bits()), Gateways: gws, GatewayMTU: r.cfg.GatewayMTU,
	})
	plan, err := PlanLink(r.dbs.nb.Cache(), link, o)
	if errors.Is(err, ErrRouterMissing) || errors.Is(err, ErrTransitNotInAZ) {
		// Normal ordering: ycloud-controller creates the router, ovn-ic copies the transit
		// switch; both show up as NB events that bring the VPC back. The delay is a safety
		// net only.
		log.FromContext(ctx).V(1).Info("waiting", "vpc", vpc.Name, "reason", err.Error())
		return reconcile.Result{RequeueAfter: 10 * time.Second}, r.writeStatus(ctx, &vpc, st)
	}
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("vpc %q: %w", vpc.Name, err)
	}
	if !plan.Empty() {
		if err := r.transact(ctx, r.dbs.nb, plan.Ops); err != nil {
			return reconcile.Result{}, fmt.Errorf("vpc %q: link to transit switch %q: %w", vpc.Name, fed.TransitSwitch, err)
		}
		r.events.Eventf(&vpc, nil, corev1.EventTypeNormal, ReasonLinked, "Link",
			"router %s linked to transit switch %s as %s, gateway chassis %v", link.Router, fed.TransitSwitch, link.RouterPort.Networks[0], gws)
	}
	// A federation that moved to another transit switch leaves a claim on the old one.
	for _, ts := range held {
		if ts != fed.TransitSwitch {
			if _, err := r.release(ctx, ts); err != nil {
				return reconcile.Result{}, fmt.Errorf("vpc %q: %w", vpc.Name, err)
			}
		}
	}
	st.TransitSwitch = fed.TransitSwitch
	st.LearnedRoutes, st.AdvertisedRoutes = r.routeCounts(link.Router, fed.TransitSwitch)
	learnedRoutes.WithLabelValues(vpc.Name).Set(float64(st.LearnedRoutes))
	advertisedRoutes.WithLabelValues(vpc.Name).Set(float64(st.AdvertisedRoutes))
	gatewayChassis.WithLabelValues(vpc.Name).Set(float64(len(gws)))
	return reconcile.Result{}, r.writeStatus(ctx, &vpc, st)
}

// unlink removes a VPC's interconnect rows from NB, then its claims from IC-NB (in that
// order: a transit switch deleted first would take our port with it, but ovn-ic would see
// the port vanish only after the switch, and a crash in between must leave nothing that
// still advertises routes). vpc is nil when the object is gone.
func (r *reconciler) unlink(ctx context.Context, name string, vpc *iaasv1.Vpc) error {
	o := Owner(r.cfg.Cluster, name)
	held, err := OwnedTransits(r.dbs.nb.Cache(), o)
	if err != nil {
		return err
	}
	plan, err := PlanUnlink(r.dbs.nb.Cache(), o)
	if err != nil {
		return err
	}
	if err := r.transact(ctx, r.dbs.nb, plan.Ops); err != nil {
		return fmt.Errorf("vpc %q: unlink: %w", name, err)
	}
	r.claimMu.RLock()
	for _, ts := range held {
		if err == nil {
			_, err = r.release(ctx, ts)
		}
	}
	if err == nil {
		_, err = r.releaseUnwanted(ctx)
	}
	r.claimMu.RUnlock()
	if err != nil {
		return fmt.Errorf("vpc %q: %w", name, err)
	}
	forgetVpcMetrics(name)
	if vpc != nil {
		return r.writeStatus(ctx, vpc, nil)
	}
	return nil
}

// firstOnTransit returns the name of the first (by name) local Vpc on transit switch ts.
func (r *reconciler) firstOnTransit(ctx context.Context, ts string) (string, error) {
	var list iaasv1.VpcList
	if err := r.client.List(ctx, &list, client.MatchingFields{indexTransitSwitch: ts}); err != nil {
		return "", err
	}
	names := make([]string, 0, len(list.Items))
	for _, v := range list.Items {
		names = append(names, v.Name)
	}
	if len(names) == 0 {
		return "", nil
	}
	return slices.Min(names), nil
}

// claim makes the VPC's transit switch exist in IC-NB with this AZ's address claimed on it,
// and returns the address.
func (r *reconciler) claim(ctx context.Context, vpc *iaasv1.Vpc, subnet netip.Prefix) (netip.Addr, error) {
	fed := vpc.Spec.Federation
	cur, err := r.transitSwitch(fed.TransitSwitch)
	if err != nil {
		return netip.Addr{}, err
	}
	var claims Claims
	if cur != nil {
		claims = ParseClaims(cur.ExternalIDs)
	}
	pbs, err := ovsdb.Lookup[icsb.PortBinding](r.dbs.icsb.Cache(), "transit_switch", fed.TransitSwitch)
	if err != nil {
		return netip.Addr{}, err
	}
	addr, err := PickTransitAddress(subnet, r.az, claims, usedAddresses(pbs, fed.TransitSwitch, r.azUUID()))
	if err != nil {
		return netip.Addr{}, err
	}
	ids := ovnnb.Owner{Kind: KindInterconnect, Key: fed.Tenant + "/" + fed.FederatedVpc, Cluster: r.cfg.Cluster}.
		IDs(KeyTenant, fed.Tenant, KeyFederatedVpc, fed.FederatedVpc)
	ops := PlanClaim(cur, TransitSpec{Name: fed.TransitSwitch, AZ: r.az, Addr: addr, IDs: ids})
	if len(ops) == 0 {
		return addr, nil
	}
	if err := r.transact(ctx, r.dbs.icnb, ops); err != nil {
		if isRaceLost(err) {
			claimConflicts.Inc()
			log.FromContext(ctx).V(1).Info("transit claim lost a race, retrying", "transitSwitch", fed.TransitSwitch, "address", addr, "err", err.Error())
			return netip.Addr{}, errClaimLost
		}
		return netip.Addr{}, fmt.Errorf("claim %s: %w", addr, err)
	}
	return addr, nil
}

// release drops this AZ's claims on transit switch ts, deleting the switch when it was the
// last AZ on it, or when it was left abandoned (see PlanReap), and the switch is ours. A
// switch a local Vpc uses is kept.
func (r *reconciler) release(ctx context.Context, ts string) (changed bool, err error) {
	if first, err := r.firstOnTransit(ctx, ts); err != nil || first != "" {
		return false, err
	}
	cur, err := r.transitSwitch(ts)
	if err != nil || cur == nil {
		return false, err
	}
	ops := PlanRelease(cur, r.az, ownedTransit)
	if len(ops) == 0 {
		ops = PlanReap(cur, ownedTransit)
	}
	if len(ops) == 0 {
		return false, nil
	}
	if err := r.transact(ctx, r.dbs.icnb, ops); err != nil {
		if isRaceLost(err) {
			claimConflicts.Inc()
		}
		return false, fmt.Errorf("release transit switch %q: %w", ts, err)
	}
	return true, nil
}

// releaseUnwanted releases this AZ's claims on every transit switch no local Vpc uses.
// Claims are found in IC-NB, not through our northbound rows: a Vpc may lose its
// federation between the claim and the link (the rows that would name the switch were
// never made), and a crash may come between the two transactions.
func (r *reconciler) releaseUnwanted(ctx context.Context) (released int, err error) {
	switches, err := ovsdb.List[icnb.TransitSwitch](r.dbs.icnb.Cache(), func(ts *icnb.TransitSwitch) bool {
		for k, v := range ts.ExternalIDs {
			if v == r.az && strings.HasPrefix(k, keyClaimPrefix) {
				return true
			}
		}
		return false
	})
	if err != nil {
		return 0, err
	}
	// A release that lost a race (another AZ changed the switch meanwhile) is an error
	// too: the caller's retry re-reads and releases again.
	var errs []error
	for _, ts := range switches {
		changed, err := r.release(ctx, ts.Name)
		if err != nil {
			errs = append(errs, err)
		}
		if changed {
			released++
		}
	}
	return released, errors.Join(errs...)
}

// reapAbandoned deletes transit switch ts when it is ours, holds no claim and no local Vpc
// uses it (see PlanReap).
func (r *reconciler) reapAbandoned(ctx context.Context, ts string) error {
	if first, err := r.firstOnTransit(ctx, ts); err != nil || first != "" {
		return err
	}
	cur, err := r.transitSwitch(ts)
	if err != nil {
		return err
	}
	ops := PlanReap(cur, ownedTransit)
	if len(ops) == 0 {
		return nil
	}
	if err := r.transact(ctx, r.dbs.icnb, ops); err != nil {
		if isRaceLost(err) {
			return nil // another AZ deleted it, or someone joined
		}
		return fmt.Errorf("delete abandoned transit switch %q: %w", ts, err)
	}
	log.FromContext(ctx).Info("deleted abandoned transit switch", "transitSwitch", ts)
	return nil
}

// ownedTransit reports whether a transit switch was created by ycloud-ic.
func ownedTransit(ids map[string]string) bool { return ids[ovnnb.KeyOwnerKind] == KindInterconnect }

func (r *reconciler) transitSwitch(name string) (*icnb.TransitSwitch, error) {
	rows, err := ovsdb.Lookup[icnb.TransitSwitch](r.dbs.icnb.Cache(), "name", name)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}

// azUUID returns this AZ's IC-SB Availability_Zone row ("" until ovn-ic registered it).
func (r *reconciler) azUUID() string {
	rows, _ := ovsdb.Lookup[icsb.AvailabilityZone](r.dbs.icsb.Cache(), "name", r.az)
	if len(rows) == 0 {
		return ""
	}
	return rows[0].UUID
}

// gateways returns the gateway chassis for a VPC, highest priority first: the nodes the
// selector picks, minus those whose chassis says it is not an interconnect gateway.
//
// A selected node whose chassis is absent from SB (ovn-controller stopped, or not started
// yet) stays: OVN itself skips a gateway chassis that is not there, and dropping it would
// reshuffle priorities on every restart. A chassis that is present without
// ovn-is-interconn=true is left out: ovn-ic does not publish it to the other AZs, which
// could therefore not tunnel to it.
func (r *reconciler) gateways(ctx context.Context, vpc string) ([]string, error) {
	var nodes corev1.NodeList
	if err := r.client.List(ctx, &nodes, client.MatchingLabelsSelector{Selector: r.selector}); err != nil {
		return nil, err
	}
	var eligible []string
	for _, n := range nodes.Items {
		ch := r.chassis(n.Name)
		if ch != nil && ch.OtherConfig[optIsInterconn] != "true" {
			continue
		}
		name := n.Name
		if ch != nil {
			name = ch.Name
		}
		eligible = append(eligible, name)
	}
	return OrderGateways(vpc, eligible, r.cfg.GatewaysPerVpc), nil
}

// chassis finds a node's SB chassis: by name (the system-id, which ycloud nodes set to the
// node name), else by hostname.
func (r *reconciler) chassis(node string) *sb.Chassis {
	c := r.dbs.sb.Cache()
	if rows, _ := ovsdb.Lookup[sb.Chassis](c, "name", node); len(rows) > 0 {
		return rows[0]
	}
	rows, _ := ovsdb.List[sb.Chassis](c, func(ch *sb.Chassis) bool { return ch.Hostname == node })
	if len(rows) > 0 {
		return rows[0]
	}
	return nil
}

// routeCounts counts the routes ovn-ic learned into the router and those this AZ advertises
// on the transit switch.
func (r *reconciler) routeCounts(router, ts string) (learned, advertised int32) {
	c := r.dbs.nb.Cache()
	if lrs, _ := ovsdb.Lookup[nb.LogicalRouter](c, "name", router); len(lrs) > 0 {
		for _, id := range lrs[0].StaticRoutes {
			if rt, err := ovsdb.GetByUUID[nb.LogicalRouterStaticRoute](c, id); err == nil && rt.ExternalIDs[extLearnedRoute] != "" {
				learned++
			}
		}
	}
	if az := r.azUUID(); az != "" {
		routes, _ := ovsdb.Lookup[icsb.Route](r.dbs.icsb.Cache(), "transit_switch", ts)
		for _, rt := range routes {
			if rt.AvailabilityZone == az {
				advertised++
			}
		}
	}
	return learned, advertised
}

func (r *reconciler) transact(ctx context.Context, c *ovsdb.Client, ops []ovsdb.Operation) error {
	if len(ops) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.OVSDBTimeout)
	defer cancel()
	_, err := c.Transact(ctx, ops...)
	return err
}

// raceRetry turns a transaction that lost a race with another AZ into a quick, quiet retry
// (the cache will have caught up by then); other errors go to the rate-limited retry.
func raceRetry(err error) (reconcile.Result, error) {
	if err != nil && isRaceLost(err) {
		return reconcile.Result{RequeueAfter: 50 * time.Millisecond}, nil
	}
	return reconcile.Result{}, err
}

// isRaceLost reports whether a transaction failed because of a concurrent writer: a wait
// that no longer held, or a unique index (the transit switch name) another AZ filled first.
func isRaceLost(err error) bool {
	return ovsdb.IsError(err, ovsdb.ErrTimedOut) || ovsdb.IsError(err, ovsdb.ErrConstraintViolation)
}
