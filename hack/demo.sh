#!/usr/bin/env bash
# demo.sh: the product's main job on a fresh machine. Until the lab lands this starts a real
# apiserver with the CRDs, applies deploy/samples and prints them as `kubectl get` does.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./hack/apidemo "$@"
