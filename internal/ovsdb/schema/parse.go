package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
)

var (
	// idPattern is RFC 7047's <id>, used for the database name.
	idPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// versionPattern is RFC 7047's <version>: three decimal numbers.
	versionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	// uuidPattern is the text form of a UUID (RFC 4122), used for uuid enum values.
	uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// Parse parses and validates an OVSDB schema. See the package documentation for what
// is checked.
func Parse(data []byte) (*Database, error) {
	obj, err := object(data, "name", "version", "cksum", "tables")
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	d := &Database{}
	if d.Name, err = requiredString(obj, "name"); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	if !idPattern.MatchString(d.Name) {
		return nil, fmt.Errorf("parse schema: name %q is not an identifier", d.Name)
	}
	if d.Version, err = requiredString(obj, "version"); err != nil {
		return nil, fmt.Errorf("parse schema %q: %w", d.Name, err)
	}
	if !versionPattern.MatchString(d.Version) {
		return nil, fmt.Errorf("parse schema %q: version %q is not of the form x.y.z", d.Name, d.Version)
	}
	if raw, ok := obj["cksum"]; ok {
		if d.Cksum, err = str(raw); err != nil {
			return nil, fmt.Errorf("parse schema %q: cksum: %w", d.Name, err)
		}
	}
	rawTables, ok := obj["tables"]
	if !ok {
		return nil, fmt.Errorf("parse schema %q: missing member \"tables\"", d.Name)
	}
	tables, err := object(rawTables)
	if err != nil {
		return nil, fmt.Errorf("parse schema %q: tables: %w", d.Name, err)
	}
	d.Tables = make(map[string]*Table, len(tables))
	for _, name := range sortedKeys(tables) {
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("parse schema %q: table %q: %w", d.Name, name, err)
		}
		t, err := parseTable(name, tables[name])
		if err != nil {
			return nil, fmt.Errorf("parse schema %q: table %q: %w", d.Name, name, err)
		}
		d.Tables[name] = t
	}
	if err := d.checkRefs(); err != nil {
		return nil, fmt.Errorf("parse schema %q: %w", d.Name, err)
	}
	return d, nil
}

// UnmarshalJSON parses d from a schema document, as Parse does.
func (d *Database) UnmarshalJSON(data []byte) error {
	parsed, err := Parse(data)
	if err != nil {
		return err
	}
	*d = *parsed
	return nil
}

// checkRefs verifies that every refTable names a table of the database.
func (d *Database) checkRefs() error {
	for _, tn := range d.TableNames() {
		t := d.Tables[tn]
		for _, cn := range t.ColumnNames() {
			ct := t.Columns[cn].Type
			bases := []BaseType{ct.Key}
			if ct.Value != nil {
				bases = append(bases, *ct.Value)
			}
			for _, b := range bases {
				if b.RefTable != "" && d.Tables[b.RefTable] == nil {
					return fmt.Errorf("table %q column %q: refTable %q does not exist", tn, cn, b.RefTable)
				}
			}
		}
	}
	return nil
}

// checkName refuses names a table or column may not have. Beyond RFC 7047's reserved
// leading underscore we accept any non-empty name: the server is the authority on what
// it accepts, and the model generator copes with any spelling.
func checkName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if strings.HasPrefix(name, "_") {
		return errors.New("names beginning with \"_\" are reserved")
	}
	return nil
}

