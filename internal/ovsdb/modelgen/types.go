package modelgen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/schema"
)

// Kind is how a column's value is shaped in Go.
type Kind int

// The kinds of columns, from schema.ColumnType's predicates.
const (
	Scalar   Kind = iota // exactly one value: T
	Optional             // zero or one value: *T
	Set                  // any other number of values: []T
	Map                  // key/value pairs: map[K]V
)

// KindOf returns the Go shape of a column type.
func KindOf(ct schema.ColumnType) Kind {
	switch {
	case ct.IsMap():
		return Map
	case ct.IsScalar():
		return Scalar
	case ct.IsOptional():
		return Optional
	}
	return Set
}

// AtomGoType is the Go type of one atom: integer -> int, real -> float64,
// boolean -> bool, string -> string and uuid -> string (the UUID's text).
func AtomGoType(t schema.AtomicType) string {
	switch t {
	case schema.Integer:
		return "int"
	case schema.Real:
		return "float64"
	case schema.Boolean:
		return "bool"
	}
	return "string"
}

// GoType is the Go type of a column: T, *T, []T or map[K]V (see Kind and AtomGoType).
func GoType(ct schema.ColumnType) string {
	elem := AtomGoType(ct.Key.Type)
	switch KindOf(ct) {
	case Optional:
		return "*" + elem
	case Set:
		return "[]" + elem
	case Map:
		return "map[" + elem + "]" + AtomGoType(ct.Value.Type)
	}
	return elem
}

// Describe writes a column type in OVSDB terms for a doc comment, e.g.
// "set of 0.. strong refs to Logical_Switch_Port" or "integer in 0..32767".
func Describe(ct schema.ColumnType) string {
	switch KindOf(ct) {
	case Scalar:
		return describeBase(ct.Key, false)
	case Optional:
		return "optional " + describeBase(ct.Key, false)
	case Map:
		return fmt.Sprintf("map of %s pairs, %s -> %s",
			describeRange(ct.Min, ct.Max), describeBase(ct.Key, false), describeBase(*ct.Value, false))
	}
	return fmt.Sprintf("set of %s %s", describeRange(ct.Min, ct.Max), describeBase(ct.Key, true))
}

// describeRange writes how many values a set or map holds: "0..", "1..4".
func describeRange(lo, hi int) string {
	if hi == schema.Unlimited {
		return strconv.Itoa(lo) + ".."
	}
	return fmt.Sprintf("%d..%d", lo, hi)
}

// describeBase writes a base type with its constraints, in the plural for sets.
func describeBase(b schema.BaseType, plural bool) string {
	s := string(b.Type)
	if b.IsRef() {
		s = b.RefType + " ref"
	}
	if plural {
		s += "s"
	}
	if b.IsRef() {
		s += " to " + b.RefTable
	}
	if b.Enum != nil {
		vals := make([]string, len(b.Enum))
		for i, v := range b.Enum {
			vals[i] = enumLiteral(v)
		}
		return s + " in {" + strings.Join(vals, ", ") + "}"
	}
	switch b.Type {
	case schema.Integer:
		s += describeBounds(fmtInt(b.MinInteger), fmtInt(b.MaxInteger))
	case schema.Real:
		s += describeBounds(fmtReal(b.MinReal), fmtReal(b.MaxReal))
	case schema.String:
		if r := describeBounds(fmtLen(b.MinLength), fmtLen(b.MaxLength)); r != "" {
			s += " of length" + strings.TrimPrefix(r, " in")
		}
	}
	return s
}

// describeBounds writes " in lo..hi", " in lo.." or " in ..hi"; an empty bound is
// left out, and no bounds at all give "".
func describeBounds(lo, hi string) string {
	switch {
	case lo != "" && hi != "":
		return " in " + lo + ".." + hi
	case lo != "":
		return " in " + lo + ".."
	case hi != "":
		return " in .." + hi
	}
	return ""
}

func fmtInt(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

func fmtReal(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

func fmtLen(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}
