// Package qos turns a pod interface's rate annotations into the OVS QoS configuration of
// its port, as the product specification (seed 000, section 2.2.9) gives it:
//
//	# pod egress 10 Mbit/s: the OVS interface's ingress
//	ovs-vsctl set interface $if ingress_policing_rate=10000 ingress_policing_burst=10000
//	# pod ingress 4 Mbit/s: the OVS port's egress
//	ovs-vsctl set port $port qos=@newqos -- \
//	  --id=@newqos create qos type=linux-htb queues=0=@q0 -- \
//	  --id=@q0 create queue other-config:max-rate=4000000
//
// Rates are Mbit/s in the annotations (cni.iaas.yusur.io/ingress_rate, egress_rate, or
// the <ifname>.iaas.yusur.io/ form), kbit/s in ingress_policing_rate and bit/s in the
// queue's max-rate. The policing burst is set equal to the rate in kbit, as the
// specification's example does; the queue also gets a burst (see OVS.Burst).
//
// # What the userspace (netdev) datapath enforces — measured on OVS 3.1, kernel here
//
// Pod ingress (linux-htb on the Port) IS enforced: the port is the host end of a veth,
// opened by ovs-vswitchd as a netdev-linux device; packets it outputs are sent through an
// AF_PACKET socket, which goes through the device's root qdisc, and OVS installs the HTB
// qdisc and classes there (queue 0 is the default class). 20 Mbit/s measured 19.1. We
// add other_config:burst to the specification's queue (see OVS.Burst): with OVS's
// default one-frame burst, TCP through the class lost 10-20% of the limit.
//
// Pod egress (ingress_policing_rate) is NOT enforced on this datapath, for two reasons:
// OVS implements it with a tc ingress qdisc and a policing filter on the kernel device,
// but the userspace datapath receives through an AF_PACKET socket, which sees packets
// before the ingress qdisc does; and this kernel has neither cls_basic/matchall nor
// act_police (vswitchd logs "adding cls_basic policing action failed"). 20 Mbit/s
// configured, 1.5 Gbit/s measured. OVS's own userspace policers (egress-policer,
// trtcm-policer) exist only for DPDK ports.
//
// So the daemon writes the specification's model into OVSDB (it is the configuration of
// record, and what the kernel datapath enforces) and, on the netdev
// datapath only, also enforces the egress limit where the kernel can: a token bucket
// (tbf) on the pod's end of the veth, which shapes what the pod sends before OVS ever
// sees it (nic.NIC.SetEgressLimit). Shaping at the sender also gives TCP backpressure
// instead of drops, so the rate holds smoothly. A pod with CAP_NET_ADMIN could remove
// that qdisc; pods that must not should not get that capability.
package qos

import (
	"fmt"
	"strconv"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
)

// Limits are the rate limits of one pod interface, in Mbit/s; 0 means unlimited.
type Limits struct {
	// Ingress limits traffic towards the pod.
	Ingress int32
	// Egress limits traffic the pod sends.
	Egress int32
}

// FromAnnotations reads the limits of interface ifName from a pod's annotations. A
// missing annotation means no limit; a malformed one is an error naming it.
func FromAnnotations(annotations map[string]string, ifName string) (Limits, error) {
	var l Limits
	for _, f := range []struct {
		key string
		dst *int32
	}{{iaasv1.KeyIngressRate, &l.Ingress}, {iaasv1.KeyEgressRate, &l.Egress}} {
		v, ok := iaasv1.LookupInterfaceAnnotation(annotations, ifName, f.key)
		if !ok {
			continue
		}
		rate, err := iaasv1.ParseRate(v)
		if err != nil {
			return Limits{}, fmt.Errorf("annotation %s: %w", iaasv1.InterfaceAnnotationKey(ifName, f.key), err)
		}
		*f.dst = rate
	}
	return l, nil
}

// OVS is the QoS configuration of one OVS port, in the units of the Open_vSwitch schema.
type OVS struct {
	// PolicingRate and PolicingBurst are Interface.ingress_policing_rate (kbit/s) and
	// ingress_policing_burst (kbit): the pod's egress limit. 0 disables policing.
	PolicingRate, PolicingBurst int
	// MaxRate is the other_config:max-rate (bit/s) of queue 0 of the Port's linux-htb
	// QoS: the pod's ingress limit. 0 means the port has no QoS row.
	MaxRate int64
	// Burst is that queue's other_config:burst (bits), a tenth of a second at MaxRate.
	// Without it OVS leaves the HTB class a burst of one frame; the class queue then
	// overflows under TCP and goodput lands 10-20% under the limit (measured at 50
	// Mbit/s: 41-45 without, 47.8 with, which is the limit less header overhead).
	Burst int64
}

// HTBType is the QoS type the specification uses for pod ingress.
const HTBType = "linux-htb"

// ToOVS builds the OVS configuration for l.
func (l Limits) ToOVS() OVS {
	var o OVS
	if l.Egress > 0 {
		o.PolicingRate = int(l.Egress) * 1000
		o.PolicingBurst = o.PolicingRate
	}
	if l.Ingress > 0 {
		o.MaxRate = int64(l.Ingress) * 1000 * 1000
		o.Burst = o.MaxRate / 10
	}
	return o
}

// FromOVS recovers the limits from an OVS configuration (the daemon reads back what it
// wrote after a restart).
func FromOVS(o OVS) Limits {
	return Limits{Ingress: int32(o.MaxRate / 1000 / 1000), Egress: int32(o.PolicingRate / 1000)}
}

// QueueConfig returns the other_config of queue 0 for o.
func (o OVS) QueueConfig() map[string]string {
	return map[string]string{"max-rate": strconv.FormatInt(o.MaxRate, 10), "burst": strconv.FormatInt(o.Burst, 10)}
}

// FromQueueConfig reads MaxRate and Burst back from a queue's other_config.
func (o *OVS) FromQueueConfig(other map[string]string) {
	o.MaxRate = parseBits(other["max-rate"])
	o.Burst = parseBits(other["burst"])
}

// parseBits reads a non-negative integer (0 when absent or malformed).
func parseBits(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0
	}
	return v
}
