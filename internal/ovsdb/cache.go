package ovsdb

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"
)

// Cache holds the rows of the monitored tables, kept up to date by the client's monitors,
// with secondary indexes and event handlers. All reads return copies.
//
// Rows stored in the cache are never modified: a change replaces the stored pointer with
// a new row. That lets events carry rows to the dispatcher without holding the lock.
type Cache struct {
	dm  *DatabaseModel
	log *slog.Logger

	mu       sync.RWMutex
	tables   map[string]*tableCache
	handlers map[string][]*Handler
	disp     *dispatcher
}

type indexSpec struct {
	table  string
	column string
	extKey string // set for an external_ids index
}

// WithIndex indexes a table by a scalar or optional column (e.g. Logical_Switch name), for
// Lookup and for Cache.Get with a model whose UUID is empty. The index is not unique.
func WithIndex(table, column string) Option {
	return func(o *options) { o.indexes = append(o.indexes, indexSpec{table: table, column: column}) }
}

// WithExternalIDIndex indexes a table by the value of one external_ids key (e.g.
// "ycloud.io/owner"), for LookupExternalID.
func WithExternalIDIndex(table, key string) Option {
	return func(o *options) {
		o.indexes = append(o.indexes, indexSpec{table: table, column: "external_ids", extKey: key})
	}
}

type tableCache struct {
	ti      *tableInfo
	rows    map[string]any // uuid -> *model, immutable once stored
	byCol   map[string]*index
	byExtID map[string]*index
}

type index struct {
	fi     *fieldInfo
	extKey string
	m      map[any]map[string]struct{}
}

func newCache(dm *DatabaseModel, specs []indexSpec, lg *slog.Logger) (*Cache, error) {
	c := &Cache{
		dm:       dm,
		log:      lg,
		tables:   make(map[string]*tableCache, len(dm.tables)),
		handlers: make(map[string][]*Handler),
		disp:     newDispatcher(),
	}
	for name, ti := range dm.tables {
		c.tables[name] = &tableCache{
			ti:      ti,
			rows:    make(map[string]any),
			byCol:   make(map[string]*index),
			byExtID: make(map[string]*index),
		}
	}
	for _, s := range specs {
		tc := c.tables[s.table]
		if tc == nil {
			c.disp.close()
			return nil, fmt.Errorf("index on %q: table is not mapped in database %q", s.table, dm.Name())
		}
		fi := tc.ti.byColumn[s.column]
		if fi == nil {
			c.disp.close()
			return nil, fmt.Errorf("index on %q: model has no column %q", s.table, s.column)
		}
		ix := &index{fi: fi, extKey: s.extKey, m: make(map[any]map[string]struct{})}
		if s.extKey != "" {
			ft := tc.ti.typ.Field(fi.index).Type
			if fi.kind != kindMap || ft.Key().Kind() != reflect.String || ft.Elem().Kind() != reflect.String {
				c.disp.close()
				return nil, fmt.Errorf("index on %q: external_ids is not a string map", s.table)
			}
			tc.byExtID[s.extKey] = ix
			continue
		}
		if fi.kind != kindScalar && fi.kind != kindOptional {
			c.disp.close()
			return nil, fmt.Errorf("index on %q column %q: only scalar and optional columns can be indexed", s.table, s.column)
		}
		tc.byCol[s.column] = ix
	}
	return c, nil
}

func (c *Cache) close() { c.disp.close() }

// normKey makes index keys independent of named types (an enum string type and a plain
// string give the same key).
func normKey(v reflect.Value) (any, bool) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil, false
		}
		v = v.Elem()
	}
	switch {
	case v.Kind() == reflect.String:
		return v.String(), true
	case v.CanInt():
		return v.Int(), true
	case v.CanFloat():
		return v.Float(), true
	case v.Kind() == reflect.Bool:
		return v.Bool(), true
	}
	return nil, false
}

func (ix *index) key(row reflect.Value) (any, bool) {
	f := row.Field(ix.fi.index)
	if ix.extKey != "" {
		if f.IsNil() {
			return nil, false
		}
		val := f.MapIndex(reflect.ValueOf(ix.extKey).Convert(f.Type().Key()))
		if !val.IsValid() {
			return nil, false
		}
		return val.String(), true
	}
	return normKey(f)
}

