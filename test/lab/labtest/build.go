package labtest

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ycloud-sdn/ycloud/test/lab"
)

// Components are the binaries the lab runs besides Kubernetes and OVN: ours (the CNI
// plugin, ycloud-cni, ycloud-controller, ycloud-ic, ycloud-hub) and the OCM stand-ins.
var Components = []string{"ycloud", "ycloud-cni", "ycloud-controller", "ycloud-ic", "ycloud-hub", "ocm-standin"}

// componentPackage is the Go package of a component binary.
func componentPackage(c string) string {
	if c == "ocm-standin" {
		return "./test/ocm/ocm-standin"
	}
	return "./cmd/" + c
}

// BuildComponents builds every one of Components from the checkout at repoRoot into dir
// (Go's build cache makes a rebuild of unchanged sources quick), so a test runs the
// sources it was built with, never a stale bin/.
func BuildComponents(ctx context.Context, repoRoot, dir string) (map[string]string, error) {
	args := []string{"build", "-o", dir + "/"}
	for _, c := range Components {
		args = append(args, componentPackage(c))
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repoRoot
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	bins := map[string]string{}
	for _, c := range Components {
		bins[c] = filepath.Join(dir, c)
	}
	return bins, nil
}

// UseComponents points a lab configuration at binaries from BuildComponents.
func UseComponents(cfg *lab.Config, bins map[string]string) {
	cfg.CNIPlugin = bins["ycloud"]
	cfg.CNIDaemon.Binary = bins["ycloud-cni"]
	cfg.Controller.Binary = bins["ycloud-controller"]
	cfg.IC.Binary = bins["ycloud-ic"]
	cfg.Hub.Binary = bins["ycloud-hub"]
	cfg.Placement.Binary = bins["ocm-standin"]
	cfg.WorkAgent.Binary = bins["ocm-standin"]
}
