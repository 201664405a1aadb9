/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package workagent

import "context"

// WaitSynced blocks until the agent has started and its ManifestWork cache has synced, or
// ctx ends (then it returns false). Health endpoints use it.
func (a *Agent) WaitSynced(ctx context.Context) bool {
	return a.mgr.GetCache().WaitForCacheSync(ctx)
}
