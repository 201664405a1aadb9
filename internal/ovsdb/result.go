package ovsdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// OperationResult is the server's answer to one operation.
type OperationResult struct {
	// UUID is the new row's UUID, for insert.
	UUID string
	// Count is the number of rows matched, for update, mutate and delete.
	Count int
	// Rows are the selected rows in wire form, for select; decode them with Decode.
	Rows []map[string]any
}

// OperationError is a failed operation: the server's error and details, with the index
// and kind of the operation and its table. Index equals the number of operations for a
// commit-time failure (e.g. "referential integrity violation"), which the server reports
// after the last operation's result.
type OperationError struct {
	Index   int
	Op      string
	Table   string
	Err     string
	Details string
}

func (e *OperationError) Error() string {
	where := fmt.Sprintf("operation %d (%s", e.Index, e.Op)
	if e.Table != "" {
		where += " on " + e.Table
	}
	where += ")"
	if e.Op == "" {
		where = fmt.Sprintf("commit (after operation %d)", e.Index-1)
	}
	if e.Details != "" {
		return fmt.Sprintf("%s: %s: %s", where, e.Err, e.Details)
	}
	return fmt.Sprintf("%s: %s", where, e.Err)
}

// Well-known server errors (RFC 7047 section 5.2 and ovsdb-server), to test with IsError.
const (
	ErrTimedOut             = "timed out"
	ErrConstraintViolation  = "constraint violation"
	ErrSyntax               = "syntax error"
	ErrReferentialIntegrity = "referential integrity violation"
	ErrNotOwner             = "not owner"
	ErrResourcesExhausted   = "resources exhausted"
	ErrDomain               = "domain error"
	ErrRange                = "range error"
	ErrAborted              = "aborted"
	ErrNotSupported         = "not supported"
	ErrDuplicateUUIDName    = "duplicate uuid-name"
	ErrUnknownDatabase      = "unknown database"
	errUnknownMethodJSONRPC = "unknown method"
)

// IsError reports whether err carries an OperationError whose server error is kind
// (e.g. ErrTimedOut from a wait).
func IsError(err error, kind string) bool {
	var oe *OperationError
	return errors.As(err, &oe) && oe.Err == kind
}

// TxnError is returned by Transact when the server refused the transaction. Errors holds
// every failed slot (usually one); Results holds the results of the operations that
// succeeded before the failure (the transaction was nevertheless aborted as a whole).
type TxnError struct {
	Errors  []*OperationError
	Results []OperationResult
}

func (e *TxnError) Error() string {
	if len(e.Errors) == 1 {
		return "transaction failed: " + e.Errors[0].Error()
	}
	msg := "transaction failed:"
	for _, oe := range e.Errors {
		msg += " [" + oe.Error() + "]"
	}
	return msg
}

// Unwrap exposes the individual operation errors to errors.As/Is.
func (e *TxnError) Unwrap() []error {
	out := make([]error, len(e.Errors))
	for i, oe := range e.Errors {
		out[i] = oe
	}
	return out
}

// parseResults checks a transact reply against the operations that produced it.
func parseResults(ops []Operation, tables []string, raw json.RawMessage) ([]OperationResult, error) {
	w, err := decodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("decode transact reply: %w", err)
	}
	slots, ok := w.([]any)
	if !ok {
		return nil, fmt.Errorf("transact reply: want an array, got %s", describe(w))
	}
	if len(slots) < len(ops) {
		return nil, fmt.Errorf("transact reply: %d results for %d operations", len(slots), len(ops))
	}
	results := make([]OperationResult, len(ops))
	var errs []*OperationError
	for i, s := range slots {
		if s == nil {
			// Operations after a failed one are not executed and have null results.
			continue
		}
		obj, ok := s.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("transact reply: result %d: want an object, got %s", i, describe(s))
		}
		if e, has := obj["error"]; has && e != nil {
			oe := &OperationError{Index: i}
			oe.Err, _ = e.(string)
			if oe.Err == "" {
				oe.Err = describe(e)
			}
			if d, ok := obj["details"]; ok && d != nil {
				if ds, ok := d.(string); ok {
					oe.Details = ds
				} else {
					oe.Details = describe(d)
				}
			}
			if i < len(ops) {
				oe.Op = ops[i].op
				oe.Table = tables[i]
			}
			errs = append(errs, oe)
			continue
		}
		if i >= len(ops) {
			continue
		}
		r, err := parseResult(obj)
		if err != nil {
			return nil, fmt.Errorf("transact reply: result %d (%s on %s): %w", i, ops[i].op, tables[i], err)
		}
		results[i] = r
	}
	if len(errs) > 0 {
		return results, &TxnError{Errors: errs, Results: results}
	}
	return results, nil
}

func parseResult(obj map[string]any) (OperationResult, error) {
	var r OperationResult
	if u, ok := obj["uuid"]; ok {
		id, err := wireUUID(u)
		if err != nil {
			return r, err
		}
		r.UUID = id
	}
	if c, ok := obj["count"]; ok {
		n, ok := c.(json.Number)
		if !ok {
			return r, fmt.Errorf("count: want a number, got %s", describe(c))
		}
		i, err := n.Int64()
		if err != nil {
			return r, fmt.Errorf("count: %w", err)
		}
		r.Count = int(i)
	}
	if rows, ok := obj["rows"]; ok {
		arr, ok := rows.([]any)
		if !ok {
			return r, fmt.Errorf("rows: want an array, got %s", describe(rows))
		}
		r.Rows = make([]map[string]any, len(arr))
		for i, row := range arr {
			m, ok := row.(map[string]any)
			if !ok {
				return r, fmt.Errorf("row %d: want an object, got %s", i, describe(row))
			}
			r.Rows[i] = m
		}
	}
	return r, nil
}

// Decode fills out, a pointer to a slice of models (e.g. *[]*nb.LogicalSwitch or
// *[]nb.LogicalSwitch), from the rows of a select result.
func (dm *DatabaseModel) Decode(rows []map[string]any, out any) error {
	pv := reflect.ValueOf(out)
	if pv.Kind() != reflect.Pointer || pv.Elem().Kind() != reflect.Slice {
		return fmt.Errorf("decode rows: want a pointer to a slice, got %T", out)
	}
	sv := pv.Elem()
	elem := sv.Type().Elem()
	byPtr := elem.Kind() == reflect.Pointer
	st := elem
	if byPtr {
		st = elem.Elem()
	}
	ti, err := dm.infoForType(st)
	if err != nil {
		return fmt.Errorf("decode rows: %w", err)
	}
	res := reflect.MakeSlice(sv.Type(), 0, len(rows))
	for i, row := range rows {
		p, v := ti.newRow()
		id := ""
		if u, ok := row["_uuid"]; ok {
			if id, err = wireUUID(u); err != nil {
				return fmt.Errorf("decode rows: row %d of %q: _uuid: %w", i, ti.name, err)
			}
		}
		if err := ti.decodeRow(id, row, v); err != nil {
			return fmt.Errorf("decode rows: row %d: %w", i, err)
		}
		if byPtr {
			res = reflect.Append(res, reflect.ValueOf(p))
		} else {
			res = reflect.Append(res, v)
		}
	}
	sv.Set(res)
	return nil
}
