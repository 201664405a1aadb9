package ovsdb

import (
	"fmt"
	"reflect"
	"slices"
)

// This file applies monitor data to the cache: <table-updates> (monitor, RFC 7047 4.1.6),
// <table-updates2> (monitor_cond and monitor_cond_since, ovsdb-server(7) 4.1.14) and full
// snapshots, which replace a table's contents and emit events for the difference only.

// snapshot is the full content of some tables: table -> uuid -> wire row.
type snapshot map[string]map[string]map[string]any

func asObject(w any, what string) (map[string]any, error) {
	m, ok := w.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want an object, got %s", what, describe(w))
	}
	return m, nil
}

// forEachRowUpdate walks <table-updates> or <table-updates2>, calling fn for every row of
// every table the model maps.
func (c *Cache) forEachRowUpdate(w any, fn func(tc *tableCache, uuid string, ru map[string]any) error) error {
	tables, err := asObject(w, "table updates")
	if err != nil {
		return err
	}
	for tname, tw := range tables {
		tc := c.tables[tname]
		if tc == nil {
			continue
		}
		rows, err := asObject(tw, "table "+tname)
		if err != nil {
			return err
		}
		for uuid, rw := range rows {
			if !IsUUID(uuid) {
				return fmt.Errorf("table %q: row key %q is not a uuid", tname, uuid)
			}
			ru, err := asObject(rw, "table "+tname+" row "+uuid)
			if err != nil {
				return err
			}
			if err := fn(tc, uuid, ru); err != nil {
				return fmt.Errorf("table %q row %s: %w", tname, uuid, err)
			}
		}
	}
	return nil
}

// collectSnapshot extracts full rows from updates that describe a complete state:
// "initial"/"insert" rows of <table-updates2> (v2) or "new" rows of <table-updates> (v1).
func (c *Cache) collectSnapshot(w any, v2 bool, tables []string) (snapshot, error) {
	snap := make(snapshot, len(tables))
	for _, t := range tables {
		snap[t] = make(map[string]map[string]any)
	}
	err := c.forEachRowUpdate(w, func(tc *tableCache, uuid string, ru map[string]any) error {
		var body any
		var ok bool
		if v2 {
			if body, ok = ru["initial"]; !ok {
				body, ok = ru["insert"]
			}
		} else {
			body, ok = ru["new"]
		}
		if !ok {
			return fmt.Errorf("snapshot row without a full value: %s", describe(ru))
		}
		row, err := asObject(body, "row")
		if err != nil {
			return err
		}
		if snap[tc.ti.name] == nil {
			snap[tc.ti.name] = make(map[string]map[string]any)
		}
		snap[tc.ti.name][uuid] = row
		return nil
	})
	return snap, err
}

// replace makes the given tables hold exactly the snapshot. Unchanged rows keep their
// stored pointer and produce no event.
func (c *Cache) replace(snap snapshot) error {
	// Decode outside the lock: a large resync must not stall readers for the decode.
	decoded := make(map[string]map[string]any, len(snap))
	for tname, rows := range snap {
		tc := c.tables[tname]
		if tc == nil {
			continue
		}
		out := make(map[string]any, len(rows))
		for uuid, row := range rows {
			p, v := tc.ti.newRow()
			if err := tc.ti.decodeRow(uuid, row, v); err != nil {
				return err
			}
			out[uuid] = p
		}
		decoded[tname] = out
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for tname, rows := range decoded {
		tc := c.tables[tname]
		for uuid := range tc.rows {
			if _, keep := rows[uuid]; !keep {
				c.remove(tc, uuid)
			}
		}
		for uuid, p := range rows {
			c.put(tc, uuid, p)
		}
	}
	return nil
}

// applyUpdates1 applies <table-updates> (monitor v1): "new" is the whole row.
func (c *Cache) applyUpdates1(w any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.forEachRowUpdate(w, func(tc *tableCache, uuid string, ru map[string]any) error {
		body, ok := ru["new"]
		if !ok || body == nil {
			c.remove(tc, uuid)
			return nil
		}
		row, err := asObject(body, "new")
		if err != nil {
			return err
		}
		p, v := tc.ti.newRow()
		if err := tc.ti.decodeRow(uuid, row, v); err != nil {
			return err
		}
		c.put(tc, uuid, p)
		return nil
	})
}

// applyUpdates2 applies <table-updates2>: initial/insert carry whole rows, modify a diff,
// delete nothing.
func (c *Cache) applyUpdates2(w any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.forEachRowUpdate(w, func(tc *tableCache, uuid string, ru map[string]any) error {
		if len(ru) != 1 {
			return fmt.Errorf("row update must have exactly one member, got %d", len(ru))
		}
		for kind, body := range ru {
			switch kind {
			case "initial", "insert":
				row, err := asObject(body, kind)
				if err != nil {
					return err
				}
				p, v := tc.ti.newRow()
				if err := tc.ti.decodeRow(uuid, row, v); err != nil {
					return err
				}
				c.put(tc, uuid, p)
			case "modify":
				diff, err := asObject(body, kind)
				if err != nil {
					return err
				}
				old, ok := tc.rows[uuid]
				if !ok {
					return fmt.Errorf("modify of a row the cache does not have")
				}
				p := tc.ti.copyRow(old)
				if err := tc.ti.applyDiff(reflect.ValueOf(p).Elem(), diff); err != nil {
					return err
				}
				c.put(tc, uuid, p)
			case "delete":
				c.remove(tc, uuid)
			default:
				return fmt.Errorf("unknown row update %q", kind)
			}
		}
		return nil
	})
}

// applyDiff applies a "modify" diff: a scalar column carries its new value; any other set
// column the elements to toggle (symmetric difference; optional 0..1 columns are sets
// too); a map the pairs to toggle, where a key whose value differs takes the new value.
func (ti *tableInfo) applyDiff(v reflect.Value, diff map[string]any) error {
	for col, w := range diff {
		fi := ti.byColumn[col]
		if fi == nil {
			continue
		}
		f := v.Field(fi.index)
		var err error
		switch fi.kind {
		case kindScalar:
			err = decodeValue(&fi.col.Type, w, f)
		case kindSet:
			err = toggleSet(fi, f, w)
		case kindOptional:
			err = toggleOptional(fi, f, w)
		case kindMap:
			err = toggleMap(fi, f, w)
		}
		if err != nil {
			return fmt.Errorf("column %q diff: %w", col, err)
		}
	}
	return nil
}

// toggle returns cur XOR the wire elements, as atoms of type et.
func toggle(fi *fieldInfo, et reflect.Type, cur []reflect.Value, w any) ([]reflect.Value, error) {
	elems, err := wireSet(w)
	if err != nil {
		return nil, err
	}
	present := make(map[any]int, len(cur))
	for i, x := range cur {
		present[x.Interface()] = i
	}
	removed := make(map[int]bool)
	var added []reflect.Value
	for i, e := range elems {
		x := reflect.New(et).Elem()
		if err := decodeAtom(&fi.col.Type.Key, e, x); err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		if idx, ok := present[x.Interface()]; ok && !removed[idx] {
			removed[idx] = true
			continue
		}
		added = append(added, x)
	}
	out := make([]reflect.Value, 0, len(cur)-len(removed)+len(added))
	for i, x := range cur {
		if !removed[i] {
			out = append(out, x)
		}
	}
	return append(out, added...), nil
}

func toggleSet(fi *fieldInfo, f reflect.Value, w any) error {
	cur := make([]reflect.Value, f.Len())
	for i := range cur {
		cur[i] = f.Index(i)
	}
	out, err := toggle(fi, f.Type().Elem(), cur, w)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		f.SetZero()
		return nil
	}
	s := reflect.MakeSlice(f.Type(), len(out), len(out))
	for i, x := range out {
		s.Index(i).Set(x)
	}
	sortAtoms(s)
	f.Set(s)
	return nil
}

