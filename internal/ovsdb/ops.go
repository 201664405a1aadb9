package ovsdb

import (
	"fmt"
	"reflect"
	"time"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/schema"
)

// Operation is one operation of a transaction (RFC 7047 section 5.2). Build it with Insert,
// Update, Mutate, Delete, Select, Wait or Comment, refine it with the With*/Where methods
// (each returns a modified copy), append it to a slice and pass the slice to
// Client.Transact. Nothing is checked until the transaction is encoded, so building
// operations never fails; encoding errors name the operation's index and table.
type Operation struct {
	op        string
	target    any // a Model, or a table name (string)
	columns   []string
	where     []Condition
	whereAll  bool
	mutations []Mutation
	uuidName  string
	until     string
	rows      []any
	timeout   *time.Duration
	comment   string
}

// Condition is one clause of a where (RFC 7047 5.1 <condition>): Column Function Value.
// Value is a Go value of the column's model type (or a single element, for sets).
type Condition struct {
	Column   string
	Function string
	Value    any
}

// Condition functions.
const (
	FuncEqual    = "=="
	FuncNotEqual = "!="
	FuncIncludes = "includes"
	FuncExcludes = "excludes"
	FuncLess     = "<"
	FuncLessEq   = "<="
	FuncGreater  = ">"
	FuncGreatEq  = ">="
)

// Equal is the condition column == value.
func Equal(column string, value any) Condition { return Condition{column, FuncEqual, value} }

// NotEqual is the condition column != value.
func NotEqual(column string, value any) Condition { return Condition{column, FuncNotEqual, value} }

// Includes is the condition "column includes value" (value is a subset of the column).
func Includes(column string, value any) Condition { return Condition{column, FuncIncludes, value} }

// Excludes is the condition "column excludes value" (no element of value is in the column).
func Excludes(column string, value any) Condition { return Condition{column, FuncExcludes, value} }

// Mutation is one mutation of a mutate operation (RFC 7047 5.1 <mutation>).
type Mutation struct {
	Column  string
	Mutator string
	Value   any
}

// Mutators.
const (
	MutatorInsert   = "insert"
	MutatorDelete   = "delete"
	MutatorAdd      = "+="
	MutatorSubtract = "-="
	MutatorMultiply = "*="
	MutatorDivide   = "/="
	MutatorModulo   = "%="
)

// InsertValues adds elements to a set column, or pairs to a map column (existing keys keep
// their value, as RFC 7047 specifies).
func InsertValues(column string, value any) Mutation {
	return Mutation{column, MutatorInsert, value}
}

// DeleteValues removes elements from a set column, or from a map column either pairs
// (value is a map: only matching key/value pairs go) or keys (value is a slice of keys).
func DeleteValues(column string, value any) Mutation {
	return Mutation{column, MutatorDelete, value}
}

// Insert adds the row m. Zero-valued columns are omitted (the server's defaults are the
// same). Give it a uuid-name with WithNamedUUID so that other operations of the same
// transaction can refer to it; the new UUID is in the operation's result.
func Insert(m Model) Operation { return Operation{op: "insert", target: m} }

// Update writes the given columns of m (all mutable mapped columns when none are given) to
// the rows selected by Where, or, without Where, to the row whose UUID m carries.
func Update(m Model, columns ...string) Operation {
	return Operation{op: "update", target: m, columns: columns}
}

// Mutate applies mutations to the rows selected by Where, or to m's row by UUID.
func Mutate(m Model, mutations ...Mutation) Operation {
	return Operation{op: "mutate", target: m, mutations: mutations}
}

// Delete deletes the rows selected by Where. target is a Model (its table, and when it
// has a UUID and no Where is given, that row) or a table name.
func Delete(target any) Operation { return Operation{op: "delete", target: target} }

// Select reads the given columns (all when none) of the rows selected by Where; decode
// the result with OperationResult.Decode.
func Select(target any, columns ...string) Operation {
	return Operation{op: "select", target: target, columns: columns}
}

