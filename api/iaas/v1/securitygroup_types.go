/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Security-group priorities. A smaller number is a higher precedence (the seed's convention);
// the controller maps them onto OVN ACL priorities with an offset, reversed, so they never
// collide with flows OVN hard-codes.
const (
	// SecurityGroupUserPriorityMin and SecurityGroupUserPriorityMax bound user rules.
	SecurityGroupUserPriorityMin = 1
	SecurityGroupUserPriorityMax = 80
	// 81..89 are reserved for future use and refused.

	// SecurityGroupSystemPriorityMin and SecurityGroupSystemPriorityMax bound the rules the
	// controller adds to every group; users cannot write them.
	SecurityGroupSystemPriorityMin = 90
	SecurityGroupSystemPriorityMax = 100

	// SecurityGroupPriorityBasic: ingress ARP, ICMP echo request and DHCP offer are allowed.
	SecurityGroupPriorityBasic = 95
	// SecurityGroupPrioritySameGroup: traffic between members is allowed (allowSameGroup).
	SecurityGroupPrioritySameGroup = 96
	// SecurityGroupPriorityDefault: ingress is denied, egress is allowed.
	SecurityGroupPriorityDefault = 97
)

// SecurityGroupAction is what a rule does with matching traffic.
// +kubebuilder:validation:Enum=allow;deny
type SecurityGroupAction string

const (
	SecurityGroupAllow SecurityGroupAction = "allow"
	SecurityGroupDeny  SecurityGroupAction = "deny"
)

// SecurityGroupProtocol is the protocol a rule matches.
//
// "icmp" follows the rule's ipVersion: ICMP for ipv4, ICMPv6 for ipv6, so there is no separate
// icmpv6 value to contradict ipVersion. ARP is not offered: it is layer 2, has no remote IP
// address to match, and the system rule at priority 95 already allows it; a user rule could
// only break address resolution.
// +kubebuilder:validation:Enum=all;tcp;udp;sctp;icmp
type SecurityGroupProtocol string

const (
	ProtocolAll  SecurityGroupProtocol = "all"
	ProtocolTCP  SecurityGroupProtocol = "tcp"
	ProtocolUDP  SecurityGroupProtocol = "udp"
	ProtocolSCTP SecurityGroupProtocol = "sctp"
	ProtocolICMP SecurityGroupProtocol = "icmp"
)

// SecurityGroupIPVersion is the address family a rule matches.
// +kubebuilder:validation:Enum=ipv4;ipv6
type SecurityGroupIPVersion string

const (
	SecurityGroupIPv4 SecurityGroupIPVersion = "ipv4"
	SecurityGroupIPv6 SecurityGroupIPVersion = "ipv6"
)

// PortRange is an inclusive range of layer-4 ports; end unset means the single port start.
//
// +kubebuilder:validation:XValidation:rule="!has(self.end) || self.start <= self.end",message="start must not be greater than end"
type PortRange struct {
	// Start is the first port.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Start int32 `json:"start"`

	// End is the last port; unset means start.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	End int32 `json:"end,omitempty"`
}

// SecurityGroupRule is one user rule. The remote side is an address/network or the members of
// another security group, exactly one of the two (write 0.0.0.0/0 or ::/0 for "any").
//
// +kubebuilder:validation:XValidation:rule="has(self.remoteAddress) != has(self.remoteSecurityGroup)",message="exactly one of remoteAddress and remoteSecurityGroup is required (use 0.0.0.0/0 or ::/0 for any address)"
// +kubebuilder:validation:XValidation:rule="!has(self.remoteAddress) || self.remoteAddress.contains(':') == (has(self.ipVersion) && self.ipVersion == 'ipv6')",message="remoteAddress must be of the rule's ipVersion (ipv4 unless set)",fieldPath=".remoteAddress"
// +kubebuilder:validation:XValidation:rule="!has(self.portRange) || (has(self.protocol) && self.protocol in ['tcp', 'udp', 'sctp'])",message="portRange is only allowed with protocol tcp, udp or sctp",fieldPath=".portRange"
type SecurityGroupRule struct {
	// Priority of the rule, 1..80; a smaller number wins. 81..89 are reserved and 90..100 are
	// the system rules the controller adds to every group.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:XValidation:rule="self <= 80",message="user rules use priorities 1..80: 81..89 are reserved, and 90..100 are system rules reserved to the controller"
	Priority int32 `json:"priority"`

	// Action is allow or deny.
	// +required
	Action SecurityGroupAction `json:"action"`

	// Protocol matched; default all.
	// +optional
	// +kubebuilder:default=all
	Protocol SecurityGroupProtocol `json:"protocol,omitempty"`

	// IPVersion matched; default ipv4.
	// +optional
	// +kubebuilder:default=ipv4
	IPVersion SecurityGroupIPVersion `json:"ipVersion,omitempty"`

	// RemoteAddress is the peer address or network: the source of ingress traffic, the
	// destination of egress traffic.
	// +optional
	RemoteAddress IPOrCIDR `json:"remoteAddress,omitempty"`

	// RemoteSecurityGroup makes the peers the members of that group (any cluster of a
	// federated VPC, once the hub mirrors it).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	RemoteSecurityGroup string `json:"remoteSecurityGroup,omitempty"`

	// PortRange of the local port for ingress, of the remote port for egress (tcp, udp and
	// sctp only); unset means every port.
	// +optional
	PortRange *PortRange `json:"portRange,omitempty"`

	// Description for humans.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Description string `json:"description,omitempty"`
}

// SecurityGroupSpec is the desired state of a SecurityGroup.
type SecurityGroupSpec struct {
	// AllowSameGroup lets members talk to each other freely (system rule 96, both ways).
	// +optional
	AllowSameGroup bool `json:"allowSameGroup,omitempty"`

	// IngressRules control traffic towards members ("下行": the outside reaching the
	// resource). Unmatched ingress is denied.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	IngressRules []SecurityGroupRule `json:"ingressRules,omitempty"`

	// EgressRules control traffic members send ("上行"). Unmatched egress is allowed.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	EgressRules []SecurityGroupRule `json:"egressRules,omitempty"`
}

// SecurityGroupStatus is the observed state of a SecurityGroup.
type SecurityGroupStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// PortGroup is the OVN Port_Group of the members.
	// +optional
	PortGroup string `json:"portGroup,omitempty"`

	// AppliedPorts counts the logical switch ports the group is applied to.
	// +optional
	AppliedPorts int32 `json:"appliedPorts,omitempty"`
}

