// Package labe2e is the lab's own end-to-end test: it brings a hub and one spoke of two real
// kubelet nodes up and down twice with the reference CNI, runs pods of the test image, execs
// into them through the apiserver, and checks that nothing of the lab is left on the host.
// It needs root.
package labe2e
