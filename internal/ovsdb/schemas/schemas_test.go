package schemas

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// installed maps each copy to the file the Debian packages install.
var installed = map[string]string{
	"ovn-nb.ovsschema":    "/usr/share/ovn/ovn-nb.ovsschema",
	"ovn-sb.ovsschema":    "/usr/share/ovn/ovn-sb.ovsschema",
	"ovn-ic-nb.ovsschema": "/usr/share/ovn/ovn-ic-nb.ovsschema",
	"ovn-ic-sb.ovsschema": "/usr/share/ovn/ovn-ic-sb.ovsschema",
	"vswitch.ovsschema":   "/usr/share/openvswitch/vswitch.ovsschema",
}

func TestCopiesMatchInstalledSchemas(t *testing.T) {
	compared := 0
	for copyName, path := range installed {
		want, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			// Machines without OVN/OVS (a plain CI runner) have nothing to compare.
			t.Logf("%s is not installed; %s not compared", path, copyName)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(copyName)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the installed %s: copy the new file here and run go generate ./internal/ovsdb/...", copyName, path)
		}
		compared++
	}
	t.Logf("compared %d of %d schema copies with the installed files", compared, len(installed))
}

// TestNoUnlistedCopies keeps the list above complete: every schema file here must
// have an installed counterpart to be compared with.
func TestNoUnlistedCopies(t *testing.T) {
	files, err := filepath.Glob("*.ovsschema")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(installed) {
		t.Errorf("schema files here: %v; the test knows %d", files, len(installed))
	}
	for _, f := range files {
		if _, ok := installed[f]; !ok {
			t.Errorf("%s has no installed counterpart listed", f)
		}
	}
}
