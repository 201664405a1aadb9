package schema

import (
	"encoding/json"
	"fmt"
)

// The marshalers write the shortest RFC 7047 form that Parse reads back to an equal
// value: defaults (min 1, max 1, mutable, strong references) are omitted where the
// format allows, and a base type with no constraints is written as its bare name.
// encoding/json sorts map keys, so the output is deterministic.

// MarshalJSON writes d as an RFC 7047 <database-schema>.
func (d Database) MarshalJSON() ([]byte, error) {
	out := struct {
		Name    string            `json:"name"`
		Version string            `json:"version"`
		Cksum   string            `json:"cksum,omitempty"`
		Tables  map[string]*Table `json:"tables"`
	}{d.Name, d.Version, d.Cksum, d.Tables}
	if out.Tables == nil {
		out.Tables = map[string]*Table{}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("marshal schema %q: %w", d.Name, err)
	}
	return b, nil
}

// MarshalJSON writes t as an RFC 7047 <table-schema>.
func (t Table) MarshalJSON() ([]byte, error) {
	out := struct {
		Columns map[string]*Column `json:"columns"`
		MaxRows int                `json:"maxRows,omitempty"`
		IsRoot  bool               `json:"isRoot,omitempty"`
		Indexes [][]string         `json:"indexes,omitempty"`
	}{t.Columns, t.MaxRows, t.IsRoot, t.Indexes}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("table %q: %w", t.Name, err)
	}
	return b, nil
}

// MarshalJSON writes c as an RFC 7047 <column-schema>.
func (c Column) MarshalJSON() ([]byte, error) {
	out := struct {
		Type      ColumnType `json:"type"`
		Ephemeral bool       `json:"ephemeral,omitempty"`
		Mutable   *bool      `json:"mutable,omitempty"`
	}{Type: c.Type, Ephemeral: c.Ephemeral}
	if !c.Mutable {
		out.Mutable = new(bool)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("column %q: %w", c.Name, err)
	}
	return b, nil
}

// MarshalJSON writes ct as an RFC 7047 <type>.
func (ct ColumnType) MarshalJSON() ([]byte, error) {
	if ct.Value == nil && ct.Min == 1 && ct.Max == 1 && ct.Key.simple() {
		return json.Marshal(ct.Key.Type)
	}
	out := struct {
		Key   BaseType  `json:"key"`
		Value *BaseType `json:"value,omitempty"`
		Min   int       `json:"min"`
		Max   any       `json:"max"`
	}{Key: ct.Key, Value: ct.Value, Min: ct.Min, Max: ct.Max}
	if ct.Max == Unlimited {
		out.Max = "unlimited"
	}
	return json.Marshal(out)
}

// MarshalJSON writes b as an RFC 7047 <base-type>.
func (b BaseType) MarshalJSON() ([]byte, error) {
	if b.simple() {
		return json.Marshal(b.Type)
	}
	out := struct {
		Type       AtomicType `json:"type"`
		Enum       any        `json:"enum,omitempty"`
		MinInteger *int64     `json:"minInteger,omitempty"`
		MaxInteger *int64     `json:"maxInteger,omitempty"`
		MinReal    *float64   `json:"minReal,omitempty"`
		MaxReal    *float64   `json:"maxReal,omitempty"`
		MinLength  *int       `json:"minLength,omitempty"`
		MaxLength  *int       `json:"maxLength,omitempty"`
		RefTable   string     `json:"refTable,omitempty"`
		RefType    string     `json:"refType,omitempty"`
	}{
		Type: b.Type, MinInteger: b.MinInteger, MaxInteger: b.MaxInteger,
		MinReal: b.MinReal, MaxReal: b.MaxReal, MinLength: b.MinLength, MaxLength: b.MaxLength,
		RefTable: b.RefTable,
	}
	if b.RefType == RefWeak {
		out.RefType = RefWeak
	}
	if b.Enum != nil {
		atoms := make([]any, len(b.Enum))
		for i, v := range b.Enum {
			if b.Type == UUID {
				// A uuid atom is tagged so that it cannot be mistaken for a string.
				atoms[i] = []any{"uuid", v}
			} else {
				atoms[i] = v
			}
		}
		out.Enum = []any{"set", atoms}
	}
	return json.Marshal(out)
}
