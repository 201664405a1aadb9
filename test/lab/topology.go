package lab

import (
	"fmt"
	"net/netip"
	"path/filepath"
)

// Address plan. Everything is derived from the shape, so a state file written by one
// process means the same thing to the next.
//
//	underlay /16 (default 10.250.0.0/16), one L2 segment (bridge br-ul in <prefix>-ul):
//	  .0.1          root namespace end of the veth <prefix>-root (spoke apiservers bind here)
//	  .<c>.<10+j>   node j of spoke c, on its br-phy internal port (tunnel IP and node IP)
//	pods: spoke c owns 10.<128+c>.0.0/16; with the reference CNI node j gets
//	  10.<128+c>.<j>.0/24, with the ycloud CNI it is subnet ovn-default of VPC ovn-cluster
//	join (ycloud CNI): spoke c's node management ports live in 100.<64+c>.0.0/16 (not
//	  100.64.0.0/16: the samples' EIP networks are there)
//	services: 10.96.0.0/16 in every cluster (clusters are separate)
var (
	podSupernet = netip.MustParsePrefix("10.128.0.0/10")
	serviceCIDR = "10.96.0.0/16"
	// kubernetesServiceIP is the first address of serviceCIDR: the apiserver's certificate
	// must name it for in-cluster clients.
	kubernetesServiceIP = "10.96.0.1"
)

// HubName is the hub cluster's name.
const HubName = "hub"

// SpokeName returns the name of spoke c (1-based).
func SpokeName(c int) string { return fmt.Sprintf("spoke%d", c) }

// NodeName returns the Kubernetes node name (and OVN chassis name) of node j of spoke c.
func NodeName(c, j int) string { return fmt.Sprintf("%s-n%d", SpokeName(c), j) }

// plan computes names and addresses of a lab of the given shape in dir.
func plan(cfg Config) (*State, error) {
	ul := netip.MustParsePrefix(cfg.Underlay).Addr().As4()
	ip := func(b3, b4 int) string { return netip.AddrFrom4([4]byte{ul[0], ul[1], byte(b3), byte(b4)}).String() }
	st := &State{
		Version:    stateVersion,
		Config:     cfg,
		Shape:      cfg.shape(),
		Underlay:   cfg.Underlay,
		RootIP:     ip(0, 1),
		UnderlayNS: cfg.Prefix + "-ul",
		RootLink:   cfg.Prefix + "-root",
		IC: ICInfo{
			NB: "unix:" + filepath.Join(cfg.Dir, "ic", "ic-nb.sock"),
			SB: "unix:" + filepath.Join(cfg.Dir, "ic", "ic-sb.sock"),
		},
	}
	st.Clusters = append(st.Clusters, &ClusterInfo{Name: HubName, Role: RoleHub, BindIP: "127.0.0.1"})
	for c := 1; c <= cfg.Clusters; c++ {
		name := SpokeName(c)
		cdir := filepath.Join(cfg.Dir, "clusters", name)
		ci := &ClusterInfo{
			Name:    name,
			Role:    RoleSpoke,
			Index:   c,
			BindIP:  st.RootIP,
			PodCIDR: fmt.Sprintf("10.%d.0.0/16", 128+c),
			// Distinct per spoke, so that interconnecting default VPCs later never meets
			// two join subnets with the same prefix.
			JoinCIDR: fmt.Sprintf("100.%d.0.0/16", 64+c),
			NB:       "unix:" + filepath.Join(cdir, "ovn", "nb.sock"),
			SB:       "unix:" + filepath.Join(cdir, "ovn", "sb.sock"),
		}
		for j := 1; j <= cfg.Nodes; j++ {
			n := NodeName(c, j)
			ndir := filepath.Join(cfg.Dir, "nodes", n)
			ci.Nodes = append(ci.Nodes, &NodeInfo{
				Name:         n,
				Cluster:      name,
				Index:        j,
				NetNS:        cfg.Prefix + "-" + n,
				IP:           ip(c, 10+j),
				PodCIDR:      fmt.Sprintf("10.%d.%d.0/24", 128+c, j),
				Dir:          ndir,
				Cgroup:       cfg.Prefix + "-" + n,
				OVSDB:        "unix:" + filepath.Join(ndir, "ovs", "db.sock"),
				CNISocket:    filepath.Join(ndir, "run", "ycloud-cni.sock"),
				UnderlayLink: fmt.Sprintf("c%dn%d", c, j),
				ICGateway:    j <= cfg.ICGateways,
			})
		}
		st.Clusters = append(st.Clusters, ci)
	}
	for _, ci := range st.Clusters {
		ci.Dir = filepath.Join(cfg.Dir, "clusters", ci.Name)
		ci.Kubeconfig = filepath.Join(ci.Dir, "admin.kubeconfig")
	}
	return st, nil
}
