package main

import (
	"os"
	"strings"
	"testing"
)

// The guard that keeps nodeinit from unmounting the host's /sys: in the test's own mount
// namespace (the host's, or at least the parent's) it must refuse before touching anything.
func TestRefusesSharedMountNamespace(t *testing.T) {
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	err = prepare(self, true, []string{"/nonexistent-should-not-be-mounted"}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("prepare in the host mount namespace: err = %v", err)
	}
	if _, err := os.Stat("/nonexistent-should-not-be-mounted"); err == nil {
		t.Fatal("prepare created a directory before refusing")
	}
	if err := prepare("", true, nil, nil, nil); err == nil {
		t.Fatal("prepare without -host-mntns accepted")
	}
}

func TestMountinfoParses(t *testing.T) {
	ms, err := mountinfo()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.mountPoint == "/" {
			return
		}
	}
	t.Fatalf("no / in %d mounts", len(ms))
}