func (ix *index) add(uuid string, row reflect.Value) {
	k, ok := ix.key(row)
	if !ok {
		return
	}
	set := ix.m[k]
	if set == nil {
		set = make(map[string]struct{}, 1)
		ix.m[k] = set
	}
	set[uuid] = struct{}{}
}

func (ix *index) remove(uuid string, row reflect.Value) {
	k, ok := ix.key(row)
	if !ok {
		return
	}
	if set := ix.m[k]; set != nil {
		delete(set, uuid)
		if len(set) == 0 {
			delete(ix.m, k)
		}
	}
}

func (tc *tableCache) indexAdd(uuid string, p any) {
	if len(tc.byCol) == 0 && len(tc.byExtID) == 0 {
		return
	}
	v := reflect.ValueOf(p).Elem()
	for _, ix := range tc.byCol {
		ix.add(uuid, v)
	}
	for _, ix := range tc.byExtID {
		ix.add(uuid, v)
	}
}

func (tc *tableCache) indexRemove(uuid string, p any) {
	if len(tc.byCol) == 0 && len(tc.byExtID) == 0 {
		return
	}
	v := reflect.ValueOf(p).Elem()
	for _, ix := range tc.byCol {
		ix.remove(uuid, v)
	}
	for _, ix := range tc.byExtID {
		ix.remove(uuid, v)
	}
}

// The mutators below run with c.mu held for writing.

func (c *Cache) emit(tc *tableCache, kind eventKind, old, new any) {
	hs := c.handlers[tc.ti.name]
	if len(hs) == 0 {
		return
	}
	c.disp.push(event{ti: tc.ti, handlers: hs, kind: kind, old: old, new: new})
}

// put stores a row, emitting add or (when it differs) update.
func (c *Cache) put(tc *tableCache, uuid string, p any) {
	old, exists := tc.rows[uuid]
	if exists {
		if tc.ti.equalRows(reflect.ValueOf(old).Elem(), reflect.ValueOf(p).Elem()) {
			return
		}
		tc.indexRemove(uuid, old)
	}
	tc.rows[uuid] = p
	tc.indexAdd(uuid, p)
	if exists {
		c.emit(tc, eventUpdate, old, p)
	} else {
		c.emit(tc, eventAdd, nil, p)
	}
}

func (c *Cache) remove(tc *tableCache, uuid string) {
	old, ok := tc.rows[uuid]
	if !ok {
		return
	}
	delete(tc.rows, uuid)
	tc.indexRemove(uuid, old)
	c.emit(tc, eventDelete, old, nil)
}

// Reads.

func (c *Cache) tableFor(t reflect.Type) (*tableCache, error) {
	ti, err := c.dm.infoForType(t)
	if err != nil {
		return nil, err
	}
	return c.tables[ti.name], nil
}

// Get fills m (a pointer to a model) with a copy of the cached row it identifies: by its
// UUID when set, otherwise by the first indexed column (see WithIndex) whose field is
// set. It returns ErrNotFound when no row matches, and an error when several do.
func (c *Cache) Get(m Model) error {
	ti, v, err := c.dm.info(m)
	if err != nil {
		return fmt.Errorf("cache get: %w", err)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	tc := c.tables[ti.name]
	var found any
	if id := ti.uuid(v); id != "" {
		found = tc.rows[id]
	} else {
		matched := false
		for _, fi := range ti.fields {
			ix := tc.byCol[fi.column]
			if ix == nil || isZero(v.Field(fi.index)) {
				continue
			}
			k, ok := normKey(v.Field(fi.index))
			if !ok {
				continue
			}
			matched = true
			set := ix.m[k]
			if len(set) > 1 {
				return fmt.Errorf("cache get %s by %s=%v: %d rows match", ti.name, fi.column, k, len(set))
			}
			for id := range set {
				found = tc.rows[id]
			}
			break
		}
		if !matched {
			return fmt.Errorf("cache get %s: model has neither a UUID nor a set indexed column", ti.name)
		}
	}
	if found == nil {
		return fmt.Errorf("cache get %s: %w", ti.name, ErrNotFound)
	}
	v.Set(reflect.ValueOf(ti.copyRow(found)).Elem())
	return nil
}

// Len returns the number of cached rows of a table.
func (c *Cache) Len(table string) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if tc := c.tables[table]; tc != nil {
		return len(tc.rows)
	}
	return 0
}

