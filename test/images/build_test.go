package images

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate source")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// A second Build with the same inputs compiles and writes nothing.
func TestBuildCaches(t *testing.T) {
	cache := t.TempDir()
	opts := Options{RepoRoot: repoRoot(t), CacheDir: cache}
	first, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Built {
		t.Fatal("first build into an empty cache reports nothing built")
	}
	for _, ref := range []string{PauseImage, TestImage} {
		st, err := os.Stat(first.Archives[ref])
		if err != nil || st.Size() < 500_000 {
			t.Fatalf("archive of %s: %v (size %v)", ref, err, st)
		}
	}
	second, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if second.Built {
		t.Fatal("second build with identical inputs rebuilt something")
	}
	if second.Archives[TestImage] != first.Archives[TestImage] || second.Pause != first.Pause {
		t.Fatal("second build returned different paths")
	}
}