// Wait makes the transaction abort unless, on the rows selected by Where projected on
// WithColumns, the comparison until ("==" or "!=") against rows holds. With no rows and
// until "==", it asserts that no row matches: the usual optimistic-concurrency guard
// ("insert only if nobody else did"). The default timeout is 0: fail at once.
func Wait(target any, until string, rows ...Model) Operation {
	o := Operation{op: "wait", target: target, until: until}
	for _, r := range rows {
		o.rows = append(o.rows, r)
	}
	return o
}

// Comment adds a comment to the server's log for this transaction.
func Comment(text string) Operation { return Operation{op: "comment", comment: text} }

// WithNamedUUID gives an insert a uuid-name: a uuid-typed value equal to name, anywhere
// in the same transaction, refers to the inserted row.
func (o Operation) WithNamedUUID(name string) Operation { o.uuidName = name; return o }

// Where sets (adds to) the operation's conditions.
func (o Operation) Where(conds ...Condition) Operation {
	o.where = append(append([]Condition(nil), o.where...), conds...)
	return o
}

// WhereAll selects every row of the table. It must be explicit: an update, mutate or
// delete without a condition is refused, because it almost always is a bug.
func (o Operation) WhereAll() Operation { o.whereAll = true; return o }

// WithColumns sets the columns a wait compares.
func (o Operation) WithColumns(columns ...string) Operation { o.columns = columns; return o }

// WithTimeout sets how long a wait may block on the server.
func (o Operation) WithTimeout(d time.Duration) Operation { o.timeout = &d; return o }

// Op returns the operation's name ("insert", ...).
func (o Operation) Op() string { return o.op }

// encode turns an operation into its wire object.
func (dm *DatabaseModel) encodeOp(o *Operation) (map[string]any, error) {
	if o.op == "comment" {
		return map[string]any{"op": "comment", "comment": o.comment}, nil
	}
	ti, v, err := dm.target(o.target)
	if err != nil {
		return nil, err
	}
	w := map[string]any{"op": o.op, "table": ti.name}
	needWhere := false
	switch o.op {
	case "insert":
		if !v.IsValid() {
			return nil, fmt.Errorf("insert needs a model, not a table name")
		}
		row, err := ti.encodeRow(v, nil, true)
		if err != nil {
			return nil, err
		}
		w["row"] = row
		if o.uuidName != "" {
			if !isNamedUUID(o.uuidName) {
				return nil, fmt.Errorf("uuid-name %q is not an identifier", o.uuidName)
			}
			w["uuid-name"] = o.uuidName
		}
		return w, nil
	case "update":
		if !v.IsValid() {
			return nil, fmt.Errorf("update needs a model, not a table name")
		}
		cols := o.columns
		if len(cols) == 0 {
			cols = ti.mutableColumns()
		}
		row, err := ti.encodeRow(v, cols, false)
		if err != nil {
			return nil, err
		}
		w["row"] = row
		needWhere = true
	case "mutate":
		muts := make([]any, 0, len(o.mutations))
		for _, m := range o.mutations {
			wm, err := encodeMutation(ti, m)
			if err != nil {
				return nil, err
			}
			muts = append(muts, wm)
		}
		w["mutations"] = muts
		needWhere = true
	case "delete":
		needWhere = true
	case "select":
		if len(o.columns) > 0 {
			w["columns"] = o.columns
		}
	case "wait":
		if o.until != FuncEqual && o.until != FuncNotEqual {
			return nil, fmt.Errorf("wait: until must be == or !=, not %q", o.until)
		}
		if len(o.rows) > 0 && len(o.columns) == 0 {
			return nil, fmt.Errorf("wait with rows needs WithColumns")
		}
		rows := make([]any, 0, len(o.rows))
		for i, r := range o.rows {
			rti, rv, err := dm.target(r)
			if err != nil || rti != ti || !rv.IsValid() {
				return nil, fmt.Errorf("wait row %d: want a %s model", i, ti.name)
			}
			row, err := ti.encodeRow(rv, o.columns, false)
			if err != nil {
				return nil, fmt.Errorf("wait row %d: %w", i, err)
			}
			rows = append(rows, row)
		}
		w["rows"] = rows
		w["until"] = o.until
		cols := o.columns
		if cols == nil {
			cols = []string{}
		}
		w["columns"] = cols
		timeout := int64(0)
		if o.timeout != nil {
			timeout = o.timeout.Milliseconds()
		}
		w["timeout"] = timeout
	default:
		return nil, fmt.Errorf("unknown operation %q", o.op)
	}
	where, err := dm.encodeWhere(ti, v, o, needWhere)
	if err != nil {
		return nil, err
	}
	w["where"] = where
	return w, nil
}

