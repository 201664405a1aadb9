package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/containernetworking/plugins/pkg/ns"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/cni/cnirpc"
	"github.com/ycloud-sdn/ycloud/cni/nic"
	"github.com/ycloud-sdn/ycloud/cni/shim"
)

// podArgs are the CNI_ARGS keys a Kubernetes runtime sets.
type podArgs struct {
	types.CommonArgs
	K8S_POD_NAMESPACE          types.UnmarshallableString
	K8S_POD_NAME               types.UnmarshallableString
	K8S_POD_INFRA_CONTAINER_ID types.UnmarshallableString
	K8S_POD_UID                types.UnmarshallableString
}

// call is one decoded CNI request.
type call struct {
	*cnirpc.Request
	conf      *shim.NetConf
	namespace string
	pod       string
	podUID    string
}

func (c *call) podKey() string { return c.namespace + "/" + c.pod }

// Serve handles one CNI request (cnirpc.Handler calls it).
func (d *Daemon) Serve(ctx context.Context, req *cnirpc.Request) *cnirpc.Response {
	start := time.Now()
	ctx, cancel := requestContext(ctx, req.Deadline)
	defer cancel()
	resp := d.serve(ctx, req)
	code := uint(0)
	if resp.Error != nil {
		code = resp.Error.Code
		d.log.Warn("cni request failed", "command", req.Command, "container", short(req.ContainerID),
			"ifname", req.IfName, "code", code, "msg", resp.Error.Msg, "details", resp.Error.Details)
	} else {
		d.log.Debug("cni request done", "command", req.Command, "container", short(req.ContainerID), "took", time.Since(start))
	}
	d.metrics.observe(req.Command, code, start)
	return resp
}

