package cnitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
)

// BuildBinaries builds the given main packages of this module into dir and returns their
// paths by base name ("ycloud", "ycloud-cni").
func BuildBinaries(dir string, pkgs ...string) (map[string]string, error) {
	out := map[string]string{}
	args := append([]string{"build", "-o", dir + "/"}, pkgs...)
	if b, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %v: %w\n%s", pkgs, err, b)
	}
	for _, p := range pkgs {
		out[filepath.Base(p)] = filepath.Join(dir, filepath.Base(p))
	}
	return out, nil
}

// Plugin invokes a CNI plugin binary exactly as a container runtime does: CNI_*
// environment, the network configuration on stdin, a result or an error on stdout.
type Plugin struct {
	// Bin is the plugin executable.
	Bin string
	// Path is CNI_PATH (where chained or IPAM plugins are found).
	Path string
	// Conf is the network configuration.
	Conf []byte
}

// Attachment identifies one pod interface.
type Attachment struct {
	ContainerID string
	Netns       string
	IfName      string
	// Namespace, Name and UID of the pod (CNI_ARGS K8S_POD_*).
	Namespace, Name, UID string
}

// CNIError is a plugin's error object.
type CNIError struct {
	Code    uint
	Msg     string
	Details string
	Stderr  string
}

func (e *CNIError) Error() string {
	return fmt.Sprintf("cni error %d: %s; %s", e.Code, e.Msg, e.Details)
}

func (p *Plugin) env(command string, a *Attachment) []string {
	path := p.Path
	if path == "" {
		path = "/opt/cni/bin" // skel insists on CNI_PATH even for plugins that call none
	}
	env := []string{"CNI_COMMAND=" + command, "CNI_PATH=" + path}
	if a == nil {
		return env
	}
	args := "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + a.Namespace + ";K8S_POD_NAME=" + a.Name +
		";K8S_POD_INFRA_CONTAINER_ID=" + a.ContainerID
	if a.UID != "" {
		args += ";K8S_POD_UID=" + a.UID
	}
	return append(env, "CNI_CONTAINERID="+a.ContainerID, "CNI_NETNS="+a.Netns, "CNI_IFNAME="+a.IfName, "CNI_ARGS="+args)
}

// Exec runs one command with conf on stdin and returns stdout; a failure with a CNI
// error object on stdout returns *CNIError.
func (p *Plugin) Exec(ctx context.Context, command string, a *Attachment, conf []byte) ([]byte, error) {
	cmd := exec.CommandContext(ctx, p.Bin)
	cmd.Env = append(os.Environ(), p.env(command, a)...)
	cmd.Stdin = bytes.NewReader(conf)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		var te types.Error
		if json.Unmarshal(stdout.Bytes(), &te) == nil && te.Msg != "" {
			return nil, &CNIError{Code: te.Code, Msg: te.Msg, Details: te.Details, Stderr: stderr.String()}
		}
	}
	return nil, fmt.Errorf("%s %s: %w: stdout %q stderr %q", filepath.Base(p.Bin), command, err, stdout.String(), stderr.String())
}

// Add runs ADD and decodes the result.
func (p *Plugin) Add(ctx context.Context, a *Attachment) (*current.Result, error) {
	out, err := p.Exec(ctx, "ADD", a, p.Conf)
	if err != nil {
		return nil, err
	}
	res, err := current.NewResult(out)
	if err != nil {
		return nil, fmt.Errorf("decode ADD result %s: %w", out, err)
	}
	return current.NewResultFromResult(res)
}

// Del runs DEL.
func (p *Plugin) Del(ctx context.Context, a *Attachment) error {
	_, err := p.Exec(ctx, "DEL", a, p.Conf)
	return err
}

// Check runs CHECK with prev as prevResult (nil: none).
func (p *Plugin) Check(ctx context.Context, a *Attachment, prev *current.Result) error {
	conf, err := p.withKeys(map[string]any{"prevResult": prev})
	if err != nil {
		return err
	}
	_, err = p.Exec(ctx, "CHECK", a, conf)
	return err
}

// GC runs GC with the attachments the runtime still considers valid.
func (p *Plugin) GC(ctx context.Context, valid []*Attachment) error {
	list := []types.GCAttachment{}
	for _, a := range valid {
		list = append(list, types.GCAttachment{ContainerID: a.ContainerID, IfName: a.IfName})
	}
	conf, err := p.withKeys(map[string]any{"cni.dev/valid-attachments": list})
	if err != nil {
		return err
	}
	_, err = p.Exec(ctx, "GC", nil, conf)
	return err
}

// Status runs STATUS.
func (p *Plugin) Status(ctx context.Context) error {
	_, err := p.Exec(ctx, "STATUS", nil, p.Conf)
	return err
}

// WaitReady polls STATUS until it succeeds.
func (p *Plugin) WaitReady(timeout time.Duration) error {
	return Eventually(timeout, 50*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return p.Status(ctx)
	})
}

func (p *Plugin) withKeys(keys map[string]any) ([]byte, error) {
	m := map[string]any{}
	if err := json.Unmarshal(p.Conf, &m); err != nil {
		return nil, fmt.Errorf("network configuration: %w", err)
	}
	for k, v := range keys {
		if v != nil {
			m[k] = v
		}
	}
	return json.Marshal(m)
}