func parseTable(name string, raw json.RawMessage) (*Table, error) {
	obj, err := object(raw, "columns", "maxRows", "isRoot", "indexes")
	if err != nil {
		return nil, err
	}
	t := &Table{Name: name}
	rawCols, ok := obj["columns"]
	if !ok {
		return nil, errors.New("missing member \"columns\"")
	}
	cols, err := object(rawCols)
	if err != nil {
		return nil, fmt.Errorf("columns: %w", err)
	}
	if len(cols) == 0 {
		return nil, errors.New("a table must have at least one column")
	}
	t.Columns = make(map[string]*Column, len(cols))
	for _, cn := range sortedKeys(cols) {
		if err := checkName(cn); err != nil {
			return nil, fmt.Errorf("column %q: %w", cn, err)
		}
		c, err := parseColumn(cn, cols[cn])
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", cn, err)
		}
		t.Columns[cn] = c
	}
	if raw, ok := obj["maxRows"]; ok {
		n, err := integer(raw)
		if err != nil {
			return nil, fmt.Errorf("maxRows: %w", err)
		}
		if n < 1 || n > math.MaxInt32 {
			return nil, fmt.Errorf("maxRows: %d is not a positive 32-bit integer", n)
		}
		t.MaxRows = int(n)
	}
	if raw, ok := obj["isRoot"]; ok {
		if t.IsRoot, err = boolean(raw); err != nil {
			return nil, fmt.Errorf("isRoot: %w", err)
		}
	}
	if raw, ok := obj["indexes"]; ok {
		if t.Indexes, err = parseIndexes(t, raw); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func parseIndexes(t *Table, raw json.RawMessage) ([][]string, error) {
	var list []json.RawMessage
	if err := array(raw, &list); err != nil {
		return nil, fmt.Errorf("indexes: %w", err)
	}
	indexes := make([][]string, 0, len(list))
	for i, rawIdx := range list {
		var names []json.RawMessage
		if err := array(rawIdx, &names); err != nil {
			return nil, fmt.Errorf("index %d: %w", i, err)
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("index %d: an index must name at least one column", i)
		}
		idx := make([]string, 0, len(names))
		seen := make(map[string]bool, len(names))
		for _, rawName := range names {
			cn, err := str(rawName)
			if err != nil {
				return nil, fmt.Errorf("index %d: %w", i, err)
			}
			c := t.Columns[cn]
			switch {
			case c == nil:
				return nil, fmt.Errorf("index %d: column %q does not exist", i, cn)
			case c.Ephemeral:
				return nil, fmt.Errorf("index %d: ephemeral column %q may not be indexed", i, cn)
			case seen[cn]:
				return nil, fmt.Errorf("index %d: column %q appears twice", i, cn)
			}
			seen[cn] = true
			idx = append(idx, cn)
		}
		indexes = append(indexes, idx)
	}
	return indexes, nil
}

func parseColumn(name string, raw json.RawMessage) (*Column, error) {
	obj, err := object(raw, "type", "ephemeral", "mutable")
	if err != nil {
		return nil, err
	}
	c := &Column{Name: name, Mutable: true}
	rawType, ok := obj["type"]
	if !ok {
		return nil, errors.New("missing member \"type\"")
	}
	if c.Type, err = parseType(rawType); err != nil {
		return nil, fmt.Errorf("type: %w", err)
	}
	if raw, ok := obj["ephemeral"]; ok {
		if c.Ephemeral, err = boolean(raw); err != nil {
			return nil, fmt.Errorf("ephemeral: %w", err)
		}
	}
	if raw, ok := obj["mutable"]; ok {
		if c.Mutable, err = boolean(raw); err != nil {
			return nil, fmt.Errorf("mutable: %w", err)
		}
	}
	return c, nil
}

func parseType(raw json.RawMessage) (ColumnType, error) {
	if isString(raw) {
		b, err := parseBaseType(raw)
		if err != nil {
			return ColumnType{}, err
		}
		return ColumnType{Key: b, Min: 1, Max: 1}, nil
	}
	obj, err := object(raw, "key", "value", "min", "max")
	if err != nil {
		return ColumnType{}, err
	}
	ct := ColumnType{Min: 1, Max: 1}
	rawKey, ok := obj["key"]
	if !ok {
		return ColumnType{}, errors.New("missing member \"key\"")
	}
	if ct.Key, err = parseBaseType(rawKey); err != nil {
		return ColumnType{}, fmt.Errorf("key: %w", err)
	}
	if rawValue, ok := obj["value"]; ok {
		v, err := parseBaseType(rawValue)
		if err != nil {
			return ColumnType{}, fmt.Errorf("value: %w", err)
		}
		ct.Value = &v
	}
	if raw, ok := obj["min"]; ok {
		n, err := integer(raw)
		if err != nil {
			return ColumnType{}, fmt.Errorf("min: %w", err)
		}
		if n != 0 && n != 1 {
			return ColumnType{}, fmt.Errorf("min: %d is neither 0 nor 1", n)
		}
		ct.Min = int(n)
	}
	if raw, ok := obj["max"]; ok {
		if isString(raw) {
			s, _ := str(raw)
			if s != "unlimited" {
				return ColumnType{}, fmt.Errorf("max: %q is neither a positive integer nor \"unlimited\"", s)
			}
			ct.Max = Unlimited
		} else {
			n, err := integer(raw)
			if err != nil {
				return ColumnType{}, fmt.Errorf("max: %w", err)
			}
			if n < 1 || n > math.MaxInt32 {
				return ColumnType{}, fmt.Errorf("max: %d is not a positive 32-bit integer", n)
			}
			ct.Max = int(n)
		}
	}
	if ct.Max != Unlimited && ct.Min > ct.Max {
		return ColumnType{}, fmt.Errorf("min %d is greater than max %d", ct.Min, ct.Max)
	}
	return ct, nil
}

func parseBaseType(raw json.RawMessage) (BaseType, error) {
	if isString(raw) {
		s, _ := str(raw)
		t := AtomicType(s)
		if !t.valid() {
			return BaseType{}, fmt.Errorf("unknown atomic type %q", s)
		}
		return BaseType{Type: t}, nil
	}
	obj, err := object(raw, "type", "enum", "minInteger", "maxInteger", "minReal", "maxReal",
		"minLength", "maxLength", "refTable", "refType")
	if err != nil {
		return BaseType{}, err
	}
	b := BaseType{}
	s, err := requiredString(obj, "type")
	if err != nil {
		return BaseType{}, err
	}
	b.Type = AtomicType(s)
	if !b.Type.valid() {
		return BaseType{}, fmt.Errorf("unknown atomic type %q", s)
	}
	// Each constraint applies to one atomic type only; a constraint on the wrong type
	// is a mistake in the schema, refused rather than ignored.
	only := func(member string, t AtomicType) error {
		if _, ok := obj[member]; ok && b.Type != t {
			return fmt.Errorf("%s is not allowed for type %q", member, b.Type)
		}
		return nil
	}
	for _, c := range []struct {
		member string
		t      AtomicType
	}{
		{"minInteger", Integer}, {"maxInteger", Integer}, {"minReal", Real}, {"maxReal", Real},
		{"minLength", String}, {"maxLength", String}, {"refTable", UUID}, {"refType", UUID},
	} {
		if err := only(c.member, c.t); err != nil {
			return BaseType{}, err
		}
	}
	if b.MinInteger, err = optInteger(obj, "minInteger"); err != nil {
		return BaseType{}, err
	}
	if b.MaxInteger, err = optInteger(obj, "maxInteger"); err != nil {
		return BaseType{}, err
	}
	if b.MinInteger != nil && b.MaxInteger != nil && *b.MinInteger > *b.MaxInteger {
		return BaseType{}, fmt.Errorf("minInteger %d is greater than maxInteger %d", *b.MinInteger, *b.MaxInteger)
	}
	if b.MinReal, err = optReal(obj, "minReal"); err != nil {
		return BaseType{}, err
	}
	if b.MaxReal, err = optReal(obj, "maxReal"); err != nil {
		return BaseType{}, err
	}
	if b.MinReal != nil && b.MaxReal != nil && *b.MinReal > *b.MaxReal {
		return BaseType{}, fmt.Errorf("minReal %g is greater than maxReal %g", *b.MinReal, *b.MaxReal)
	}
	if b.MinLength, err = optLength(obj, "minLength"); err != nil {
		return BaseType{}, err
	}
	if b.MaxLength, err = optLength(obj, "maxLength"); err != nil {
		return BaseType{}, err
	}
	if b.MinLength != nil && b.MaxLength != nil && *b.MinLength > *b.MaxLength {
		return BaseType{}, fmt.Errorf("minLength %d is greater than maxLength %d", *b.MinLength, *b.MaxLength)
	}
	if raw, ok := obj["refTable"]; ok {
		if b.RefTable, err = str(raw); err != nil {
			return BaseType{}, fmt.Errorf("refTable: %w", err)
		}
		if b.RefTable == "" {
			return BaseType{}, errors.New("refTable: empty table name")
		}
		b.RefType = RefStrong
	}
	if raw, ok := obj["refType"]; ok {
		if b.RefTable == "" {
			return BaseType{}, errors.New("refType requires refTable")
		}
		if b.RefType, err = str(raw); err != nil {
			return BaseType{}, fmt.Errorf("refType: %w", err)
		}
		if b.RefType != RefStrong && b.RefType != RefWeak {
			return BaseType{}, fmt.Errorf("refType: %q is neither %q nor %q", b.RefType, RefStrong, RefWeak)
		}
	}
	if raw, ok := obj["enum"]; ok {
		if b.Enum, err = parseEnum(b.Type, raw); err != nil {
			return BaseType{}, fmt.Errorf("enum: %w", err)
		}
	}
	return b, nil
}

// parseEnum decodes an enum: an OVSDB <value> of the base type, i.e. a single atom or
// ["set", [atom, ...]]. Order is kept as written; duplicates are refused because a set
// cannot hold them.
func parseEnum(t AtomicType, raw json.RawMessage) ([]any, error) {
	var atoms []json.RawMessage
	if isArray(raw) {
		var pair []json.RawMessage
		if err := array(raw, &pair); err != nil {
			return nil, err
		}
		tag := ""
		if len(pair) == 2 {
			tag, _ = str(pair[0])
		}
		switch {
		case tag == "set":
			if err := array(pair[1], &atoms); err != nil {
				return nil, fmt.Errorf("set: %w", err)
			}
		case tag == "uuid" && t == UUID:
			atoms = []json.RawMessage{raw}
		default:
			return nil, errors.New(`expected an atom or ["set", [...]]`)
		}
	} else {
		atoms = []json.RawMessage{raw}
	}
	if len(atoms) == 0 {
		return nil, errors.New("an enum must have at least one value")
	}
	values := make([]any, 0, len(atoms))
	seen := make(map[any]bool, len(atoms))
	for _, a := range atoms {
		v, err := atom(t, a)
		if err != nil {
			return nil, err
		}
		if seen[v] {
			return nil, fmt.Errorf("value %v appears twice", v)
		}
		seen[v] = true
		values = append(values, v)
	}
	return values, nil
}

// atom decodes one atom of type t into its Go value (see BaseType.Enum).
func atom(t AtomicType, raw json.RawMessage) (any, error) {
	switch t {
	case Integer:
		return integer(raw)
	case Real:
		return realNumber(raw)
	case Boolean:
		return boolean(raw)
	case String:
		return str(raw)
	case UUID:
		var pair []json.RawMessage
		if err := array(raw, &pair); err != nil || len(pair) != 2 {
			return nil, errors.New(`expected a uuid atom ["uuid", "<uuid>"]`)
		}
		if tag, err := str(pair[0]); err != nil || tag != "uuid" {
			return nil, errors.New(`expected a uuid atom ["uuid", "<uuid>"]`)
		}
		s, err := str(pair[1])
		if err != nil {
			return nil, err
		}
		if !uuidPattern.MatchString(s) {
			return nil, fmt.Errorf("%q is not a uuid", s)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown atomic type %q", t)
}

// JSON helpers. They work on raw messages so that every member is checked for its
// JSON kind, which encoding/json's struct decoding would silently convert or ignore.

// object decodes a JSON object; when allowed is not empty, any other member is an
// error.
func object(raw []byte, allowed ...string) (map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("expected a JSON object, got %s", preview(raw))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	if len(allowed) > 0 {
		for _, k := range sortedKeys(obj) {
			if !slices.Contains(allowed, k) {
				return nil, fmt.Errorf("unknown member %q", k)
			}
		}
	}
	return obj, nil
}

func array(raw json.RawMessage, out *[]json.RawMessage) error {
	if !isArray(raw) {
		return fmt.Errorf("expected a JSON array, got %s", preview(raw))
	}
	return json.Unmarshal(raw, out)
}

func requiredString(obj map[string]json.RawMessage, member string) (string, error) {
	raw, ok := obj[member]
	if !ok {
		return "", fmt.Errorf("missing member %q", member)
	}
	s, err := str(raw)
	if err != nil {
		return "", fmt.Errorf("%s: %w", member, err)
	}
	return s, nil
}

func str(raw json.RawMessage) (string, error) {
	if !isString(raw) {
		return "", fmt.Errorf("expected a string, got %s", preview(raw))
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

func boolean(raw json.RawMessage) (bool, error) {
	switch string(bytes.TrimSpace(raw)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("expected a boolean, got %s", preview(raw))
}

func number(raw json.RawMessage) (json.Number, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return "", fmt.Errorf("expected a number, got %s", preview(raw))
	}
	var n json.Number
	err := json.Unmarshal(raw, &n)
	return n, err
}

func integer(raw json.RawMessage) (int64, error) {
	n, err := number(raw)
	if err != nil {
		return 0, err
	}
	i, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("%s is not a 64-bit integer", n)
	}
	return i, nil
}

func realNumber(raw json.RawMessage) (float64, error) {
	n, err := number(raw)
	if err != nil {
		return 0, err
	}
	f, err := n.Float64()
	if err != nil {
		return 0, fmt.Errorf("%s is not a real number", n)
	}
	return f, nil
}

func optInteger(obj map[string]json.RawMessage, member string) (*int64, error) {
	raw, ok := obj[member]
	if !ok {
		return nil, nil
	}
	v, err := integer(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", member, err)
	}
	return &v, nil
}

func optReal(obj map[string]json.RawMessage, member string) (*float64, error) {
	raw, ok := obj[member]
	if !ok {
		return nil, nil
	}
	v, err := realNumber(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", member, err)
	}
	return &v, nil
}

func optLength(obj map[string]json.RawMessage, member string) (*int, error) {
	raw, ok := obj[member]
	if !ok {
		return nil, nil
	}
	v, err := integer(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", member, err)
	}
	if v < 0 || v > math.MaxUint32 {
		return nil, fmt.Errorf("%s: %d is out of range", member, v)
	}
	n := int(v)
	return &n, nil
}

func isString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}

func isArray(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '['
}

// preview shortens raw JSON for an error message.
func preview(raw []byte) string {
	const limit = 40
	s := string(bytes.TrimSpace(raw))
	if s == "" {
		return "nothing"
	}
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