// target resolves an operation's target to its table and (for models) struct value.
func (dm *DatabaseModel) target(t any) (*tableInfo, reflect.Value, error) {
	if name, ok := t.(string); ok {
		ti := dm.tables[name]
		if ti == nil {
			return nil, reflect.Value{}, fmt.Errorf("table %q is not mapped in database %q", name, dm.schema.Name)
		}
		return ti, reflect.Value{}, nil
	}
	return dm.info(t)
}

func (dm *DatabaseModel) encodeWhere(ti *tableInfo, v reflect.Value, o *Operation, needWhere bool) ([]any, error) {
	conds := o.where
	if len(conds) == 0 && !o.whereAll && v.IsValid() {
		if id := ti.uuid(v); id != "" {
			conds = []Condition{Equal(schema.ColumnUUID, id)}
		}
	}
	if len(conds) == 0 && needWhere && !o.whereAll {
		return nil, fmt.Errorf("%s without a condition: use Where, set the model's UUID, or WhereAll", o.op)
	}
	out := make([]any, 0, len(conds))
	for _, c := range conds {
		wc, err := encodeCondition(ti, c)
		if err != nil {
			return nil, err
		}
		out = append(out, wc)
	}
	return out, nil
}

func encodeCondition(ti *tableInfo, c Condition) (any, error) {
	col, err := ti.column(c.Column)
	if err != nil {
		return nil, fmt.Errorf("condition: %w", err)
	}
	switch c.Function {
	case FuncEqual, FuncNotEqual, FuncIncludes, FuncExcludes, FuncLess, FuncLessEq, FuncGreater, FuncGreatEq:
	default:
		return nil, fmt.Errorf("condition on %q: unknown function %q", c.Column, c.Function)
	}
	val, err := encodeValue(&col.Type, reflect.ValueOf(c.Value))
	if err != nil {
		return nil, fmt.Errorf("condition on %q: %w", c.Column, err)
	}
	return []any{c.Column, c.Function, val}, nil
}

func encodeMutation(ti *tableInfo, m Mutation) (any, error) {
	col, err := ti.column(m.Column)
	if err != nil {
		return nil, fmt.Errorf("mutation: %w", err)
	}
	v := reflect.ValueOf(m.Value)
	var val any
	switch m.Mutator {
	case MutatorInsert:
		val, err = encodeValue(&col.Type, v)
	case MutatorDelete:
		if col.Type.IsMap() && v.Kind() != reflect.Map {
			val, err = encodeKeySet(&col.Type, v)
		} else {
			val, err = encodeValue(&col.Type, v)
		}
	case MutatorAdd, MutatorSubtract, MutatorMultiply, MutatorDivide, MutatorModulo:
		// Arithmetic applies to every element of an integer or real set: the operand is
		// one atom of the element type.
		val, err = encodeAtom(&col.Type.Key, v)
	default:
		return nil, fmt.Errorf("mutation on %q: unknown mutator %q", m.Column, m.Mutator)
	}
	if err != nil {
		return nil, fmt.Errorf("mutation %s on %q: %w", m.Mutator, m.Column, err)
	}
	return []any{m.Column, m.Mutator, val}, nil
}
