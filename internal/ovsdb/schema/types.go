package schema

// AtomicType is one of the five OVSDB atomic types (RFC 7047 section 3.2, <atomic-type>).
type AtomicType string

// The atomic types.
const (
	Integer AtomicType = "integer"
	Real    AtomicType = "real"
	Boolean AtomicType = "boolean"
	String  AtomicType = "string"
	UUID    AtomicType = "uuid"
)

// valid reports whether t is one of the five atomic types.
func (t AtomicType) valid() bool {
	switch t {
	case Integer, Real, Boolean, String, UUID:
		return true
	}
	return false
}

// Unlimited is ColumnType.Max for a column declared with "max": "unlimited".
const Unlimited = -1

// Reference strengths for BaseType.RefType.
const (
	RefStrong = "strong"
	RefWeak   = "weak"
)

// Names of the columns every row has without the schema declaring them.
const (
	ColumnUUID    = "_uuid"
	ColumnVersion = "_version"
)

// BaseType is the type of a map key, a map value, or a set/scalar element
// (RFC 7047 <base-type>).
type BaseType struct {
	Type AtomicType
	// Enum lists the allowed values in schema order; nil when the type is not an
	// enumeration. Values are int64 (integer), float64 (real), bool (boolean) or
	// string (string, and uuid as its text).
	Enum []any

	MinInteger, MaxInteger *int64
	MinReal, MaxReal       *float64
	MinLength, MaxLength   *int

	// RefTable is the table a uuid refers to; empty when the uuid is not a reference.
	RefTable string
	// RefType is RefStrong or RefWeak when RefTable is set, and empty otherwise.
	RefType string
}

// IsRef reports whether the base type is a reference to a row of another table.
func (b BaseType) IsRef() bool { return b.Type == UUID && b.RefTable != "" }

// IsWeakRef reports whether the base type is a weak reference: the server deletes it
// instead of refusing the transaction when the referenced row goes away.
func (b BaseType) IsWeakRef() bool { return b.IsRef() && b.RefType == RefWeak }

// simple reports whether the base type has nothing but its atomic type, so that the
// bare RFC 7047 form (e.g. "string") describes it completely.
func (b BaseType) simple() bool {
	return b.Enum == nil && b.MinInteger == nil && b.MaxInteger == nil &&
		b.MinReal == nil && b.MaxReal == nil && b.MinLength == nil && b.MaxLength == nil &&
		b.RefTable == ""
}

// ColumnType is the type of a column (RFC 7047 <type>): a scalar, an optional value,
// a set or a map, depending on Value, Min and Max.
type ColumnType struct {
	Key   BaseType
	Value *BaseType // nil unless the column is a map
	Min   int       // 0 or 1
	Max   int       // >= 1, or Unlimited
}

// IsMap reports whether the column is a map from Key to Value.
func (c ColumnType) IsMap() bool { return c.Value != nil }

// IsOptional reports whether the column holds zero or one Key value (a 0..1 set).
func (c ColumnType) IsOptional() bool { return !c.IsMap() && c.Min == 0 && c.Max == 1 }

// IsSet reports whether the column may hold more than one Key value. A 0..1 set is
// IsOptional, not IsSet.
func (c ColumnType) IsSet() bool { return !c.IsMap() && c.Max != 1 }

// IsScalar reports whether the column holds exactly one Key value.
func (c ColumnType) IsScalar() bool { return !c.IsMap() && c.Min == 1 && c.Max == 1 }

// Column is one column of a table (RFC 7047 <column-schema>).
type Column struct {
	Name string
	Type ColumnType
	// Ephemeral columns are not persisted by the server.
	Ephemeral bool
	// Mutable is false when the column may only be set on insert.
	Mutable bool
}

// Table is one table of a database (RFC 7047 <table-schema>).
type Table struct {
	Name string
	// Columns holds the declared columns, keyed by name; the implicit "_uuid" and
	// "_version" columns are only available through Column.
	Columns map[string]*Column
	// MaxRows is the most rows the table may hold; 0 means unlimited.
	MaxRows int
	// IsRoot is the table's isRoot member as written; see Database.IsRootTable.
	IsRoot bool
	// Indexes lists the sets of columns whose values must be unique, in schema order.
	Indexes [][]string
}

// Column returns the named column, including the implicit "_uuid" and "_version"
// columns, or nil when the table has no such column. The implicit columns are fresh
// values on each call, so callers may not rely on their identity.
func (t *Table) Column(name string) *Column {
	if t == nil {
		return nil
	}
	if c, ok := t.Columns[name]; ok {
		return c
	}
	switch name {
	case ColumnUUID, ColumnVersion:
		return &Column{
			Name: name,
			Type: ColumnType{Key: BaseType{Type: UUID}, Min: 1, Max: 1},
		}
	}
	return nil
}

// ColumnNames returns the declared column names in sorted order.
func (t *Table) ColumnNames() []string {
	return sortedKeys(t.Columns)
}

// Database is a parsed schema (RFC 7047 <database-schema>).
type Database struct {
	Name    string
	Version string
	Cksum   string // empty when absent; clients should ignore it (ovsdb(7))
	Tables  map[string]*Table
}

// Table returns the named table, or nil when the database has none.
func (d *Database) Table(name string) *Table {
	if d == nil {
		return nil
	}
	return d.Tables[name]
}

// TableNames returns the table names in sorted order.
func (d *Database) TableNames() []string {
	return sortedKeys(d.Tables)
}

// IsRootTable reports whether rows of the named table survive without being
// referenced. RFC 7047 section 3.2: when no table of the database sets isRoot, every
// table is a root table (schemas older than isRoot keep their meaning).
func (d *Database) IsRootTable(name string) bool {
	t := d.Table(name)
	if t == nil {
		return false
	}
	if t.IsRoot {
		return true
	}
	for _, other := range d.Tables {
		if other.IsRoot {
			return false
		}
	}
	return true
}