// AddHandler registers h for a table's events. Rows already cached are replayed to it as
// OnAdd first, so a handler added at any time sees every row exactly once before the
// changes that follow.
func (c *Cache) AddHandler(table string, h Handler) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	tc := c.tables[table]
	if tc == nil {
		return fmt.Errorf("add handler: table %q is not mapped in database %q", table, c.dm.Name())
	}
	hp := &h
	// Copy-on-write: events already queued keep the handler list they were built with.
	c.handlers[table] = append(append([]*Handler(nil), c.handlers[table]...), hp)
	for _, row := range tc.rows {
		c.disp.push(event{ti: tc.ti, handlers: []*Handler{hp}, kind: eventAdd, new: row})
	}
	return nil
}

// WaitIdle blocks until every queued event has been handed to the handlers, or ctx ends.
// It polls; it is meant for tests and orderly shutdown.
func (c *Cache) WaitIdle(ctx context.Context) error {
	for !c.disp.idle() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for cache events: %w", ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

// GetByUUID returns a copy of the row of type T with the given UUID.
func GetByUUID[T any](c *Cache, uuid string) (*T, error) {
	tc, err := c.tableFor(reflect.TypeFor[T]())
	if err != nil {
		return nil, fmt.Errorf("cache get: %w", err)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	p := tc.rows[uuid]
	if p == nil {
		return nil, fmt.Errorf("cache get %s %s: %w", tc.ti.name, uuid, ErrNotFound)
	}
	return tc.ti.copyRow(p).(*T), nil
}

// List returns copies of the cached rows of type T for which pred returns true (all rows
// when pred is nil). pred sees the cached rows themselves and must not modify them or
// keep them.
func List[T any](c *Cache, pred func(*T) bool) ([]*T, error) {
	tc, err := c.tableFor(reflect.TypeFor[T]())
	if err != nil {
		return nil, fmt.Errorf("cache list: %w", err)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*T, 0, len(tc.rows))
	for _, p := range tc.rows {
		row := p.(*T)
		if pred == nil || pred(row) {
			out = append(out, tc.ti.copyRow(p).(*T))
		}
	}
	return out, nil
}

// Lookup returns copies of the rows of type T whose indexed column equals value (see
// WithIndex).
func Lookup[T any](c *Cache, column string, value any) ([]*T, error) {
	tc, err := c.tableFor(reflect.TypeFor[T]())
	if err != nil {
		return nil, fmt.Errorf("cache lookup: %w", err)
	}
	ix := tc.byCol[column]
	if ix == nil {
		return nil, fmt.Errorf("cache lookup %s: no index on column %q", tc.ti.name, column)
	}
	k, ok := normKey(reflect.ValueOf(value))
	if !ok {
		return nil, fmt.Errorf("cache lookup %s: cannot index by %T", tc.ti.name, value)
	}
	return lookup[T](c, tc, ix, k), nil
}

// LookupExternalID returns copies of the rows of type T whose external_ids[key] equals
// value (see WithExternalIDIndex).
func LookupExternalID[T any](c *Cache, key, value string) ([]*T, error) {
	tc, err := c.tableFor(reflect.TypeFor[T]())
	if err != nil {
		return nil, fmt.Errorf("cache lookup: %w", err)
	}
	ix := tc.byExtID[key]
	if ix == nil {
		return nil, fmt.Errorf("cache lookup %s: no index on external_ids key %q", tc.ti.name, key)
	}
	return lookup[T](c, tc, ix, value), nil
}

func lookup[T any](c *Cache, tc *tableCache, ix *index, k any) []*T {
	c.mu.RLock()
	defer c.mu.RUnlock()
	set := ix.m[k]
	out := make([]*T, 0, len(set))
	for id := range set {
		out = append(out, tc.ti.copyRow(tc.rows[id]).(*T))
	}
	return out
}
