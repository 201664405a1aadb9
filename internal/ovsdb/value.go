package ovsdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/schema"
)

// This file converts between Go values and the OVSDB JSON forms of RFC 7047 section 5.1.
//
// Outgoing values are built as small trees of any ([]any{"uuid", s}, []any{"set", [...]})
// that encoding/json marshals. Incoming values are first decoded by encoding/json with
// UseNumber into the same kind of tree (so 64-bit integers keep their precision), then
// converted with the column type from the schema, which is what tells a string from a
// uuid and a one-element set from a scalar.

// IsUUID reports whether s is the text form of a UUID (8-4-4-4-12 hex digits).
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// isNamedUUID reports whether s may be a uuid-name (RFC 7047 <id>).
func isNamedUUID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// encodeUUID applies the named-uuid rule: a uuid value that is a UUID is sent as
// ["uuid", s]; one that is a valid identifier names a row inserted with that uuid-name in
// the same transaction and is sent as ["named-uuid", s].
func encodeUUID(s string) (any, error) {
	if IsUUID(s) {
		return []any{"uuid", s}, nil
	}
	if isNamedUUID(s) {
		return []any{"named-uuid", s}, nil
	}
	return nil, fmt.Errorf("%q is neither a uuid nor a uuid-name", s)
}

// encodeAtom converts one Go value of a kind compatible with b into its wire form.
func encodeAtom(b *schema.BaseType, v reflect.Value) (any, error) {
	if !v.IsValid() {
		return nil, fmt.Errorf("nil %s atom", b.Type)
	}
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, fmt.Errorf("nil %s atom", b.Type)
		}
		v = v.Elem()
	}
	switch b.Type {
	case schema.Integer:
		switch {
		case v.CanInt():
			return v.Int(), nil
		case v.CanUint():
			return v.Uint(), nil
		case v.CanFloat() && v.Float() == math.Trunc(v.Float()):
			return int64(v.Float()), nil
		}
	case schema.Real:
		switch {
		case v.CanFloat():
			return v.Float(), nil
		case v.CanInt():
			return float64(v.Int()), nil
		}
	case schema.Boolean:
		if v.Kind() == reflect.Bool {
			return v.Bool(), nil
		}
	case schema.String:
		if v.Kind() == reflect.String {
			return v.String(), nil
		}
	case schema.UUID:
		if v.Kind() == reflect.String {
			return encodeUUID(v.String())
		}
	}
	return nil, fmt.Errorf("cannot encode %s as %s atom", v.Type(), b.Type)
}

// encodeValue converts a Go value into the wire form of a column of type t. It accepts the
// typed-model forms (T, *T, []T, map[K]V) and, for sets, a bare atom.
func encodeValue(t *schema.ColumnType, v reflect.Value) (any, error) {
	if !v.IsValid() {
		return []any{"set", []any{}}, nil
	}
	for v.Kind() == reflect.Interface {
		if v.IsNil() {
			return []any{"set", []any{}}, nil
		}
		v = v.Elem()
	}
	if t.IsMap() {
		if v.Kind() != reflect.Map {
			return nil, fmt.Errorf("cannot encode %s as a map", v.Type())
		}
		pairs := make([]any, 0, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			k, err := encodeAtom(&t.Key, iter.Key())
			if err != nil {
				return nil, fmt.Errorf("map key: %w", err)
			}
			val, err := encodeAtom(t.Value, iter.Value())
			if err != nil {
				return nil, fmt.Errorf("map value: %w", err)
			}
			pairs = append(pairs, []any{k, val})
		}
		return []any{"map", pairs}, nil
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		atoms := make([]any, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			a, err := encodeAtom(&t.Key, v.Index(i))
			if err != nil {
				return nil, fmt.Errorf("set element %d: %w", i, err)
			}
			atoms = append(atoms, a)
		}
		return []any{"set", atoms}, nil
	case reflect.Pointer:
		if v.IsNil() {
			return []any{"set", []any{}}, nil
		}
		return encodeAtom(&t.Key, v.Elem())
	}
	return encodeAtom(&t.Key, v)
}

