#!/usr/bin/env bash
# demo.sh: the product's main job on one machine; `make demo` runs deps and build first.
#
# `ycloud-lab demo` (test/lab/demo) brings up a hub (ycloud-hub, OCM placement stand-in) and
# two spokes of two real kubelet nodes each (ycloud-controller, ycloud-ic, ycloud-cni and the
# ycloud CNI plugin on real OVN and OVN-IC, an OCM work agent stand-in); applies
# deploy/samples (federation and OCM kinds on the hub); places two tenants' FederatedVpcs
# with the same CIDR on both spokes; runs Deployments of the test image; checks the data path
# with real packets (across clusters per tenant and isolated between tenants, same node,
# across nodes, node -> pod, two VPCs with the same CIDR on one spoke); prints a summary and
# takes the lab down again. Arguments go to `ycloud-lab demo` (--keep leaves the
# lab running; --help lists the rest). It needs root: network namespaces, mounts, cgroups.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${YCLOUD_BIN:-$PWD/bin}
if [ "$(id -u)" != 0 ]; then
  echo "demo.sh: the lab needs root (network namespaces, mounts, cgroups)" >&2
  exit 1
fi
for b in ycloud-lab ycloud ycloud-cni ycloud-controller ycloud-ic ycloud-hub ocm-standin; do
  if [ ! -x "$BIN/$b" ]; then
    echo "demo.sh: $BIN/$b is missing: run make build (make demo does)" >&2
    exit 1
  fi
done
exec "$BIN/ycloud-lab" demo "$@"
