// Package schemas holds copies of the OVSDB schema files the model packages are
// generated from, so that generation is reproducible on any machine:
//
//	ovn-nb.ovsschema     OVN_Northbound 7.0.0     (OVN 23.03, /usr/share/ovn)
//	ovn-sb.ovsschema     OVN_Southbound 20.27.0   (OVN 23.03, /usr/share/ovn)
//	ovn-ic-nb.ovsschema  OVN_IC_Northbound 1.0.0  (OVN 23.03, /usr/share/ovn)
//	ovn-ic-sb.ovsschema  OVN_IC_Southbound 1.1.1  (OVN 23.03, /usr/share/ovn)
//	vswitch.ovsschema    Open_vSwitch 8.3.1       (OVS 3.1, /usr/share/openvswitch)
//
// The files are data, copied unchanged. The package's test compares them with the
// installed files where those exist, so that an OVN or OVS upgrade on the machine is
// noticed: then copy the new files here and run "go generate ./internal/ovsdb/...".
package schemas