// encodeKeySet encodes v (a slice of keys, or a single key) as a set of the column's key
// type; used for the "delete" mutation on maps, which accepts a set of keys.
func encodeKeySet(t *schema.ColumnType, v reflect.Value) (any, error) {
	keyType := schema.ColumnType{Key: t.Key, Min: 0, Max: schema.Unlimited}
	return encodeValue(&keyType, v)
}

// decodeJSON decodes raw JSON into the generic wire tree, keeping numbers exact.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeAtom stores the wire atom w into dst, whose kind must suit b.
func decodeAtom(b *schema.BaseType, w any, dst reflect.Value) error {
	switch b.Type {
	case schema.Integer:
		n, ok := w.(json.Number)
		if !ok {
			return fmt.Errorf("want integer, got %s", describe(w))
		}
		i, err := n.Int64()
		if err != nil {
			return fmt.Errorf("integer %s: %w", n, err)
		}
		if dst.CanInt() {
			if dst.OverflowInt(i) {
				return fmt.Errorf("integer %d overflows %s", i, dst.Type())
			}
			dst.SetInt(i)
			return nil
		}
		if dst.CanFloat() {
			dst.SetFloat(float64(i))
			return nil
		}
	case schema.Real:
		n, ok := w.(json.Number)
		if !ok {
			return fmt.Errorf("want real, got %s", describe(w))
		}
		f, err := n.Float64()
		if err != nil {
			return fmt.Errorf("real %s: %w", n, err)
		}
		if dst.CanFloat() {
			dst.SetFloat(f)
			return nil
		}
	case schema.Boolean:
		bv, ok := w.(bool)
		if !ok {
			return fmt.Errorf("want boolean, got %s", describe(w))
		}
		if dst.Kind() == reflect.Bool {
			dst.SetBool(bv)
			return nil
		}
	case schema.String:
		s, ok := w.(string)
		if !ok {
			return fmt.Errorf("want string, got %s", describe(w))
		}
		if dst.Kind() == reflect.String {
			dst.SetString(s)
			return nil
		}
	case schema.UUID:
		s, err := wireUUID(w)
		if err != nil {
			return err
		}
		if dst.Kind() == reflect.String {
			dst.SetString(s)
			return nil
		}
	}
	return fmt.Errorf("cannot store %s atom in %s", b.Type, dst.Type())
}

// wireUUID extracts the text of ["uuid", s] (or ["named-uuid", s]).
func wireUUID(w any) (string, error) {
	arr, ok := w.([]any)
	if !ok || len(arr) != 2 {
		return "", fmt.Errorf("want [\"uuid\", id], got %s", describe(w))
	}
	tag, _ := arr[0].(string)
	s, ok := arr[1].(string)
	if !ok || (tag != "uuid" && tag != "named-uuid") {
		return "", fmt.Errorf("want [\"uuid\", id], got %s", describe(w))
	}
	if tag == "uuid" && !IsUUID(s) {
		return "", fmt.Errorf("malformed uuid %q", s)
	}
	return s, nil
}

// wireSet returns the elements of a wire set; a bare atom is a one-element set.
func wireSet(w any) ([]any, error) {
	if arr, ok := w.([]any); ok && len(arr) == 2 {
		if tag, _ := arr[0].(string); tag == "set" {
			elems, ok := arr[1].([]any)
			if !ok {
				return nil, fmt.Errorf("want [\"set\", [...]], got %s", describe(w))
			}
			return elems, nil
		}
	}
	return []any{w}, nil
}

// wireMap returns the [key, value] pairs of a wire map.
func wireMap(w any) ([][2]any, error) {
	arr, ok := w.([]any)
	if !ok || len(arr) != 2 {
		return nil, fmt.Errorf("want [\"map\", [...]], got %s", describe(w))
	}
	if tag, _ := arr[0].(string); tag != "map" {
		return nil, fmt.Errorf("want [\"map\", [...]], got %s", describe(w))
	}
	elems, ok := arr[1].([]any)
	if !ok {
		return nil, fmt.Errorf("want [\"map\", [...]], got %s", describe(w))
	}
	out := make([][2]any, len(elems))
	for i, e := range elems {
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			return nil, fmt.Errorf("map pair %d: want [key, value], got %s", i, describe(e))
		}
		out[i] = [2]any{pair[0], pair[1]}
	}
	return out, nil
}

