package ovsdb

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/schema"
)

// Model is a pointer to a struct that maps one table. Its fields carry `ovsdb:"column"`
// tags; the `_uuid` field, when present, holds the row's UUID (or, before insertion, its
// uuid-name). Column types map to Go as: integer->int, real->float64, boolean->bool,
// string and uuid->string; a scalar is T, an optional (0..1) value *T, a set []T and a map
// map[K]V. Named types of those kinds (e.g. an enum string type) are accepted.
type Model interface {
	Table() string
}

// DatabaseModel binds a schema to the Go types that map its tables. It is immutable after
// NewDatabaseModel and safe for concurrent use.
type DatabaseModel struct {
	schema *schema.Database
	tables map[string]*tableInfo
	types  map[reflect.Type]*tableInfo // struct type -> info
}

type fieldKind int

const (
	kindScalar fieldKind = iota
	kindOptional
	kindSet
	kindMap
)

// fieldInfo is the layout of one tagged field, computed once per type.
type fieldInfo struct {
	column string
	index  int
	col    *schema.Column
	kind   fieldKind
}

type tableInfo struct {
	name      string
	table     *schema.Table
	typ       reflect.Type // the struct type
	fields    []*fieldInfo // every tagged column except _uuid, in struct order
	byColumn  map[string]*fieldInfo
	uuidIndex int // struct field index of _uuid, or -1
	deepCopy  int // method index of the model's DeepCopy() *T, or -1
}

// NewDatabaseModel checks every model against the schema: each must be a pointer to a
// struct with a Table method naming a table of s, and each tagged field must name a
// column of that table with a Go type that can hold the column's values.
func NewDatabaseModel(s *schema.Database, models ...any) (*DatabaseModel, error) {
	if s == nil {
		return nil, fmt.Errorf("new database model: nil schema")
	}
	dm := &DatabaseModel{
		schema: s,
		tables: make(map[string]*tableInfo),
		types:  make(map[reflect.Type]*tableInfo),
	}
	for _, m := range models {
		ti, err := newTableInfo(s, m)
		if err != nil {
			return nil, fmt.Errorf("database %q: %w", s.Name, err)
		}
		if prev, dup := dm.tables[ti.name]; dup {
			return nil, fmt.Errorf("database %q: table %q is mapped by both %s and %s", s.Name, ti.name, prev.typ, ti.typ)
		}
		dm.tables[ti.name] = ti
		dm.types[ti.typ] = ti
	}
	return dm, nil
}

// Schema returns the schema the model was built from.
func (dm *DatabaseModel) Schema() *schema.Database { return dm.schema }

// Name returns the database name.
func (dm *DatabaseModel) Name() string { return dm.schema.Name }

// Tables returns the mapped table names, sorted.
func (dm *DatabaseModel) Tables() []string {
	return slices.Sorted(maps.Keys(dm.tables))
}

