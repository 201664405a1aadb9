package ovsdb

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/schema"
	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

const testSchemaPath = "testdata/test.ovsschema"

// Color is a named string type for an enum column.
type Color string

// Root maps every column type of the test schema.
type Root struct {
	UUID        string            `ovsdb:"_uuid"`
	Name        string            `ovsdb:"name"`
	Count       int               `ovsdb:"count"`
	Ratio       float64           `ovsdb:"ratio"`
	Enabled     bool              `ovsdb:"enabled"`
	Color       Color             `ovsdb:"color"`
	Note        *string           `ovsdb:"note"`
	Level       *int              `ovsdb:"level"`
	Flag        *bool             `ovsdb:"flag"`
	Weight      *float64          `ovsdb:"weight"`
	Tags        []string          `ovsdb:"tags"`
	Ports       []int             `ovsdb:"ports"`
	Scores      []float64         `ovsdb:"scores"`
	Bits        []bool            `ovsdb:"bits"`
	Labels      map[string]string `ovsdb:"labels"`
	Limits      map[string]int    `ovsdb:"limits"`
	Numbered    map[int]string    `ovsdb:"numbered"`
	Children    []string          `ovsdb:"children"`
	Watched     []string          `ovsdb:"watched"`
	Favorite    *string           `ovsdb:"favorite"`
	ByName      map[string]string `ovsdb:"by_name"`
	Token       string            `ovsdb:"token"`
	Created     string            `ovsdb:"created"`
	ExternalIDs map[string]string `ovsdb:"external_ids"`
}

func (*Root) Table() string { return "Root" }

// Child is a non-root table: rows live only while referenced strongly.
type Child struct {
	UUID        string            `ovsdb:"_uuid"`
	Name        string            `ovsdb:"name"`
	Value       int               `ovsdb:"value"`
	ExternalIDs map[string]string `ovsdb:"external_ids"`
}

func (*Child) Table() string { return "Child" }

// DeepCopy is hand-written like the generated ones, so the cache's use of it is tested.
func (c *Child) DeepCopy() *Child {
	out := *c
	if c.ExternalIDs != nil {
		out.ExternalIDs = make(map[string]string, len(c.ExternalIDs))
		for k, v := range c.ExternalIDs {
			out.ExternalIDs[k] = v
		}
	}
	return &out
}

// Other is a root table that the tests do not monitor.
type Other struct {
	UUID string `ovsdb:"_uuid"`
	Name string `ovsdb:"name"`
}

func (*Other) Table() string { return "Other" }

func testSchema(t testing.TB) *schema.Database {
	t.Helper()
	data, err := os.ReadFile(testSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testModel(t testing.TB) *DatabaseModel {
	t.Helper()
	dm, err := NewDatabaseModel(testSchema(t), (*Root)(nil), (*Child)(nil), (*Other)(nil))
	if err != nil {
		t.Fatal(err)
	}
	return dm
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// connect dials a test client and closes it at the end of the test.
func connect(t testing.TB, endpoints string, opts ...Option) *Client {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	opts = append([]Option{WithLogger(testLogger(t))}, opts...)
	c, err := Dial(ctx, testModel(t), endpoints, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func startTestServer(t testing.TB, opts ...ovsdbtest.Option) *ovsdbtest.Server {
	t.Helper()
	return ovsdbtest.StartStandalone(t, testSchemaPath, opts...)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ptr[T any](v T) *T { return &v }

// mustTransact runs ops and fails the test on error.
func mustTransact(t testing.TB, c *Client, ops ...Operation) []OperationResult {
	t.Helper()
	res, err := c.Transact(testCtx(t, 30*time.Second), ops...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// testLogger logs through t, so client logs show up with the failing test only.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
