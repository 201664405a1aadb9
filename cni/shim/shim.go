// Package shim is the ycloud CNI plugin binary: a thin shim that forwards every CNI call
// (ADD, DEL, CHECK, STATUS, GC; VERSION is answered locally by skel) to the ycloud-cni
// daemon on its node through package cnirpc, and prints what the daemon answers.
//
// The shim holds no logic and no state, so that a runtime retry after any failure starts
// from what the daemon knows, and upgrading the node means restarting one daemon rather
// than racing a binary replacement against running ADDs. When the daemon is down or slow,
// the shim still answers within the configured timeout, with a CNI error the runtime can
// act on: code 11 ("try again later") for ADD/DEL/CHECK/GC and code 50 ("plugin not
// available") for STATUS.
//
// Network configuration (the plugin-specific keys are optional):
//
//	{"cniVersion":"1.1.0","name":"ycloud","type":"ycloud",
//	 "socketPath":"/run/ycloud/cni.sock","timeoutSeconds":60}
package shim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/ycloud-sdn/ycloud/cni/cnirpc"
)

// DefaultTimeout bounds one call when the configuration sets no timeoutSeconds. It must
// cover the daemon's wait for the controller's allocation, and stay below the runtime's
// own sandbox timeout (kubelet: 2 minutes) so our error, not the runtime's, is reported.
const DefaultTimeout = 60 * time.Second

// NetConf is the network configuration the shim reads; the daemon reads it again.
type NetConf struct {
	types.PluginConf
	// SocketPath of the daemon (default cnirpc.DefaultSocketPath).
	SocketPath string `json:"socketPath,omitempty"`
	// TimeoutSeconds bounds one call, including the daemon's work (default 60).
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
}

// ParseNetConf decodes and checks a network configuration.
func ParseNetConf(data []byte) (*NetConf, error) {
	conf := &NetConf{}
	if err := json.Unmarshal(data, conf); err != nil {
		return nil, types.NewError(types.ErrDecodingFailure, "decode network configuration", err.Error())
	}
	if conf.TimeoutSeconds < 0 {
		return nil, types.NewError(types.ErrInvalidNetworkConfig, "invalid network configuration",
			fmt.Sprintf("timeoutSeconds %d: want a positive number", conf.TimeoutSeconds))
	}
	if conf.SocketPath == "" {
		conf.SocketPath = cnirpc.DefaultSocketPath
	}
	return conf, nil
}

// Timeout returns the configured timeout.
func (c *NetConf) Timeout() time.Duration {
	if c.TimeoutSeconds == 0 {
		return DefaultTimeout
	}
	return time.Duration(c.TimeoutSeconds) * time.Second
}

// SupportedVersions are the CNI spec versions the shim (and the daemon) speak.
var SupportedVersions = version.PluginSupports("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")

// Main runs the shim: it reads the CNI environment and stdin, forwards, prints the result
// or the error, and exits.
func Main(about string) {
	skel.PluginMainFuncs(skel.CNIFuncs{
		Add:    func(a *skel.CmdArgs) error { return Forward(cnirpc.CmdAdd, a, os.Stdout) },
		Del:    func(a *skel.CmdArgs) error { return Forward(cnirpc.CmdDel, a, os.Stdout) },
		Check:  func(a *skel.CmdArgs) error { return Forward(cnirpc.CmdCheck, a, os.Stdout) },
		GC:     func(a *skel.CmdArgs) error { return Forward(cnirpc.CmdGC, a, os.Stdout) },
		Status: func(a *skel.CmdArgs) error { return Forward(cnirpc.CmdStatus, a, os.Stdout) },
	}, SupportedVersions, about)
}

// Forward sends one CNI call to the daemon and writes an ADD's result to stdout. The
// returned error is always a *types.Error, which skel prints as the CNI error object.
func Forward(command string, args *skel.CmdArgs, stdout io.Writer) error {
	conf, err := ParseNetConf(args.StdinData)
	if err != nil {
		return err
	}
	timeout := conf.Timeout()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := cnirpc.NewClient(conf.SocketPath).Do(ctx, &cnirpc.Request{
		Command:     command,
		ContainerID: args.ContainerID,
		Netns:       args.Netns,
		IfName:      args.IfName,
		Args:        args.Args,
		Path:        args.Path,
		Config:      args.StdinData,
	})
	if err != nil {
		return transportError(command, conf, timeout, err)
	}
	if resp.Error != nil {
		return resp.Error
	}
	if command != cnirpc.CmdAdd {
		return nil
	}
	if len(resp.Result) == 0 {
		return types.NewError(types.ErrInternal, "ycloud-cni daemon returned no result", "ADD container "+args.ContainerID)
	}
	if _, err := stdout.Write(append(resp.Result, '\n')); err != nil {
		return types.NewError(types.ErrIOFailure, "write result", err.Error())
	}
	return nil
}

// transportError turns a failure to talk to the daemon into the CNI error the runtime
// should see.
func transportError(command string, conf *NetConf, timeout time.Duration, err error) *types.Error {
	code := types.ErrTryAgainLater
	if command == cnirpc.CmdStatus {
		code = types.ErrPluginNotAvailable
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return types.NewError(code, "timed out waiting for the ycloud-cni daemon",
			fmt.Sprintf("%s: no answer within %s (timeoutSeconds) on %s", command, timeout, conf.SocketPath))
	case errors.Is(err, cnirpc.ErrUnreachable):
		return types.NewError(code, "ycloud-cni daemon is not running", err.Error())
	default:
		return types.NewError(code, "talk to the ycloud-cni daemon", err.Error())
	}
}