func newTableInfo(s *schema.Database, m any) (*tableInfo, error) {
	t := reflect.TypeOf(m)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("model %T: want a pointer to a struct", m)
	}
	mm, ok := m.(Model)
	if !ok {
		return nil, fmt.Errorf("model %T: no Table() string method", m)
	}
	name := mm.Table()
	st := s.Table(name)
	if st == nil {
		return nil, fmt.Errorf("model %T: table %q is not in the schema", m, name)
	}
	ti := &tableInfo{
		name:      name,
		table:     st,
		typ:       t.Elem(),
		byColumn:  make(map[string]*fieldInfo),
		uuidIndex: -1,
		deepCopy:  -1,
	}
	if dc, ok := t.MethodByName("DeepCopy"); ok && dc.Type.NumIn() == 1 && dc.Type.NumOut() == 1 && dc.Type.Out(0) == t {
		ti.deepCopy = dc.Index
	}
	for i := 0; i < ti.typ.NumField(); i++ {
		sf := ti.typ.Field(i)
		tag, _, _ := strings.Cut(sf.Tag.Get("ovsdb"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		if !sf.IsExported() {
			return nil, fmt.Errorf("table %q: field %s is not exported", name, sf.Name)
		}
		if _, dup := ti.byColumn[tag]; dup || (tag == schema.ColumnUUID && ti.uuidIndex >= 0) {
			return nil, fmt.Errorf("table %q: column %q is mapped twice", name, tag)
		}
		if tag == schema.ColumnUUID {
			if sf.Type.Kind() != reflect.String {
				return nil, fmt.Errorf("table %q: field %s for _uuid must be a string", name, sf.Name)
			}
			ti.uuidIndex = i
			continue
		}
		col := st.Column(tag)
		if col == nil {
			return nil, fmt.Errorf("table %q: field %s: no column %q", name, sf.Name, tag)
		}
		kind, err := fieldKindFor(&col.Type, sf.Type)
		if err != nil {
			return nil, fmt.Errorf("table %q column %q (field %s): %w", name, tag, sf.Name, err)
		}
		fi := &fieldInfo{column: tag, index: i, col: col, kind: kind}
		ti.fields = append(ti.fields, fi)
		ti.byColumn[tag] = fi
	}
	return ti, nil
}

// fieldKindFor checks that a Go type can hold a column type and says how it is held.
func fieldKindFor(ct *schema.ColumnType, t reflect.Type) (fieldKind, error) {
	switch {
	case ct.IsMap():
		if t.Kind() != reflect.Map {
			return 0, fmt.Errorf("map column needs a Go map, not %s", t)
		}
		if err := atomFits(ct.Key.Type, t.Key()); err != nil {
			return 0, fmt.Errorf("map key: %w", err)
		}
		if err := atomFits(ct.Value.Type, t.Elem()); err != nil {
			return 0, fmt.Errorf("map value: %w", err)
		}
		return kindMap, nil
	case t.Kind() == reflect.Slice:
		if ct.IsScalar() {
			return 0, fmt.Errorf("scalar column cannot be a slice (%s)", t)
		}
		return kindSet, atomFits(ct.Key.Type, t.Elem())
	case t.Kind() == reflect.Pointer:
		if !ct.IsOptional() {
			return 0, fmt.Errorf("only optional (0..1) columns may be pointers, not %s", describeType(ct))
		}
		return kindOptional, atomFits(ct.Key.Type, t.Elem())
	case ct.IsScalar():
		return kindScalar, atomFits(ct.Key.Type, t)
	}
	return 0, fmt.Errorf("%s column needs a slice or pointer, not %s", describeType(ct), t)
}

func atomFits(a schema.AtomicType, t reflect.Type) error {
	ok := false
	switch a {
	case schema.Integer:
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			ok = true
		}
	case schema.Real:
		ok = t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32
	case schema.Boolean:
		ok = t.Kind() == reflect.Bool
	case schema.String, schema.UUID:
		ok = t.Kind() == reflect.String
	}
	if !ok {
		return fmt.Errorf("%s atoms cannot be stored in %s", a, t)
	}
	return nil
}

// info returns the layout of a model value (pointer to a mapped struct).
func (dm *DatabaseModel) info(m any) (*tableInfo, reflect.Value, error) {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, reflect.Value{}, fmt.Errorf("model %T: want a non-nil pointer to a struct", m)
	}
	ti := dm.types[v.Type().Elem()]
	if ti == nil {
		return nil, reflect.Value{}, fmt.Errorf("model %T is not part of database %q", m, dm.schema.Name)
	}
	return ti, v.Elem(), nil
}

// infoForType returns the layout for a struct type.
func (dm *DatabaseModel) infoForType(t reflect.Type) (*tableInfo, error) {
	ti := dm.types[t]
	if ti == nil {
		return nil, fmt.Errorf("type %s is not part of database %q", t, dm.schema.Name)
	}
	return ti, nil
}

// uuid returns the _uuid field of a struct value ("" when the model has none).
func (ti *tableInfo) uuid(v reflect.Value) string {
	if ti.uuidIndex < 0 {
		return ""
	}
	return v.Field(ti.uuidIndex).String()
}

func (ti *tableInfo) setUUID(v reflect.Value, id string) {
	if ti.uuidIndex >= 0 {
		v.Field(ti.uuidIndex).SetString(id)
	}
}

// column returns the schema column (including _uuid) or an error naming the table.
func (ti *tableInfo) column(name string) (*schema.Column, error) {
	c := ti.table.Column(name)
	if c == nil {
		return nil, fmt.Errorf("table %q has no column %q", ti.name, name)
	}
	return c, nil
}

