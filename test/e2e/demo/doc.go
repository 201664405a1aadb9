// Package demoe2e is the end-to-end test of `make demo`: it runs the demo (test/lab/demo)
// twice in a row, each time bringing a lab up with the ycloud CNI (our ycloud-controller,
// ycloud-cni and CNI plugin, built from this checkout), checking the data path with real
// packets and taking the lab down, and then checks that the host is as before: no network
// namespace, mount, cgroup, link or process of the lab is left. It needs root.
package demoe2e
