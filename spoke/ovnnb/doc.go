// Package ovnnb turns ycloud objects into OVN northbound rows.
//
// It has two halves. The builders (Build*) are pure functions from API objects to the rows
// we want, so most tests sit on them without any server. The Plan* functions compare those
// desired rows with what the client cache holds and append the operations that close the
// gap to a caller's list; only reconcilers send a transaction, one per reconcile.
//
// Ownership is data: every row we create carries external_ids naming the object that owns
// it (KeyOwnerKind, KeyOwner, KeyCluster, and KeyVpc where it applies). Garbage collection
// is the set of owned rows minus the desired ones, and a row whose owner is gone is ours to
// delete; a row without our keys is never touched.
//
// The topology one VPC with two subnets produces:
//
//	               Logical_Router vpc-<vpc>
//	             /                        \
//	LRP vpc-<vpc>-<subnet1>          LRP vpc-<vpc>-<subnet2>     (gateway IP + MAC)
//	        |                                  |
//	LSP <subnet1>-vpc-<vpc> (router)   LSP <subnet2>-vpc-<vpc> (router)
//	Logical_Switch <subnet1>           Logical_Switch <subnet2>
//	   |      |                              |
//	LSP <vnic>.<namespace> ...            pods' ports
package ovnnb
