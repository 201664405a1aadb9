#!/usr/bin/env bash
# install-deps.sh: make this machine able to run the ycloud lab and tests.
#
# Idempotent and cheap on a second run: every artefact is keyed by its version under
# $YCLOUD_CACHE (default $HOME/.cache/ycloud), outside the clone, so a fresh clone on the same
# machine links the cached binaries into bin/ instead of rebuilding them. Only the Go module
# proxy and Debian's package archive are used.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
CACHE=${YCLOUD_CACHE:-$HOME/.cache/ycloud}
BIN="$top/bin"
mkdir -p "$CACHE" "$BIN"

log() { printf 'install-deps: %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
# The services these packages ship must never auto-start: the lab runs its own copies in network
# namespaces, and a system ovsdb-server would grab the default sockets. policy-rc.d says so to
# invoke-rc.d during the install.
DEB_PKGS=(ovn-central ovn-host ovn-ic ovn-ic-db openvswitch-switch openvswitch-common
  iproute2 ethtool iperf3 tcpdump containerd runc busybox-static iptables conntrack socat
  procps psmisc util-linux kmod jq openssl)
missing=()
for p in "${DEB_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Go-built binaries, cached by version ---------------------------------------------------
link() { ln -sfn "$1" "$BIN/$(basename "$1")"; }

build_kube() {
  local out="$CACHE/kubernetes-$KUBE_VERSION" minor
  local bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
  local ok=1
  for b in "${bins[@]}"; do [ -x "$out/$b" ] || ok=0; done
  if [ $ok = 0 ]; then
    log "building kubernetes $KUBE_VERSION (${bins[*]}); takes several minutes on 2 cores"
    local w="$CACHE/build/kubernetes-$KUBE_VERSION"
    rm -rf "$w"; mkdir -p "$w"
    # k8s.io/kubernetes requires its staging modules at v0.0.0 with replace lines pointing into
    # its own tree; a consumer must map each of them to the published version instead.
    local staging="v0${KUBE_VERSION#v1}"
    (
      cd "$w"
      cat >go.mod <<MOD
module ycloud.local/kubebuild

go 1.26

require k8s.io/kubernetes $KUBE_VERSION
MOD
      local mod
      mod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
      grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$mod" | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}' >>go.mod
      printf 'package kubebuild\n\nimport (\n' >tools.go
      for b in "${bins[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$b" >>tools.go; done
      printf ')\n' >>tools.go
      go mod tidy >/dev/null 2>&1 || go mod tidy
      minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
      local V=k8s.io/component-base/version
      mkdir -p "$out.tmp"
      CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
        -ldflags "-s -w -X $V.gitVersion=$KUBE_VERSION -X $V.gitMajor=1 -X $V.gitMinor=$minor -X $V.gitTreeState=clean" \
        -o "$out.tmp/" $(for b in "${bins[@]}"; do echo "k8s.io/kubernetes/cmd/$b"; done)
    )
    rm -rf "$out"; mv "$out.tmp" "$out"
  fi
  for b in "${bins[@]}"; do link "$out/$b"; done
}

build_etcd() {
  local out="$CACHE/etcd-$ETCD_VERSION"
  if [ ! -x "$out/etcd" ]; then
    log "building etcd $ETCD_VERSION"
    local w="$CACHE/build/etcd-$ETCD_VERSION"
    rm -rf "$w"; mkdir -p "$w"
    (
      cd "$w"
      printf 'module ycloud.local/etcdbuild\n\ngo 1.26\n' >go.mod
      printf 'package etcdbuild\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >tools.go
      GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
      go mod tidy >/dev/null 2>&1 || true
      mkdir -p "$out.tmp"
      CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3
    )
    rm -rf "$out"; mv "$out.tmp" "$out"
  fi
  link "$out/etcd"
}

# go_tool NAME PACKAGE VERSION: `go install` a pinned tool into its own versioned directory.
go_tool() {
  local name=$1 pkg=$2 ver=$3 out="$CACHE/tools/$1-$3"
  if [ ! -x "$out/$name" ]; then
    log "installing $name $ver"
    mkdir -p "$out"
    GOBIN="$out" GOFLAGS= go install "$pkg@$ver"
  fi
  link "$out/$name"
}

build_cni_plugins() {
  local out="$CACHE/cni-plugins-$CNI_PLUGINS_VERSION"
  local plugins=(main/bridge ipam/host-local main/loopback)
  if [ ! -x "$out/bridge" ] || [ ! -x "$out/host-local" ] || [ ! -x "$out/loopback" ]; then
    log "building reference CNI plugins $CNI_PLUGINS_VERSION"
    mkdir -p "$out"
    for p in "${plugins[@]}"; do
      CGO_ENABLED=0 GOBIN="$out" GOFLAGS= go install "github.com/containernetworking/plugins/plugins/$p@$CNI_PLUGINS_VERSION"
    done
  fi
  mkdir -p "$BIN/cni"
  for p in bridge host-local loopback; do ln -sfn "$out/$p" "$BIN/cni/$p"; done
}

# Independent builds run in parallel; kubernetes dominates the wall time.
pids=()
build_kube & pids+=($!)
build_etcd & pids+=($!)
{
  go_tool controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen "$CONTROLLER_TOOLS_VERSION"
  go_tool staticcheck honnef.co/go/tools/cmd/staticcheck "$STATICCHECK_VERSION"
  go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
  build_cni_plugins
} & pids+=($!)
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
if [ $rc != 0 ]; then log "FAILED"; exit 1; fi
