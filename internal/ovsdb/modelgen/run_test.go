package modelgen

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunWritesFilesAndLeavesUnchangedOnesAlone(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Schema: filepath.Join("..", "schemas", "ovn-ic-nb.ovsschema"), Package: "icnb", Dir: dir}
	if err := Run(opts); err != nil {
		t.Fatal(err)
	}
	want, err := Generate(Config{Package: "icnb", SchemaName: "ovn-ic-nb.ovsschema"}, readSchema(t, "ovn-ic-nb.ovsschema"))
	if err != nil {
		t.Fatal(err)
	}
	old := time.Unix(1_000_000, 0)
	for _, f := range want {
		path := filepath.Join(dir, f.Name)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s written by Run differs from Generate's output", f.Name)
		}
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
	}
	// A second run with nothing to change must not rewrite (and so re-date) files.
	if err := Run(opts); err != nil {
		t.Fatal(err)
	}
	for _, f := range want {
		st, err := os.Stat(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if !st.ModTime().Equal(old) {
			t.Errorf("%s was rewritten although unchanged", f.Name)
		}
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no schema", Options{Package: "p"}, "required"},
		{"no package", Options{Schema: "x.ovsschema"}, "required"},
		{"missing file", Options{Schema: filepath.Join(t.TempDir(), "none.ovsschema"), Package: "p"}, "read schema"},
		{"bad dir", Options{Schema: filepath.Join("..", "schemas", "ovn-ic-nb.ovsschema"), Package: "p",
			Dir: filepath.Join(t.TempDir(), "missing", "dir")}, "write"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
