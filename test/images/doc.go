// Package images builds the container images the lab runs, without Docker or a registry.
//
// Two images exist:
//
//   - PauseImage: a tiny static Go binary (./pause) that containerd's CRI uses as the pod
//     sandbox. It reaps orphaned children and exits on SIGTERM/SIGINT.
//   - TestImage: Debian's busybox-static as /bin/busybox plus a symlink per applet, and our
//     network test tool /bin/ynettest (./ynettest). Debian's busybox wget segfaults, so HTTP
//     and throughput checks go through ynettest.
//
// Each image is written as an OCI image layout inside a tar archive (WriteArchive), the
// format `ctr images import` takes: one gzip layer, a config whose rootfs.diff_ids names the
// uncompressed layer, a manifest, index.json carrying the io.containerd.image.name
// annotation, and the oci-layout file. Archives are reproducible (fixed timestamps, sorted
// entries, uid/gid 0), so their digests only change when their content does.
//
// Go binaries are built with CGO_ENABLED=0 and cached by a hash of their sources and the Go
// version (BuildGo); the packages built that way may only import the standard library, which
// BuildGo checks, so the hash covers everything that goes into the binary.
package images
