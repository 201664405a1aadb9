package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// Image references the lab uses. Pods must set imagePullPolicy: Never: there is no registry.
const (
	PauseImage = "ycloud.local/pause:3.10"
	TestImage  = "ycloud.local/ynettest:lab"
)

// Options says where to find sources and tools and where to cache results.
type Options struct {
	// RepoRoot is the top of the ycloud checkout (the directory holding go.mod).
	RepoRoot string
	// CacheDir holds binaries and archives, named by content hash. It is created if needed.
	CacheDir string
	// Busybox is a static busybox binary; default /bin/busybox (Debian's busybox-static).
	Busybox string
	// Go is the go command; default "go" from PATH, then /usr/local/go/bin/go.
	Go string
}

// Result lists what Build produced. Paths are inside CacheDir.
type Result struct {
	Pause    string // static pause binary
	Ynettest string // static network test tool
	// Archives maps an image reference (PauseImage, TestImage) to its OCI archive.
	Archives map[string]string
	// Built is true when at least one thing was compiled or written (false: all cached).
	Built bool
}

// Build compiles the pause and ynettest binaries and writes both image archives, reusing
// what CacheDir already holds for the same inputs.
func Build(ctx context.Context, o Options) (*Result, error) {
	if o.Busybox == "" {
		o.Busybox = "/bin/busybox"
	}
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("image cache: %w", err)
	}
	res := &Result{Archives: map[string]string{}}
	var built bool
	var err error
	dir := filepath.Join(o.RepoRoot, "test", "images")
	if res.Pause, built, err = BuildGo(ctx, o.Go, o.RepoRoot, filepath.Join(dir, "pause"), o.CacheDir); err != nil {
		return nil, err
	}
	res.Built = res.Built || built
	if res.Ynettest, built, err = BuildGo(ctx, o.Go, o.RepoRoot, filepath.Join(dir, "ynettest"), o.CacheDir); err != nil {
		return nil, err
	}
	res.Built = res.Built || built

	applets, err := busyboxApplets(ctx, o.Busybox)
	if err != nil {
		return nil, err
	}
	for _, img := range []Image{pauseImage(res.Pause), testImage(o.Busybox, applets, res.Ynettest)} {
		p, built, err := cachedArchive(o.CacheDir, img)
		if err != nil {
			return nil, err
		}
		res.Archives[img.Name] = p
		res.Built = res.Built || built
	}
	return res, nil
}

func pauseImage(bin string) Image {
	return Image{
		Name:   PauseImage,
		Files:  []File{{Path: "/pause", Source: bin, Mode: 0o755}},
		Config: Config{Entrypoint: []string{"/pause"}, User: "65535:65535"},
	}
}

