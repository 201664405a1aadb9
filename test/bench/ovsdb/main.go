// Command ovsdb benchmarks our OVSDB client against ovn-nbctl on a fresh OVN northbound
// database: create N Logical_Switch_Ports spread over M Logical_Switches, then delete
// them, (a) with our client in batched transactions, (b) with one ovn-nbctl run per port
// (what a shell-based controller does) and (c) with one ovn-nbctl run per 100 ports
// chained with "--". It also measures the client cache's memory per cached port.
//
// Every figure is printed as `RESULT name=value unit [vs=... baseline=... ratio=...]`
// (ratio = ours / baseline), each the median of several repetitions where affordable.
//
//	go run ./test/bench/ovsdb [-ports 10000] [-switches 100] [-reps 5] ...
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

type config struct {
	ports, switches int
	perTxn          int
	reps            int // repetitions of ours
	batchReps       int // repetitions of nbctl_batch100
	perPortReps     int // repetitions of nbctl_per_port
	timeout         time.Duration
}

func main() {
	var cfg config
	flag.IntVar(&cfg.ports, "ports", 10000, "logical switch ports to create and delete")
	flag.IntVar(&cfg.switches, "switches", 100, "logical switches the ports are spread over")
	flag.IntVar(&cfg.perTxn, "per-txn", 1000, "ports per transaction for our client")
	flag.IntVar(&cfg.reps, "reps", 5, "repetitions of our client's run")
	flag.IntVar(&cfg.batchReps, "batch-reps", 3, "repetitions of the ovn-nbctl batch-of-100 run")
	flag.IntVar(&cfg.perPortReps, "per-port-reps", 1, "repetitions of the ovn-nbctl per-port run (slow)")
	flag.DurationVar(&cfg.timeout, "timeout", 60*time.Minute, "overall time limit")
	flag.Parse()
	if cfg.ports%cfg.switches != 0 || cfg.switches > cfg.ports {
		fmt.Fprintln(os.Stderr, "ports must be a multiple of switches")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench-ovsdb:", err)
		os.Exit(1)
	}
}

// timing is one create+delete measurement.
type timing struct{ create, del time.Duration }

