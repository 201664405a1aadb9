// Package schema parses OVSDB database schemas (the ".ovsschema" JSON of RFC 7047
// section 3.2, also returned by the "get_schema" method) into plain Go values.
//
// Contract:
//
//   - Parse accepts every form RFC 7047 allows for a <type> and a <base-type>: a bare
//     atomic type name ("string"), or an object with "key"/"value"/"min"/"max", where a
//     base type is itself a bare name or an object with "enum", integer/real/length
//     ranges and "refTable"/"refType". Defaults are filled in, so callers never see an
//     absent value: min and max default to 1, "unlimited" becomes [Unlimited],
//     refType defaults to "strong" when refTable is set, and Column.Mutable defaults
//     to true.
//   - Parse validates what a server would refuse: unknown members, unknown atomic types,
//     0 <= min <= 1 <= max, ranges and enums of the wrong atomic type, inverted ranges,
//     references to tables that do not exist, indexes over unknown or ephemeral columns.
//     Errors name the table and column they are about.
//   - Table.Columns holds the declared columns only; Table.Column also answers for the
//     implicit "_uuid" and "_version" columns every row has.
//   - Table.IsRoot is what the schema says. RFC 7047 adds one rule for old schemas: when
//     no table at all sets isRoot, every table is a root table. [Database.IsRootTable]
//     applies that rule; use it to decide whether unreferenced rows are garbage
//     collected.
//   - Database.MarshalJSON writes an equivalent schema: Parse(Marshal(d)) equals d.
//     Key order is canonical (sorted), so the output is deterministic.
//
// The values are plain data: nothing here is safe to mutate once shared between
// goroutines, and nothing here mutates them after Parse returns.
package schema
