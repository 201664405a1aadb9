package lab

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const cliUsage = `usage: ycloud-lab [--dir DIR] COMMAND [flags]

commands:
  up --clusters N --nodes M [--cni reference|ycloud] [--ic-gateways K]
     [--prefix P] [--underlay CIDR]
         start a hub, N spokes of M nodes each (idempotent for the same shape)
  down   stop everything and remove what the lab created (logs stay in DIR/logs)
  status list processes (alive or dead), component health and node readiness
  kubeconfig CLUSTER
         print the path of CLUSTER's admin kubeconfig (hub, spoke1, ...)
  exec [-c CONTAINER] [-i] [-t] CLUSTER/NAMESPACE/POD -- COMMAND [ARGS...]
         run a command in a pod through the apiserver's exec API
  node-exec NODE -- COMMAND [ARGS...]
         run a command as root in a node's network and mount namespaces
         (e.g. spoke1-n1 -- ip route: the node's view, management port included)
  logs [--tail N] PROCESS
         print a process's log (PROCESS as in status, e.g. spoke1-n1/kubelet);
         without PROCESS, list them

DIR defaults to ` + DefaultDir + ` (env YCLOUD_LAB_DIR).
`

// Command is a subcommand defined outside this package: cmd/ycloud-lab adds `demo`, which
// lives in package test/lab/demo (it imports this package, so this one cannot import it).
type Command struct {
	Name string
	// Usage is the command's part of the usage text (indented lines, ending in a newline).
	Usage string
	// Run gets the lab directory (--dir) and the arguments after the command name, and
	// returns the exit code.
	Run func(ctx context.Context, dir string, args []string, stdout, stderr io.Writer) int
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// RunCLI is the ycloud-lab command. It returns the process exit code.
func RunCLI(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, extra ...Command) int {
	usage := cliUsage
	if len(extra) > 0 {
		before, after, _ := strings.Cut(cliUsage, "\nDIR defaults")
		var b strings.Builder
		b.WriteString(before)
		for _, c := range extra {
			b.WriteString(c.Usage)
		}
		usage = b.String() + "\nDIR defaults" + after
	}
	global := flag.NewFlagSet("ycloud-lab", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.Usage = func() { fmt.Fprint(stderr, usage) }
	defDir := os.Getenv("YCLOUD_LAB_DIR")
	if defDir == "" {
		defDir = DefaultDir
	}
	dir := global.String("dir", defDir, "lab directory")
	if err := global.Parse(args); err != nil {
		return 2
	}
	if global.NArg() == 0 {
		global.Usage()
		return 2
	}
	cmd, rest := global.Arg(0), global.Args()[1:]
	for _, c := range extra {
		if c.Name == cmd {
			return c.Run(ctx, *dir, rest, stdout, stderr)
		}
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	fs.StringVar(dir, "dir", *dir, "lab directory")

	fail := func(err error) int {
		fmt.Fprintf(stderr, "ycloud-lab %s: %v\n", cmd, err)
		return 1
	}
	switch cmd {
	case "up":
		cfg := Config{Log: stdout}
		fs.IntVar(&cfg.Clusters, "clusters", 1, "number of spokes")
		fs.IntVar(&cfg.Nodes, "nodes", 2, "nodes per spoke")
		cni := fs.String("cni", string(CNIReference), "node CNI: reference or ycloud")
		fs.IntVar(&cfg.ICGateways, "ic-gateways", 0, "nodes per spoke marked as OVN-IC gateways (ovn-is-interconn)")
		fs.StringVar(&cfg.Prefix, "prefix", "", "prefix of namespaces, links and cgroups (default ylab)")
		fs.StringVar(&cfg.Underlay, "underlay", "", "underlay IPv4 /16 (default 10.250.0.0/16)")
		fs.BoolVar(&cfg.KeepOnFailure, "keep-on-failure", false, "leave a failed up running for inspection")
		fs.DurationVar(&cfg.ReadyTimeout, "ready-timeout", 0, "bound of each wait (default 3m)")
		var ctrlArgs, cniArgs multiFlag
		fs.Var(&ctrlArgs, "controller-arg", "argument template for ycloud-controller (repeatable; replaces the defaults)")
		fs.Var(&cniArgs, "cni-daemon-arg", "argument template for ycloud-cni (repeatable; replaces the defaults)")
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		cfg.Dir, cfg.CNI = *dir, CNIMode(*cni)
		if len(ctrlArgs) > 0 {
			cfg.Controller.Args = ctrlArgs
		}
		if len(cniArgs) > 0 {
			cfg.CNIDaemon.Args = cniArgs
		}
		l, err := Up(ctx, cfg)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "\nkubeconfigs:\n")
		for _, c := range l.Clusters() {
			kc, _ := l.Kubeconfig(c)
			fmt.Fprintf(stdout, "  %-8s %s\n", c, kc)
		}
		return 0
	case "down":
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		l, err := Open(*dir)
		if errors.Is(err, ErrNoLab) {
			fmt.Fprintf(stdout, "no lab in %s\n", *dir)
			return 0
		}
		if err != nil {
			return fail(err)
		}
		l.cfg.Log = stdout
		if err := l.Down(ctx); err != nil {
			return fail(err)
		}
		return 0
	case "status":
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		l, err := Open(*dir)
		if err != nil {
			return fail(err)
		}
		s := l.Status(ctx)
		s.Write(stdout)
		if !s.Healthy() {
			return 1
		}
		return 0
	case "kubeconfig":
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() != 1 {
			return fail(errors.New("want exactly one cluster name"))
		}
		l, err := Open(*dir)
		if err != nil {
			return fail(err)
		}
		kc, err := l.Kubeconfig(fs.Arg(0))
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, kc)
		return 0
	case "exec":
		container := fs.String("c", "", "container (default: the first)")
		interactive := fs.Bool("i", false, "pass stdin to the command")
		// The local terminal stays in cooked mode (no raw-mode dependency here): enough for a
		// shell, not for full-screen programs.
		tty := fs.Bool("t", false, "allocate a terminal in the container")
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() < 2 {
			return fail(errors.New("want CLUSTER/NAMESPACE/POD -- COMMAND"))
		}
		parts := strings.Split(fs.Arg(0), "/")
		if len(parts) != 3 {
			return fail(fmt.Errorf("target %q: want CLUSTER/NAMESPACE/POD", fs.Arg(0)))
		}
		l, err := Open(*dir)
		if err != nil {
			return fail(err)
		}
		command := fs.Args()[1:]
		// flag stops at the target, so the "--" that separates the command is still there.
		if command[0] == "--" {
			command = command[1:]
		}
		if len(command) == 0 {
			return fail(errors.New("no command after --"))
		}
		o := ExecOptions{Cluster: parts[0], Namespace: parts[1], Pod: parts[2], Container: *container,
			Command: command, Stdout: stdout, Stderr: stderr, TTY: *tty}
		if *interactive {
			o.Stdin = stdin
		}
		code, err := l.ExecStream(ctx, o)
		var exit *ExitError
		if errors.As(err, &exit) {
			return code
		}
		if err != nil {
			return fail(err)
		}
		return 0
	case "node-exec":
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() < 2 {
			return fail(errors.New("want NODE -- COMMAND"))
		}
		l, err := Open(*dir)
		if err != nil {
			return fail(err)
		}
		command := fs.Args()[1:]
		if command[0] == "--" {
			command = command[1:]
		}
		if len(command) == 0 {
			return fail(errors.New("no command after --"))
		}
		code, err := l.NodeExecStream(ctx, fs.Arg(0), command, stdin, stdout, stderr)
		var exit *ExitError
		if errors.As(err, &exit) {
			return code
		}
		if err != nil {
			return fail(err)
		}
		return 0
	case "logs":
		n := fs.Int("tail", 0, "print only the last N lines")
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		l, err := Open(*dir)
		if err != nil {
			return fail(err)
		}
		if fs.NArg() == 0 {
			for _, p := range l.Processes() {
				fmt.Fprintf(stdout, "%-36s %s\n", p.Name, p.Log)
			}
			return 0
		}
		for _, p := range l.Processes() {
			if p.Name == fs.Arg(0) {
				if *n > 0 {
					fmt.Fprintln(stdout, tail(p.Log, *n))
					return 0
				}
				f, err := os.Open(p.Log)
				if err != nil {
					return fail(err)
				}
				defer f.Close()
				if _, err := io.Copy(stdout, f); err != nil {
					return fail(err)
				}
				return 0
			}
		}
		return fail(fmt.Errorf("no process %q (ycloud-lab logs lists them)", fs.Arg(0)))
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "ycloud-lab: unknown command %q\n\n%s", cmd, usage)
	return 2
}
