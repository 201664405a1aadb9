package ovsdb

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

func nbctl(t *testing.T, db string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ovn-nbctl", append([]string{"--db=" + db, "--timeout=20"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ovn-nbctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestNorthboundWithNbctl runs the client against a real OVN central with the generated
// NB models, and cross-checks with ovn-nbctl as an independent writer and reader.
func TestNorthboundWithNbctl(t *testing.T) {
	central := ovsdbtest.StartOVNCentral(t)
	db := central.NBEndpoint()
	dm, err := NewDatabaseModel(nb.Schema(), nb.Models()...)
	if err != nil {
		t.Fatalf("generated models do not fit the schema: %v", err)
	}
	ctx := testCtx(t, 60*time.Second)
	c, err := Dial(ctx, dm, db, WithLogger(testLogger(t)),
		WithIndex(nb.LogicalSwitchTable, "name"),
		WithExternalIDIndex(nb.LogicalSwitchPortTable, "ycloud.io/owner"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Monitor(ctx, TableMonitor{Table: nb.LogicalSwitchTable}, TableMonitor{Table: nb.LogicalSwitchPortTable},
		TableMonitor{Table: nb.NBGlobalTable}); err != nil {
		t.Fatal(err)
	}
	if n := c.Cache().Len(nb.NBGlobalTable); n != 1 {
		t.Fatalf("NB_Global rows: %d (the harness initializes one)", n)
	}
	var rec recorder
	portName := func(row any) string {
		p := row.(*nb.LogicalSwitchPort)
		return p.Name + "[" + strings.Join(p.Addresses, ";") + "]"
	}
	if err := c.Cache().AddHandler(nb.LogicalSwitchPortTable, rec.handler(portName)); err != nil {
		t.Fatal(err)
	}

	// ovn-nbctl writes; our monitor sees it.
	nbctl(t, db, "ls-add", "sw0", "--", "lsp-add", "sw0", "p0",
		"--", "lsp-set-addresses", "p0", "00:00:00:00:00:01 10.0.0.2",
		"--", "set", "Logical_Switch_Port", "p0", "external_ids:ycloud.io/owner=ns/a")
	waitEventsPrefix(t, &rec, "add p0[00:00:00:00:00:01 10.0.0.2]")
	sw := &nb.LogicalSwitch{Name: "sw0"}
	if err := c.Cache().Get(sw); err != nil || len(sw.Ports) != 1 {
		t.Fatalf("switch by name: %+v %v", sw, err)
	}
	owned, err := LookupExternalID[nb.LogicalSwitchPort](c.Cache(), "ycloud.io/owner", "ns/a")
	if err != nil || len(owned) != 1 || owned[0].UUID != sw.Ports[0] {
		t.Fatalf("port by owner: %+v %v", owned, err)
	}

	// We write (insert a non-root port and attach it in the same transaction); ovn-nbctl
	// reads it back.
	lsp := &nb.LogicalSwitchPort{Name: "p1", Addresses: []string{"router"}, Type: nb.LogicalSwitchPortTypeRouter,
		Options: map[string]string{"router-port": "lrp0"}, ExternalIDs: map[string]string{"ycloud.io/owner": "ns/b"}}
	res := mustTransact(t, c,
		Insert(lsp).WithNamedUUID("p1"),
		Mutate(&nb.LogicalSwitch{UUID: sw.UUID}, InsertValues("ports", []string{"p1"})))
	waitEventsPrefix(t, &rec, "add p1[router]")
	if out := nbctl(t, db, "lsp-list", "sw0"); !strings.Contains(out, "(p1)") || !strings.Contains(out, "(p0)") {
		t.Fatalf("ovn-nbctl lsp-list: %s", out)
	}
	if out := nbctl(t, db, "get", "Logical_Switch_Port", "p1", "type", "options:router-port", "_uuid"); !strings.Contains(out, "router\n\"lrp0\"\n"+res[0].UUID) &&
		!strings.Contains(out, "router\nlrp0\n"+res[0].UUID) {
		t.Fatalf("ovn-nbctl get p1: %q", out)
	}

	// ovn-nbctl deletes; the port goes from the cache and the switch loses it. (northd
	// also updates ports, e.g. "up", so other events may arrive too.)
	nbctl(t, db, "lsp-del", "p0")
	waitEventsPrefix(t, &rec, "delete p0[00:00:00:00:00:01 10.0.0.2]")
	eventually(t, 10*time.Second, "switch update", func() bool {
		got, err := GetByUUID[nb.LogicalSwitch](c.Cache(), sw.UUID)
		return err == nil && slices.Equal(got.Ports, []string{res[0].UUID})
	})

	// northd is running against this NB: it reports progress in NB_Global.sb_cfg when
	// asked through nb_cfg, which exercises a real third-party writer of our cache.
	globals, _ := List[nb.NBGlobal](c.Cache(), nil)
	mustTransact(t, c, Mutate(&nb.NBGlobal{UUID: globals[0].UUID}, Mutation{Column: "nb_cfg", Mutator: MutatorAdd, Value: 1}))
	eventually(t, 20*time.Second, "northd to acknowledge nb_cfg", func() bool {
		g, err := GetByUUID[nb.NBGlobal](c.Cache(), globals[0].UUID)
		return err == nil && g.NbCfg >= 1 && g.SbCfg == g.NbCfg
	})
}