func run(ctx context.Context, cfg config) error {
	k := fmt.Sprintf("%dk", cfg.ports/1000)
	if cfg.ports%1000 != 0 {
		k = fmt.Sprint(cfg.ports)
	}
	fmt.Printf("# %d ports over %d switches, fresh NB database per run; ours: %d ports per transaction with a monitor-fed cache\n",
		cfg.ports, cfg.switches, cfg.perTxn)

	ours, err := repeat(ctx, "ours", cfg.reps, cfg, oursRun)
	if err != nil {
		return err
	}
	batch, err := repeat(ctx, "nbctl_batch100", cfg.batchReps, cfg, func(ctx context.Context, cfg config, db string) (timing, error) {
		return nbctlRun(ctx, cfg, db, 100)
	})
	if err != nil {
		return err
	}
	fmt.Printf("# nbctl_per_port: %d repetition(s) only, one ovn-nbctl process per port is slow\n", cfg.perPortReps)
	perPort, err := repeat(ctx, "nbctl_per_port", cfg.perPortReps, cfg, func(ctx context.Context, cfg config, db string) (timing, error) {
		return nbctlRun(ctx, cfg, db, 1)
	})
	if err != nil {
		return err
	}
	for _, b := range []struct {
		name string
		t    timing
	}{{"nbctl_per_port", perPort}, {"nbctl_batch100", batch}} {
		fmt.Printf("RESULT ovsdb_lsp_create_%s_s=%.3f s vs=%s baseline=%.3f ratio=%.4f\n",
			k, ours.create.Seconds(), b.name, b.t.create.Seconds(), ours.create.Seconds()/b.t.create.Seconds())
	}
	for _, b := range []struct {
		name string
		t    timing
	}{{"nbctl_per_port", perPort}, {"nbctl_batch100", batch}} {
		fmt.Printf("RESULT ovsdb_lsp_delete_%s_s=%.3f s vs=%s baseline=%.3f ratio=%.4f\n",
			k, ours.del.Seconds(), b.name, b.t.del.Seconds(), ours.del.Seconds()/b.t.del.Seconds())
	}
	perRow, err := cacheBytesPerRow(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("# cached ports carry name, addresses, port_security and 3 external_ids (realistic pod ports)\n")
	fmt.Printf("RESULT ovsdb_cache_bytes_per_row=%.0f B\n", perRow)
	return nil
}

// repeat runs fn reps times, each on a fresh NB server, and returns the medians.
func repeat(ctx context.Context, name string, reps int, cfg config,
	fn func(ctx context.Context, cfg config, db string) (timing, error)) (timing, error) {
	var creates, dels []time.Duration
	for i := range reps {
		var t timing
		err := withNB(func(srv *ovsdbtest.Server) error {
			if err := createSwitches(ctx, cfg, srv.Endpoint()); err != nil {
				return err
			}
			var err error
			t, err = fn(ctx, cfg, srv.Endpoint())
			return err
		})
		if err != nil {
			return timing{}, fmt.Errorf("%s run %d: %w", name, i, err)
		}
		fmt.Printf("# %s run %d: create %.3f s, delete %.3f s\n", name, i, t.create.Seconds(), t.del.Seconds())
		creates, dels = append(creates, t.create), append(dels, t.del)
	}
	return timing{median(creates), median(dels)}, nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func switchName(i int) string { return fmt.Sprintf("ls-%03d", i) }
func portName(i int) string   { return fmt.Sprintf("lsp-%05d", i) }

func newModel() (*ovsdb.DatabaseModel, error) {
	return ovsdb.NewDatabaseModel(nb.Schema(), nb.Models()...)
}

// createSwitches creates the switches (untimed setup, identical for every contender).
func createSwitches(ctx context.Context, cfg config, db string) error {
	dm, err := newModel()
	if err != nil {
		return err
	}
	c, err := ovsdb.Dial(ctx, dm, db)
	if err != nil {
		return err
	}
	defer c.Close()
	ops := make([]ovsdb.Operation, 0, cfg.switches)
	for i := range cfg.switches {
		ops = append(ops, ovsdb.Insert(&nb.LogicalSwitch{Name: switchName(i)}))
	}
	_, err = c.Transact(ctx, ops...)
	return err
}

// oursRun creates and deletes the ports with our client, as a controller would: with a
// monitor-fed cache of switches and ports, in transactions of cfg.perTxn ports (each
// inserts the ports and adds them to their switch's "ports" in the same transaction,
// since ports are not root rows).
func oursRun(ctx context.Context, cfg config, db string) (timing, error) {
	dm, err := newModel()
	if err != nil {
		return timing{}, err
	}
	c, err := ovsdb.Dial(ctx, dm, db, ovsdb.WithIndex(nb.LogicalSwitchTable, "name"))
	if err != nil {
		return timing{}, err
	}
	defer c.Close()
	if _, err := c.Monitor(ctx, ovsdb.TableMonitor{Table: nb.LogicalSwitchTable}, ovsdb.TableMonitor{Table: nb.LogicalSwitchPortTable}); err != nil {
		return timing{}, err
	}
	perSwitch := cfg.ports / cfg.switches
	swUUID := make([]string, cfg.switches)
	for i := range swUUID {
		sw := &nb.LogicalSwitch{Name: switchName(i)}
		if err := c.Cache().Get(sw); err != nil {
			return timing{}, err
		}
		swUUID[i] = sw.UUID
	}

	start := time.Now()
	for lo := 0; lo < cfg.ports; lo += cfg.perTxn {
		hi := min(lo+cfg.perTxn, cfg.ports)
		ops := make([]ovsdb.Operation, 0, hi-lo+cfg.switches)
		added := map[int][]string{}
		for i := lo; i < hi; i++ {
			named := fmt.Sprintf("p%d", i)
			ops = append(ops, ovsdb.Insert(&nb.LogicalSwitchPort{Name: portName(i)}).WithNamedUUID(named))
			added[i/perSwitch] = append(added[i/perSwitch], named)
		}
		for sw, names := range added {
			ops = append(ops, ovsdb.Mutate(&nb.LogicalSwitch{UUID: swUUID[sw]}, ovsdb.InsertValues("ports", names)))
		}
		if _, err := c.Transact(ctx, ops...); err != nil {
			return timing{}, fmt.Errorf("create ports %d..%d: %w", lo, hi-1, err)
		}
	}
	created := time.Since(start)
	if n := c.Cache().Len(nb.LogicalSwitchPortTable); n != cfg.ports {
		return timing{}, fmt.Errorf("after create the cache has %d ports, want %d", n, cfg.ports)
	}

	// Delete: the controller knows each port's UUID and switch from its cache.
	switches, err := ovsdb.List[nb.LogicalSwitch](c.Cache(), nil)
	if err != nil {
		return timing{}, err
	}
	type portRef struct{ sw, port string }
	var refs []portRef
	for _, sw := range switches {
		for _, p := range sw.Ports {
			refs = append(refs, portRef{sw.UUID, p})
		}
	}
	start = time.Now()
	for lo := 0; lo < len(refs); lo += cfg.perTxn {
		hi := min(lo+cfg.perTxn, len(refs))
		ops := make([]ovsdb.Operation, 0, hi-lo+cfg.switches)
		removed := map[string][]string{}
		for _, r := range refs[lo:hi] {
			ops = append(ops, ovsdb.Delete(&nb.LogicalSwitchPort{UUID: r.port}))
			removed[r.sw] = append(removed[r.sw], r.port)
		}
		for sw, ports := range removed {
			ops = append(ops, ovsdb.Mutate(&nb.LogicalSwitch{UUID: sw}, ovsdb.DeleteValues("ports", ports)))
		}
		if _, err := c.Transact(ctx, ops...); err != nil {
			return timing{}, fmt.Errorf("delete ports %d..%d: %w", lo, hi-1, err)
		}
	}
	deleted := time.Since(start)
	if n := c.Cache().Len(nb.LogicalSwitchPortTable); n != 0 {
		return timing{}, fmt.Errorf("after delete the cache has %d ports", n)
	}
	return timing{created, deleted}, nil
}

// nbctlRun creates and deletes the ports with ovn-nbctl, perCall ports per process
// (commands chained with "--"; ports of one call belong to one switch).
func nbctlRun(ctx context.Context, cfg config, db string, perCall int) (timing, error) {
	perSwitch := cfg.ports / cfg.switches
	if perCall > perSwitch || perSwitch%perCall != 0 {
		return timing{}, fmt.Errorf("per-call %d does not divide ports per switch %d", perCall, perSwitch)
	}
	runCalls := func(verb string) (time.Duration, error) {
		start := time.Now()
		for lo := 0; lo < cfg.ports; lo += perCall {
			args := []string{"--db=" + db}
			for i := lo; i < lo+perCall; i++ {
				if i > lo {
					args = append(args, "--")
				}
				if verb == "lsp-add" {
					args = append(args, "lsp-add", switchName(i/perSwitch), portName(i))
				} else {
					args = append(args, "lsp-del", portName(i))
				}
			}
			if out, err := exec.CommandContext(ctx, "ovn-nbctl", args...).CombinedOutput(); err != nil {
				return 0, fmt.Errorf("ovn-nbctl %s (ports from %d): %w: %s", verb, lo, err, out)
			}
		}
		return time.Since(start), nil
	}
	created, err := runCalls("lsp-add")
	if err != nil {
		return timing{}, err
	}
	if err := countPorts(ctx, db, cfg.ports); err != nil {
		return timing{}, err
	}
	deleted, err := runCalls("lsp-del")
	if err != nil {
		return timing{}, err
	}
	if err := countPorts(ctx, db, 0); err != nil {
		return timing{}, err
	}
	return timing{created, deleted}, nil
}

// countPorts checks that a contender really did its work.
func countPorts(ctx context.Context, db string, want int) error {
	out, err := exec.CommandContext(ctx, "ovn-nbctl", "--db="+db, "--bare", "--columns=_uuid", "list", "Logical_Switch_Port").Output()
	if err != nil {
		return fmt.Errorf("count ports: %w", err)
	}
	if got := len(strings.Fields(string(out))); got != want {
		return fmt.Errorf("database has %d ports, want %d", got, want)
	}
	return nil
}

// cacheBytesPerRow fills a fresh NB with realistic ports, then measures the heap growth
// (after GC) caused by monitoring the port table into a new client's cache.
func cacheBytesPerRow(ctx context.Context, cfg config) (float64, error) {
	var perRow float64
	err := withNB(func(srv *ovsdbtest.Server) error {
		if err := createSwitches(ctx, cfg, srv.Endpoint()); err != nil {
			return err
		}
		dm, err := newModel()
		if err != nil {
			return err
		}
		w, err := ovsdb.Dial(ctx, dm, srv.Endpoint())
		if err != nil {
			return err
		}
		defer w.Close()
		if _, err := w.Monitor(ctx, ovsdb.TableMonitor{Table: nb.LogicalSwitchTable}); err != nil {
			return err
		}
		switches, err := ovsdb.List[nb.LogicalSwitch](w.Cache(), nil)
		if err != nil {
			return err
		}
		perSwitch := cfg.ports / cfg.switches
		for s, sw := range switches {
			ops := make([]ovsdb.Operation, 0, perSwitch+1)
			var names []string
			for j := range perSwitch {
				i := s*perSwitch + j
				mac, ip := fmt.Sprintf("0a:58:0a:%02x:%02x:%02x", s, j/256, j%256), fmt.Sprintf("10.%d.%d.%d", s, j/256, j%256+1)
				named := fmt.Sprintf("p%d", j)
				ops = append(ops, ovsdb.Insert(&nb.LogicalSwitchPort{
					Name:         portName(i),
					Addresses:    []string{mac + " " + ip},
					PortSecurity: []string{mac + " " + ip},
					ExternalIDs: map[string]string{"ycloud.io/owner": fmt.Sprintf("ns-%d/pod-%d", s, j),
						"ycloud.io/owner-kind": "Vnic", "ycloud.io/cluster": "cluster-1"},
				}).WithNamedUUID(named))
				names = append(names, named)
			}
			ops = append(ops, ovsdb.Mutate(&nb.LogicalSwitch{UUID: sw.UUID}, ovsdb.InsertValues("ports", names)))
			if _, err := w.Transact(ctx, ops...); err != nil {
				return err
			}
		}

		c, err := ovsdb.Dial(ctx, dm, srv.Endpoint())
		if err != nil {
			return err
		}
		defer c.Close()
		before := heapAfterGC()
		if _, err := c.Monitor(ctx, ovsdb.TableMonitor{Table: nb.LogicalSwitchPortTable}); err != nil {
			return err
		}
		after := heapAfterGC()
		n := c.Cache().Len(nb.LogicalSwitchPortTable)
		if n != cfg.ports {
			return fmt.Errorf("cache holds %d ports, want %d", n, cfg.ports)
		}
		perRow = float64(int64(after)-int64(before)) / float64(n)
		runtime.KeepAlive(c)
		return nil
	})
	return perRow, err
}

func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