// decodeValue stores the wire value w of a column of type t into dst (a field of a model).
func decodeValue(t *schema.ColumnType, w any, dst reflect.Value) error {
	switch dst.Kind() {
	case reflect.Map:
		if !t.IsMap() {
			return fmt.Errorf("cannot store a %s in %s", describeType(t), dst.Type())
		}
		pairs, err := wireMap(w)
		if err != nil {
			return err
		}
		if len(pairs) == 0 {
			dst.SetZero()
			return nil
		}
		m := reflect.MakeMapWithSize(dst.Type(), len(pairs))
		k := reflect.New(dst.Type().Key()).Elem()
		v := reflect.New(dst.Type().Elem()).Elem()
		for i, p := range pairs {
			if err := decodeAtom(&t.Key, p[0], k); err != nil {
				return fmt.Errorf("map key %d: %w", i, err)
			}
			if err := decodeAtom(t.Value, p[1], v); err != nil {
				return fmt.Errorf("map value %d: %w", i, err)
			}
			m.SetMapIndex(k, v)
		}
		dst.Set(m)
		return nil
	case reflect.Slice:
		elems, err := wireSet(w)
		if err != nil {
			return err
		}
		if len(elems) == 0 {
			dst.SetZero()
			return nil
		}
		s := reflect.MakeSlice(dst.Type(), len(elems), len(elems))
		for i, e := range elems {
			if err := decodeAtom(&t.Key, e, s.Index(i)); err != nil {
				return fmt.Errorf("set element %d: %w", i, err)
			}
		}
		sortAtoms(s)
		dst.Set(s)
		return nil
	case reflect.Pointer:
		elems, err := wireSet(w)
		if err != nil {
			return err
		}
		switch len(elems) {
		case 0:
			dst.SetZero()
			return nil
		case 1:
			p := reflect.New(dst.Type().Elem())
			if err := decodeAtom(&t.Key, elems[0], p.Elem()); err != nil {
				return err
			}
			dst.Set(p)
			return nil
		}
		return fmt.Errorf("optional value has %d elements", len(elems))
	}
	if t.IsMap() {
		return fmt.Errorf("cannot store a map in %s", dst.Type())
	}
	// A scalar; tolerate the one-element set form, which servers may send.
	elems, err := wireSet(w)
	if err != nil {
		return err
	}
	if len(elems) != 1 {
		return fmt.Errorf("scalar has %d elements", len(elems))
	}
	return decodeAtom(&t.Key, elems[0], dst)
}

// sortAtoms sorts a slice of atoms in OVSDB order (numeric, false<true, byte-wise strings;
// the byte-wise order of lower-case uuid text is the server's uuid order), so that a set
// rebuilt from diffs compares equal to the same set sent whole.
func sortAtoms(s reflect.Value) {
	if s.Len() < 2 {
		return
	}
	switch x := s.Interface().(type) {
	case []string:
		slices.Sort(x)
		return
	case []int:
		slices.Sort(x)
		return
	}
	switch {
	case s.Type().Elem().Kind() == reflect.String:
		sort.Slice(s.Interface(), func(i, j int) bool { return s.Index(i).String() < s.Index(j).String() })
	case s.Index(0).CanInt():
		sort.Slice(s.Interface(), func(i, j int) bool { return s.Index(i).Int() < s.Index(j).Int() })
	case s.Index(0).CanFloat():
		sort.Slice(s.Interface(), func(i, j int) bool { return s.Index(i).Float() < s.Index(j).Float() })
	case s.Index(0).Kind() == reflect.Bool:
		sort.Slice(s.Interface(), func(i, j int) bool { return !s.Index(i).Bool() && s.Index(j).Bool() })
	}
}

func describe(w any) string {
	b, err := json.Marshal(w)
	if err != nil || len(b) > 80 {
		return fmt.Sprintf("%T", w)
	}
	return string(b)
}

func describeType(t *schema.ColumnType) string {
	switch {
	case t.IsMap():
		return "map"
	case t.IsScalar():
		return string(t.Key.Type)
	case t.IsOptional():
		return "optional " + string(t.Key.Type)
	}
	return "set of " + string(t.Key.Type)
}
