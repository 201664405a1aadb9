package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Media types of the OCI image specification v1.
const (
	MediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayerGz  = "application/vnd.oci.image.layer.v1.tar+gzip"

	// AnnotationContainerdName is what `ctr images import` names the image after.
	AnnotationContainerdName = "io.containerd.image.name"
	// AnnotationRefName is the OCI tag annotation.
	AnnotationRefName = "org.opencontainers.image.ref.name"
)

// epoch is the timestamp of every file and of the image itself: archives must not change
// when only the time of the build does.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// File is one entry of an image's single layer. Exactly one of Data, Source, Link or Dir
// describes the entry.
type File struct {
	// Path inside the image, absolute ("/bin/busybox").
	Path string
	// Mode holds the permission bits (0755 when zero for files from Source, 0644 for Data).
	Mode fs.FileMode
	// Data is the content of a regular file.
	Data []byte
	// Source is a host file whose content becomes a regular file.
	Source string
	// Link is the target of a symbolic link.
	Link string
	// Dir makes a directory.
	Dir bool
}

// Config is the part of the OCI image configuration a container runtime reads.
type Config struct {
	User       string   `json:"User,omitempty"`
	Env        []string `json:"Env,omitempty"`
	Entrypoint []string `json:"Entrypoint,omitempty"`
	Cmd        []string `json:"Cmd,omitempty"`
	WorkingDir string   `json:"WorkingDir,omitempty"`
}

// Image describes one single-layer image.
type Image struct {
	// Name is the full reference, "ycloud.local/pause:3.10"; the tag is what follows the
	// last colon after the last slash.
	Name   string
	Files  []File
	Config Config
	// Arch defaults to the architecture of this process.
	Arch string
}

// Descriptor is an OCI content descriptor.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    *Platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Platform names the os/architecture of a manifest.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

