package nb

// Values of LogicalSwitchPort.Type, from ovn-nb(5). The schema declares the column as
// a free string (new OVN releases add types), so the generator has no enum to emit;
// these are written by hand, named the way the generator names enum constants. If a
// later schema turns the column into an enum, the generated constants will clash
// with these at compile time: delete this file then.
const (
	// LogicalSwitchPortTypeVIF (the empty string) is a VM or container interface.
	LogicalSwitchPortTypeVIF = ""
	// LogicalSwitchPortTypeRouter connects to the logical router port named by
	// options:router-port.
	LogicalSwitchPortTypeRouter = "router"
	// LogicalSwitchPortTypeLocalnet connects to a physical network through
	// options:network_name.
	LogicalSwitchPortTypeLocalnet = "localnet"
	// LogicalSwitchPortTypeLocalport exists on every chassis and is never tunnelled.
	LogicalSwitchPortTypeLocalport = "localport"
	// LogicalSwitchPortTypeL2gateway connects to a physical network through a chassis.
	LogicalSwitchPortTypeL2gateway = "l2gateway"
	// LogicalSwitchPortTypeVTEP is a port to a logical switch on a VTEP gateway.
	LogicalSwitchPortTypeVTEP = "vtep"
	// LogicalSwitchPortTypeExternal is a port for a host outside the hypervisors,
	// bound to the chassis of its ha_chassis_group.
	LogicalSwitchPortTypeExternal = "external"
	// LogicalSwitchPortTypeVirtual is a virtual IP owned by one of
	// options:virtual-parents at a time.
	LogicalSwitchPortTypeVirtual = "virtual"
	// LogicalSwitchPortTypeRemote is a port in another availability zone (OVN-IC).
	LogicalSwitchPortTypeRemote = "remote"
)
