package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// readArchive returns the files of an OCI archive by name.
func readArchive(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = b
	}
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// The archive must be internally consistent the way containerd checks it: every descriptor's
// digest and size match its blob, and diff_ids hash the uncompressed layer.
func TestWriteArchiveLayout(t *testing.T) {
	img := Image{
		Name: "ycloud.local/unit:v1",
		Files: []File{
			{Path: "/bin/tool", Data: []byte("#!/bin/sh\necho hi\n"), Mode: 0o755},
			{Path: "/bin/alias", Link: "tool"},
			{Path: "/etc/motd", Data: []byte("hello\n")},
		},
		Config: Config{Cmd: []string{"/bin/tool"}, User: "65535:65535"},
	}
	var buf bytes.Buffer
	desc, err := WriteArchive(&buf, img)
	if err != nil {
		t.Fatal(err)
	}
	files := readArchive(t, buf.Bytes())
	if string(files["oci-layout"]) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Fatalf("oci-layout: %q", files["oci-layout"])
	}
	var idx index
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != desc.Digest {
		t.Fatalf("index: %+v, want manifest %s", idx, desc.Digest)
	}
	m0 := idx.Manifests[0]
	if m0.Annotations[AnnotationContainerdName] != img.Name || m0.Annotations[AnnotationRefName] != "v1" {
		t.Fatalf("annotations: %v", m0.Annotations)
	}
	if m0.Platform == nil || m0.Platform.Architecture != runtime.GOARCH || m0.Platform.OS != "linux" {
		t.Fatalf("platform: %+v", m0.Platform)
	}
	blob := func(d Descriptor) []byte {
		t.Helper()
		b, ok := files["blobs/sha256/"+strings.TrimPrefix(d.Digest, "sha256:")]
		if !ok {
			t.Fatalf("blob %s missing", d.Digest)
		}
		if digest(b) != d.Digest || int64(len(b)) != d.Size {
			t.Fatalf("blob %s: digest %s size %d, descriptor says size %d", d.Digest, digest(b), len(b), d.Size)
		}
		return b
	}
	var man manifest
	if err := json.Unmarshal(blob(m0), &man); err != nil {
		t.Fatal(err)
	}
	var cfg imageConfig
	if err := json.Unmarshal(blob(man.Config), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != "65535:65535" || cfg.OS != "linux" || len(cfg.RootFS.DiffIDs) != 1 {
		t.Fatalf("config: %+v", cfg)
	}
	zr, err := gzip.NewReader(bytes.NewReader(blob(man.Layers[0])))
	if err != nil {
		t.Fatal(err)
	}
	layer, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if digest(layer) != cfg.RootFS.DiffIDs[0] {
		t.Fatalf("diff_id %s does not hash the uncompressed layer (%s)", cfg.RootFS.DiffIDs[0], digest(layer))
	}
	entries := readArchive(t, layer)
	for _, want := range []string{"bin/", "etc/", "bin/tool", "bin/alias", "etc/motd"} {
		if _, ok := entries[want]; !ok {
			t.Errorf("layer lacks %s (has %v)", want, keys(entries))
		}
	}

	// Same input, same bytes: archives are reproducible, so their digests are stable.
	var again bytes.Buffer
	if _, err := WriteArchive(&again, img); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatal("two archives of the same image differ")
	}
}

func TestWriteArchiveRejectsDuplicates(t *testing.T) {
	_, err := WriteArchive(io.Discard, Image{Name: "x:y", Files: []File{{Path: "/a"}, {Path: "a"}}})
	if err == nil {
		t.Fatal("duplicate path accepted")
	}
}

func TestTagOf(t *testing.T) {
	for in, want := range map[string]string{"a/b:c": "c", "host:5000/b": "latest", "host:5000/b:t": "t", "plain": "latest"} {
		if got := tagOf(in); got != want {
			t.Errorf("tagOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// BuildGo refuses packages whose imports the cache key cannot cover.
func TestBuildGoRefusesNonStdImports(t *testing.T) {
	dir := t.TempDir()
	src := "package main\n\nimport _ \"github.com/ycloud-sdn/ycloud/api/iaas/v1\"\n\nfunc main() {}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := BuildGo(context.Background(), "", dir, dir, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "only the standard library") {
		t.Fatalf("err = %v", err)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