// SecurityGroup is a virtual firewall for Vnics: user rules plus the system rules below,
// realised as an OVN Port_Group, Address_Sets and ACLs. A port in no group is not filtered.
//
// System rules the controller adds to every group (priorities 90..100; users cannot write
// them, nor 81..89):
//
//	ingress (towards members; default deny)
//	  allow 95  arp                     any             address resolution
//	  allow 95  icmp echo request       any             ping
//	  allow 95  dhcp offer              any             address configuration
//	  allow 96  all                     group members   only when allowSameGroup
//	  deny  97  all                     any             default deny
//	egress (from members; default allow)
//	  allow 96  all                     group members   only when allowSameGroup
//	  allow 97  all                     any             default allow
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=sg,categories=ycloud
// +kubebuilder:printcolumn:name="SameGroup",type=boolean,JSONPath=`.spec.allowSameGroup`
// +kubebuilder:printcolumn:name="Ports",type=integer,JSONPath=`.status.appliedPorts`
// +kubebuilder:printcolumn:name="PortGroup",type=string,JSONPath=`.status.portGroup`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SecurityGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec SecurityGroupSpec `json:"spec,omitempty"`
	// +optional
	Status SecurityGroupStatus `json:"status,omitempty"`
}

// SecurityGroupList is a list of SecurityGroups.
//
// +kubebuilder:object:root=true
type SecurityGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SecurityGroup `json:"items"`
}

func init() {
	register(&SecurityGroup{}, &SecurityGroupList{})
}
