#!/usr/bin/env bash
# verify.sh: fail when generated files differ from what the generators produce now.
# It hashes the generated trees, regenerates, and compares, so it works in a dirty work tree
# as well as on a clean clone (it never looks at git state).
set -euo pipefail
cd "$(dirname "$0")/.."
gen_files() {
  { find api internal -name 'zz_generated*.go' 2>/dev/null; find deploy/crds deploy/hub/rbac deploy/spoke/rbac -type f 2>/dev/null; } | LC_ALL=C sort
}
snapshot() { gen_files | while read -r f; do sha256sum "$f"; done; }
before=$(snapshot)
make -s generate manifests >/dev/null
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "verify: generated files were stale; regenerated with 'make generate manifests'. Differences:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
echo "verify: generated files are up to date"
