// Command ycloud is the CNI plugin the container runtime executes. It forwards every call
// to the ycloud-cni daemon on the node; see package cni/shim.
package main

import "github.com/ycloud-sdn/ycloud/cni/shim"

func main() { shim.Main("ycloud CNI plugin: forwards to the ycloud-cni node daemon") }