// requestContext ends a little before the shim gives up, so our specific error (and not
// the shim's bare timeout) reaches the runtime; the HTTP request's own context still
// cancels everything if the shim disappears first.
func requestContext(ctx context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	if deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	margin := min(time.Until(deadline)/10, time.Second)
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

func (d *Daemon) serve(ctx context.Context, req *cnirpc.Request) *cnirpc.Response {
	c, cerr := decode(req)
	if cerr != nil {
		return &cnirpc.Response{Error: cerr}
	}
	var err error
	switch req.Command {
	case cnirpc.CmdAdd:
		var res *current.Result
		if res, err = d.add(ctx, c); err == nil {
			return d.result(c, res)
		}
	case cnirpc.CmdDel:
		err = d.del(ctx, c)
	case cnirpc.CmdCheck:
		err = d.check(ctx, c)
	case cnirpc.CmdGC:
		err = d.gc(ctx, c)
	case cnirpc.CmdStatus:
		if rerr := d.ready(); rerr != nil {
			return &cnirpc.Response{Error: types.NewError(types.ErrPluginNotAvailable, "ycloud-cni is not ready", rerr.Error())}
		}
	default:
		return &cnirpc.Response{Error: types.NewError(types.ErrInvalidEnvironmentVariables, "unknown CNI_COMMAND "+req.Command, "")}
	}
	if err != nil {
		return &cnirpc.Response{Error: cniError(req.Command, err)}
	}
	return &cnirpc.Response{}
}

// decode parses the network configuration and, for commands about one pod, CNI_ARGS.
func decode(req *cnirpc.Request) (*call, *types.Error) {
	conf, err := shim.ParseNetConf(req.Config)
	if err != nil {
		var te *types.Error
		if errors.As(err, &te) {
			return nil, te
		}
		return nil, types.NewError(types.ErrDecodingFailure, "decode network configuration", err.Error())
	}
	if conf.CNIVersion == "" {
		return nil, types.NewError(types.ErrInvalidNetworkConfig, "invalid network configuration", "cniVersion is not set")
	}
	c := &call{Request: req, conf: conf}
	switch req.Command {
	case cnirpc.CmdAdd, cnirpc.CmdCheck:
		if req.ContainerID == "" || req.IfName == "" || req.Netns == "" {
			return nil, types.NewError(types.ErrInvalidEnvironmentVariables, "CNI_CONTAINERID, CNI_IFNAME and CNI_NETNS are required", req.Command)
		}
		var a podArgs
		if err := types.LoadArgs(req.Args, &a); err != nil {
			return nil, types.NewError(types.ErrInvalidEnvironmentVariables, "parse CNI_ARGS", err.Error())
		}
		c.namespace, c.pod, c.podUID = string(a.K8S_POD_NAMESPACE), string(a.K8S_POD_NAME), string(a.K8S_POD_UID)
		if c.namespace == "" || c.pod == "" {
			return nil, types.NewError(types.ErrInvalidEnvironmentVariables,
				"CNI_ARGS must carry K8S_POD_NAMESPACE and K8S_POD_NAME", fmt.Sprintf("CNI_ARGS=%q", req.Args))
		}
	case cnirpc.CmdDel:
		if req.ContainerID == "" || req.IfName == "" {
			return nil, types.NewError(types.ErrInvalidEnvironmentVariables, "CNI_CONTAINERID and CNI_IFNAME are required", req.Command)
		}
	}
	return c, nil
}

// errTransient marks failures worth retrying as they are (CNI code 11).
var errTransient = errors.New("transient")

// cniError maps an error to the CNI error the runtime sees.
func cniError(command string, err error) *types.Error {
	var te *types.Error
	if errors.As(err, &te) {
		return te
	}
	var nsErr ns.NSPathNotExistErr
	switch {
	case errors.As(err, &nsErr):
		return types.NewError(types.ErrInvalidNetNS, "pod network namespace does not exist", err.Error())
	case errors.Is(err, errTransient), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return types.NewError(types.ErrTryAgainLater, command+" did not complete in time", err.Error())
	default:
		return types.NewError(types.ErrInternal, command+" failed", err.Error())
	}
}

// buildResult describes a plumbed interface as a CNI result: the host device, the pod's
// interface, its addresses with the gateway of their family, and its routes.
func buildResult(c *call, alloc *iaasv1.Allocation, res *nic.Result, mtu int) *current.Result {
	r := &current.Result{
		CNIVersion: current.ImplementedSpecVersion,
		Interfaces: []*current.Interface{
			{Name: res.HostIfName, Mac: res.HostMAC},
			{Name: c.IfName, Mac: res.PodMAC, Mtu: mtu, Sandbox: c.Netns},
		},
		DNS: c.conf.DNS,
	}
	for _, p := range alloc.IPs {
		ipc := &current.IPConfig{
			Interface: current.Int(1),
			Address:   net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())},
		}
		for _, gw := range alloc.Gateways {
			if gw.Is4() == p.Addr().Is4() {
				ipc.Gateway = gw.AsSlice()
			}
		}
		r.IPs = append(r.IPs, ipc)
	}
	for _, gw := range alloc.Gateways {
		bits := 32
		if gw.Is6() {
			bits = 128
		}
		r.Routes = append(r.Routes, &types.Route{Dst: net.IPNet{IP: make(net.IP, bits/8), Mask: net.CIDRMask(0, bits)}, GW: gw.AsSlice()})
	}
	for _, rt := range alloc.Routes {
		dst := rt.Dst.Masked()
		route := &types.Route{Dst: net.IPNet{IP: dst.Addr().AsSlice(), Mask: net.CIDRMask(dst.Bits(), dst.Addr().BitLen())}}
		if rt.Via.IsValid() {
			route.GW = rt.Via.AsSlice()
		}
		r.Routes = append(r.Routes, route)
	}
	return r
}

// result converts a result to the configuration's CNI version.
func (d *Daemon) result(c *call, r *current.Result) *cnirpc.Response {
	out, err := r.GetAsVersion(c.conf.CNIVersion)
	if err != nil {
		return &cnirpc.Response{Error: types.NewError(types.ErrIncompatibleCNIVersion, "convert result", err.Error())}
	}
	data, err := json.Marshal(out)
	if err != nil {
		return &cnirpc.Response{Error: types.NewError(types.ErrInternal, "encode result", err.Error())}
	}
	return &cnirpc.Response{Result: data}
}

// prevResultIPs returns the addresses of a CHECK's prevResult.
func prevResultIPs(conf *shim.NetConf) ([]string, error) {
	if conf.RawPrevResult == nil {
		return nil, nil
	}
	if err := version.ParsePrevResult(&conf.PluginConf); err != nil {
		return nil, fmt.Errorf("parse prevResult: %w", err)
	}
	res, err := current.NewResultFromResult(conf.PrevResult)
	if err != nil {
		return nil, fmt.Errorf("convert prevResult: %w", err)
	}
	var out []string
	for _, ip := range res.IPs {
		out = append(out, ip.Address.String())
	}
	return out, nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