func testImage(busybox string, applets []string, ynettest string) Image {
	files := []File{
		{Path: "/bin/busybox", Source: busybox, Mode: 0o755},
		{Path: "/bin/ynettest", Source: ynettest, Mode: 0o755},
		{Path: "/etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{Path: "/etc/group", Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{Path: "/var/www/index.html", Data: []byte("hello from ynettest image\n")},
		{Path: "/tmp", Dir: true, Mode: 0o777},
		{Path: "/root", Dir: true, Mode: 0o700},
	}
	for _, a := range applets {
		if a == "busybox" {
			continue
		}
		// Every applet under /bin: the image has no /usr, and PATH covers /bin.
		files = append(files, File{Path: "/bin/" + a, Link: "busybox"})
	}
	return Image{
		Name:   TestImage,
		Files:  files,
		Config: Config{Cmd: []string{"/bin/sh"}, Env: []string{"PATH=/bin"}},
	}
}

// busyboxApplets asks the binary for its applet names (busybox --list).
func busyboxApplets(ctx context.Context, busybox string) ([]string, error) {
	out, err := exec.CommandContext(ctx, busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox %s --list: %w (install busybox-static)", busybox, err)
	}
	var names []string
	for _, l := range strings.Fields(string(out)) {
		if l != "" && !strings.Contains(l, "/") {
			names = append(names, l)
		}
	}
	if len(names) < 50 {
		return nil, fmt.Errorf("busybox %s lists only %d applets; is it the static build?", busybox, len(names))
	}
	sort.Strings(names)
	return names, nil
}

// cachedArchive writes img's archive into dir unless a file for identical inputs is there.
func cachedArchive(dir string, img Image) (string, bool, error) {
	key, err := imageKey(img)
	if err != nil {
		return "", false, err
	}
	base := strings.NewReplacer("/", "_", ":", "_").Replace(img.Name)
	p := filepath.Join(dir, fmt.Sprintf("%s-%s.oci.tar", base, key[:16]))
	if _, err := os.Stat(p); err == nil {
		return p, false, nil
	}
	if _, err := WriteArchiveFile(p, img); err != nil {
		return "", false, err
	}
	return p, true, nil
}

// imageKey hashes everything WriteArchive reads, without compressing anything.
func imageKey(img Image) (string, error) {
	h := sha256.New()
	meta, err := json.Marshal(struct {
		Name, Arch string
		Config     Config
	}{img.Name, img.Arch, img.Config})
	if err != nil {
		return "", err
	}
	h.Write(meta)
	for _, f := range img.Files {
		fmt.Fprintf(h, "\n%s|%o|%s|%t|", f.Path, f.Mode, f.Link, f.Dir)
		switch {
		case f.Source != "":
			src, err := os.Open(f.Source)
			if err != nil {
				return "", fmt.Errorf("image %s: %w", img.Name, err)
			}
			_, err = io.Copy(h, src)
			src.Close()
			if err != nil {
				return "", fmt.Errorf("image %s: %w", img.Name, err)
			}
		default:
			h.Write(f.Data)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// BuildGo compiles the main package in pkgDir (inside the module at repoRoot) as a static
// binary into cacheDir, named <package>-<hash>, where the hash covers the package's
// non-test Go files, the Go version and the target platform. A binary already there is
// reused; built reports whether the compiler ran. The package may only import the standard
// library: otherwise the hash would miss changes in its dependencies.
func BuildGo(ctx context.Context, goCmd, repoRoot, pkgDir, cacheDir string) (path string, built bool, err error) {
	name := filepath.Base(pkgDir)
	if goCmd == "" {
		goCmd = findGo()
	}
	files, err := filepath.Glob(filepath.Join(pkgDir, "*.go"))
	if err != nil || len(files) == 0 {
		return "", false, fmt.Errorf("build %s: no Go files in %s", name, pkgDir)
	}
	sort.Strings(files)
	h := sha256.New()
	gover, err := exec.CommandContext(ctx, goCmd, "env", "GOVERSION").Output()
	if err != nil {
		return "", false, fmt.Errorf("build %s: go env: %w", name, err)
	}
	fmt.Fprintf(h, "%s|%s|%s|static\n", bytes.TrimSpace(gover), runtime.GOOS, runtime.GOARCH)
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			return "", false, fmt.Errorf("build %s: %w", name, err)
		}
		parsed, err := parser.ParseFile(fset, f, src, parser.ImportsOnly)
		if err != nil {
			return "", false, fmt.Errorf("build %s: %w", name, err)
		}
		for _, imp := range parsed.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") {
				return "", false, fmt.Errorf("build %s: %s imports %s; only the standard library is allowed (the cache key would miss it)", name, filepath.Base(f), p)
			}
		}
		fmt.Fprintf(h, "%s\n", filepath.Base(f))
		h.Write(src)
	}
	sum := hex.EncodeToString(h.Sum(nil))[:16]
	out := filepath.Join(cacheDir, name+"-"+sum)
	if _, err := os.Stat(out); err == nil {
		return out, false, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", false, fmt.Errorf("build %s: %w", name, err)
	}
	tmp := fmt.Sprintf("%s.tmp%d", out, os.Getpid())
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, ".")
	cmd.Dir = pkgDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return "", false, fmt.Errorf("build %s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", false, fmt.Errorf("build %s: %w", name, err)
	}
	return out, true, nil
}

func findGo() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}
