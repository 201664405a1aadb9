/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package placement

import "context"

// WaitSynced blocks until the controller has started and its caches have synced, or ctx
// ends (then it returns false). Health endpoints use it.
func (c *Controller) WaitSynced(ctx context.Context) bool {
	return c.mgr.GetCache().WaitForCacheSync(ctx)
}
