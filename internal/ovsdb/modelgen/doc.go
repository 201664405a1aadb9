// Package modelgen generates Go models from an OVSDB schema: one struct per table, with
// the names, types, constants and methods described in the contract of the generated
// packages (see internal/ovsdb/nb's package documentation). Its command,
// cmd/ovsdb-modelgen, runs from go:generate lines in those packages.
//
// Generate is a pure function of the schema text and Config, and sorts tables,
// columns and names, so regenerating gives byte-identical files; the package's tests
// regenerate every model package and fail when a checked-in file differs.
//
// Names: CamelCase applies Go's initialism conventions (external_ids -> ExternalIDs,
// NB_Global -> NBGlobal, Open_vSwitch -> OpenvSwitch); Ident also turns names that
// start with a digit or hold no letter into identifiers. When two names still clash
// (a column called "table" against the Table method, "a-b" against "a_b"), the later
// one in sorted order gets a suffix ("TableColumn", "AB2"), so the outcome is stable.
package modelgen