// toggleOptional applies a diff to a 0..1 column. ovsdb-server sends such columns (max 1)
// as their new value, not as a difference (set to x: x; cleared: the empty set). A
// one-element diff equal to the current value can only mean removal, since unchanged
// columns are not sent; two elements are a symmetric difference. Accepting both readings
// keeps us correct whichever way a server encodes it.
func toggleOptional(fi *fieldInfo, f reflect.Value, w any) error {
	elems, err := wireSet(w)
	if err != nil {
		return err
	}
	if len(elems) == 2 {
		var cur []reflect.Value
		if !f.IsNil() {
			cur = append(cur, f.Elem())
		}
		out, err := toggle(fi, f.Type().Elem(), cur, w)
		if err != nil {
			return err
		}
		if len(out) > 1 {
			return fmt.Errorf("optional value would hold %d elements", len(out))
		}
		elems = nil
		if len(out) == 1 {
			p := reflect.New(f.Type().Elem())
			p.Elem().Set(out[0])
			f.Set(p)
			return nil
		}
	}
	switch len(elems) {
	case 0:
		f.SetZero()
		return nil
	case 1:
		p := reflect.New(f.Type().Elem())
		if err := decodeAtom(&fi.col.Type.Key, elems[0], p.Elem()); err != nil {
			return err
		}
		if !f.IsNil() && f.Elem().Interface() == p.Elem().Interface() {
			f.SetZero()
			return nil
		}
		f.Set(p)
		return nil
	}
	return fmt.Errorf("optional value diff has %d elements", len(elems))
}

func toggleMap(fi *fieldInfo, f reflect.Value, w any) error {
	pairs, err := wireMap(w)
	if err != nil {
		return err
	}
	t := f.Type()
	// The row is a fresh copy, but its map may be shared with the cached row when the
	// model's DeepCopy is shallow; build a new map to be safe.
	m := reflect.MakeMapWithSize(t, f.Len()+len(pairs))
	if !f.IsNil() {
		iter := f.MapRange()
		for iter.Next() {
			m.SetMapIndex(iter.Key(), iter.Value())
		}
	}
	for i, p := range pairs {
		k := reflect.New(t.Key()).Elem()
		if err := decodeAtom(&fi.col.Type.Key, p[0], k); err != nil {
			return fmt.Errorf("pair %d key: %w", i, err)
		}
		v := reflect.New(t.Elem()).Elem()
		if err := decodeAtom(fi.col.Type.Value, p[1], v); err != nil {
			return fmt.Errorf("pair %d value: %w", i, err)
		}
		old := m.MapIndex(k)
		switch {
		case old.IsValid() && old.Interface() == v.Interface():
			m.SetMapIndex(k, reflect.Value{})
		default:
			m.SetMapIndex(k, v)
		}
	}
	if m.Len() == 0 {
		f.SetZero()
		return nil
	}
	f.Set(m)
	return nil
}

// tablesOf lists the table names of monitor requests.
func tablesOf(tms []TableMonitor) []string {
	out := make([]string, 0, len(tms))
	for _, tm := range tms {
		out = append(out, tm.Table)
	}
	slices.Sort(out)
	return out
}