// isZero reports whether a field holds its column's default (so insert may omit it).
func isZero(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return v.IsZero()
}

// encodeRow builds the wire row of a struct. With columns empty it encodes every mapped
// column (omitting zero values when omitZero is set, which insert uses: the server's
// defaults are exactly the zero values).
func (ti *tableInfo) encodeRow(v reflect.Value, columns []string, omitZero bool) (map[string]any, error) {
	row := make(map[string]any, len(ti.fields))
	add := func(fi *fieldInfo) error {
		fv := v.Field(fi.index)
		if omitZero && isZero(fv) {
			return nil
		}
		w, err := encodeValue(&fi.col.Type, fv)
		if err != nil {
			return fmt.Errorf("column %q: %w", fi.column, err)
		}
		row[fi.column] = w
		return nil
	}
	if len(columns) == 0 {
		for _, fi := range ti.fields {
			if fi.column == schema.ColumnVersion {
				continue
			}
			if err := add(fi); err != nil {
				return nil, err
			}
		}
		return row, nil
	}
	for _, c := range columns {
		fi := ti.byColumn[c]
		if fi == nil {
			return nil, fmt.Errorf("table %q: model has no field for column %q", ti.name, c)
		}
		if err := add(fi); err != nil {
			return nil, err
		}
	}
	return row, nil
}

// mutableColumns lists the mapped columns that an update may write.
func (ti *tableInfo) mutableColumns() []string {
	out := make([]string, 0, len(ti.fields))
	for _, fi := range ti.fields {
		if fi.col.Mutable && fi.column != schema.ColumnVersion {
			out = append(out, fi.column)
		}
	}
	return out
}

// decodeRow fills a struct from a full wire row. Columns the model does not map are
// ignored (the server's schema may be newer than ours).
func (ti *tableInfo) decodeRow(uuid string, row map[string]any, v reflect.Value) error {
	ti.setUUID(v, uuid)
	for col, w := range row {
		fi := ti.byColumn[col]
		if fi == nil {
			continue
		}
		if err := decodeValue(&fi.col.Type, w, v.Field(fi.index)); err != nil {
			return fmt.Errorf("table %q row %s column %q: %w", ti.name, uuid, col, err)
		}
	}
	return nil
}

// newRow allocates a zero struct and returns the pointer and the struct value.
func (ti *tableInfo) newRow() (any, reflect.Value) {
	p := reflect.New(ti.typ)
	return p.Interface(), p.Elem()
}

// copyRow returns a deep copy of a *struct, using the model's DeepCopy when it has one.
func (ti *tableInfo) copyRow(p any) any {
	if ti.deepCopy >= 0 {
		return reflect.ValueOf(p).Method(ti.deepCopy).Call(nil)[0].Interface()
	}
	src := reflect.ValueOf(p).Elem()
	dst := reflect.New(ti.typ)
	dst.Elem().Set(src)
	for _, fi := range ti.fields {
		copyField(dst.Elem().Field(fi.index), src.Field(fi.index))
	}
	return dst.Interface()
}

// copyField replaces a shallow-copied pointer, slice or map with a fresh copy; their
// elements are atoms, so one level is deep enough.
func copyField(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if !src.IsNil() {
			p := reflect.New(src.Type().Elem())
			p.Elem().Set(src.Elem())
			dst.Set(p)
		}
	case reflect.Slice:
		if !src.IsNil() {
			s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
			reflect.Copy(s, src)
			dst.Set(s)
		}
	case reflect.Map:
		if !src.IsNil() {
			m := reflect.MakeMapWithSize(src.Type(), src.Len())
			iter := src.MapRange()
			for iter.Next() {
				m.SetMapIndex(iter.Key(), iter.Value())
			}
			dst.Set(m)
		}
	}
}

// equalRows compares two structs column by column, treating nil and empty sets and maps
// as equal (the server does not distinguish them).
func (ti *tableInfo) equalRows(a, b reflect.Value) bool {
	if ti.uuid(a) != ti.uuid(b) {
		return false
	}
	for _, fi := range ti.fields {
		if !equalField(a.Field(fi.index), b.Field(fi.index)) {
			return false
		}
	}
	return true
}

func equalField(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Slice, reflect.Map:
		if a.Len() == 0 && b.Len() == 0 {
			return true
		}
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}