type imageConfig struct {
	Architecture string  `json:"architecture"`
	OS           string  `json:"os"`
	Created      string  `json:"created"`
	Config       Config  `json:"config"`
	RootFS       rootFS  `json:"rootfs"`
	History      []entry `json:"history"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type entry struct {
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        Descriptor   `json:"config"`
	Layers        []Descriptor `json:"layers"`
}

type index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []Descriptor `json:"manifests"`
}

// tagOf returns the tag of a reference ("latest" when it has none).
func tagOf(name string) string {
	slash := strings.LastIndex(name, "/")
	if c := strings.LastIndex(name, ":"); c > slash {
		return name[c+1:]
	}
	return "latest"
}

// WriteArchive writes img as an OCI image layout tar archive to w and returns the descriptor
// of its manifest (whose digest identifies the image).
func WriteArchive(w io.Writer, img Image) (Descriptor, error) {
	if img.Name == "" {
		return Descriptor{}, fmt.Errorf("image without a name")
	}
	arch := img.Arch
	if arch == "" {
		arch = runtime.GOARCH
	}
	layer, diffID, err := buildLayer(img.Files)
	if err != nil {
		return Descriptor{}, fmt.Errorf("image %s: layer: %w", img.Name, err)
	}
	blobs := map[string][]byte{}
	layerDesc := addBlob(blobs, MediaTypeLayerGz, layer)

	cfg, err := json.Marshal(imageConfig{
		Architecture: arch,
		OS:           "linux",
		Created:      epoch.Format(time.RFC3339),
		Config:       img.Config,
		RootFS:       rootFS{Type: "layers", DiffIDs: []string{diffID}},
		History:      []entry{{Created: epoch.Format(time.RFC3339), CreatedBy: "ycloud test/images"}},
	})
	if err != nil {
		return Descriptor{}, fmt.Errorf("image %s: config: %w", img.Name, err)
	}
	cfgDesc := addBlob(blobs, MediaTypeConfig, cfg)

	man, err := json.Marshal(manifest{SchemaVersion: 2, MediaType: MediaTypeManifest, Config: cfgDesc, Layers: []Descriptor{layerDesc}})
	if err != nil {
		return Descriptor{}, fmt.Errorf("image %s: manifest: %w", img.Name, err)
	}
	manDesc := addBlob(blobs, MediaTypeManifest, man)
	manDesc.Platform = &Platform{Architecture: arch, OS: "linux"}
	manDesc.Annotations = map[string]string{AnnotationContainerdName: img.Name, AnnotationRefName: tagOf(img.Name)}

	idx, err := json.Marshal(index{SchemaVersion: 2, MediaType: MediaTypeIndex, Manifests: []Descriptor{manDesc}})
	if err != nil {
		return Descriptor{}, fmt.Errorf("image %s: index: %w", img.Name, err)
	}

	tw := tar.NewWriter(w)
	put := func(name string, data []byte) error {
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Mode: 0o755, ModTime: epoch, Typeflag: tar.TypeDir, Format: tar.FormatPAX}); err != nil {
			return Descriptor{}, fmt.Errorf("image %s: archive: %w", img.Name, err)
		}
	}
	if err := put("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return Descriptor{}, fmt.Errorf("image %s: archive: %w", img.Name, err)
	}
	if err := put("index.json", idx); err != nil {
		return Descriptor{}, fmt.Errorf("image %s: archive: %w", img.Name, err)
	}
	digests := make([]string, 0, len(blobs))
	for d := range blobs {
		digests = append(digests, d)
	}
	sort.Strings(digests)
	for _, d := range digests {
		if err := put("blobs/sha256/"+strings.TrimPrefix(d, "sha256:"), blobs[d]); err != nil {
			return Descriptor{}, fmt.Errorf("image %s: archive: %w", img.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return Descriptor{}, fmt.Errorf("image %s: archive: %w", img.Name, err)
	}
	return manDesc, nil
}

// WriteArchiveFile writes the archive to path atomically (a reader never sees half a file).
func WriteArchiveFile(path string, img Image) (Descriptor, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".image-*")
	if err != nil {
		return Descriptor{}, fmt.Errorf("image %s: %w", img.Name, err)
	}
	defer os.Remove(tmp.Name())
	desc, err := WriteArchive(tmp, img)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Descriptor{}, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Descriptor{}, fmt.Errorf("image %s: %w", img.Name, err)
	}
	return desc, nil
}

func addBlob(blobs map[string][]byte, mediaType string, data []byte) Descriptor {
	sum := sha256.Sum256(data)
	d := "sha256:" + hex.EncodeToString(sum[:])
	blobs[d] = data
	return Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
}

// buildLayer returns the gzip-compressed layer and the digest of its uncompressed tar (the
// diff_id). Parent directories are added when the file list does not name them.
func buildLayer(files []File) ([]byte, string, error) {
	byPath := map[string]File{}
	for _, f := range files {
		p := path.Clean("/" + f.Path)
		if p == "/" {
			continue
		}
		if _, dup := byPath[p]; dup {
			return nil, "", fmt.Errorf("file %s listed twice", p)
		}
		f.Path = p
		byPath[p] = f
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := byPath[d]; !ok {
				byPath[d] = File{Path: d, Dir: true}
			}
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	var gz bytes.Buffer
	diff := sha256.New()
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, "", err
	}
	tw := tar.NewWriter(io.MultiWriter(zw, diff))
	for _, p := range paths {
		f := byPath[p]
		hdr := &tar.Header{Name: strings.TrimPrefix(p, "/"), ModTime: epoch, Format: tar.FormatPAX}
		var data []byte
		switch {
		case f.Dir:
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, hdr.Name+"/", int64(orMode(f.Mode, 0o755))
		case f.Link != "":
			hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, f.Link, 0o777
		case f.Source != "":
			if data, err = os.ReadFile(f.Source); err != nil {
				return nil, "", fmt.Errorf("file %s: %w", p, err)
			}
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, int64(orMode(f.Mode, 0o755)), int64(len(data))
		default:
			data = f.Data
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, int64(orMode(f.Mode, 0o644)), int64(len(data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, "", fmt.Errorf("file %s: %w", p, err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, "", fmt.Errorf("file %s: %w", p, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	return gz.Bytes(), "sha256:" + hex.EncodeToString(diff.Sum(nil)), nil
}

func orMode(m, def fs.FileMode) fs.FileMode {
	if m&fs.ModePerm == 0 {
		return def
	}
	return m & fs.ModePerm
}
