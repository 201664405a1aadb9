// Package lab starts and stops the ycloud lab on one machine, without Docker: a hub cluster,
// N spoke clusters of M real Kubernetes nodes each, OVN per spoke and OVN interconnect.
// cmd/ycloud-lab is its command line; e2e tests use it directly:
//
//	l, err := lab.Up(ctx, lab.Config{Dir: dir, Clusters: 1, Nodes: 2})
//	defer l.Down(ctx)
//	cs, _ := l.Client("spoke1")
//	res, err := l.Exec(ctx, "spoke1", "default", "mypod", "ynettest", "tcp-rr", "--addr", ip+":7000")
//
// What runs (every process logs to <dir>/logs/<name>.log; `ycloud-lab status` lists them):
//
//	hub:       etcd, kube-apiserver (127.0.0.1) with our CRDs and the OCM CRDs,
//	           [ycloud-hub], the placement stand-in (ocm-standin placement); every spoke
//	           is registered: a namespace and a ManagedCluster in the set "default"
//	spoke c:   etcd, kube-apiserver (on the root veth, reachable from nodes),
//	           kube-controller-manager, kube-scheduler, [ycloud-controller], [ycloud-ic],
//	           the work agent stand-in (ocm-standin work-agent),
//	           OVN NB + SB ovsdb-servers, ovn-northd, ovn-ic (AZ name = spoke name)
//	global:    OVN IC-NB and IC-SB ovsdb-servers
//	node:      network namespace + private mount namespace (nodeinit) running ovsdb-server,
//	           ovs-vswitchd (netdev datapath), ovn-controller, [ycloud-cni], containerd and a
//	           kubelet registered to its spoke with the CNI configuration of Config.CNI
//
// Components in brackets are ours. With Config.CNI = CNIYcloud they are the data path and
// required (Up fails when bin/ycloud, bin/ycloud-cni or bin/ycloud-controller is missing:
// make build): every node's only CNI network is the ycloud plugin, which talks to the
// node's ycloud-cni; ycloud-controller allocates pods and nodes into OVN; Up returns once
// the controller is synced, every ycloud-cni is healthy and every node's management port
// is bound (ycloud.go). With the reference CNI they run when built, otherwise they are
// reported as "not built". ycloud-hub, ycloud-ic and the OCM stand-ins (test/ocm, binary
// ocm-standin; DESIGN.md section 6) run in every mode when built (federation.go), and Up
// waits for their health endpoints. Nodes of Config.ICGateways get the kubelet label
// iaas.yusur.io/ic-gateway=true; ycloud-cni turns it into OVS ovn-is-interconn (the lab
// writes that key itself with the reference CNI). Nothing is ever restarted: a crashed process shows as DEAD in
// Status and fails CheckProcesses, so tests notice.
//
// NodeExec (`ycloud-lab node-exec`) runs a command in a node's namespaces; with Ynettest
// it probes pods from the node, through its management port. Package test/lab/demo is
// `ycloud-lab demo` (make demo); test/lab/labtest holds what e2e tests of the lab share.
//
// Images come from package test/images (a static pause binary, busybox-static and our
// ynettest tool), imported into every node's containerd; pods must use imagePullPolicy
// Never. Go binaries the lab builds (pause, ynettest, nodeinit) are cached by content hash
// in Config.CacheDir, so a second Up builds nothing.
//
// # State and idempotence
//
// <dir>/state.json records every process (PID and start time, so a recycled PID is never
// signalled) and every change made outside <dir>, before it is made. Status and Down work
// from a new process; Down undoes exactly what the state lists, also after a failed Up. Up
// on a directory whose lab has the requested shape does nothing; another shape is an error.
//
// # Changes to the host
//
// The root network namespace gets one veth end, <prefix>-root, holding the first address of
// the underlay /16 (so spoke apiservers can listen where nodes reach them) with its transmit
// checksum offload off (see network.go), plus the connected route the kernel adds for it.
// No other address, route, sysctl or firewall rule changes in the root namespace. Outside
// networking the lab creates:
//   - network namespaces <prefix>-ul (underlay bridge) and <prefix>-<node>;
//   - the /run/netns bind mount that `ip netns add` makes, when it did not exist yet
//     (removed by Down when no namespace is left in it);
//   - cgroups <prefix>-<node> in every cgroup v1 hierarchy (kubelet cgroupRoot; the node's
//     daemons in pids:<prefix>-<node>/daemons).
//
// Down stops every process (a node's whole cgroup tree: daemons, containerd shims, pods),
// deletes the namespaces (which takes the veths and the root link with them), the cgroups and
// that mount, and checks that the kubelet-related host sysctls still hold the values recorded
// at Up. Nodes never change them: each node's mount namespace shows its kubelet files with
// the values the kubelet wants in place of /proc/sys/{vm,kernel}/..., so it has nothing to
// write (the kubelet otherwise rewrites vm.overcommit_memory, kernel.panic, ... host-wide).
//
// # Namespaces and threads
//
// The lab never calls setns from Go: a Go program's threads are shared by goroutines, and a
// thread left in another namespace poisons whatever runs on it next. Every command that
// must run in a namespace is exec'd through `ip -n`, `nsenter`, or started inside one by
// the kernel (SysProcAttr.Unshareflags for the node's mount namespace).
package lab
