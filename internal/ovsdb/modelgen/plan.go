package modelgen

import (
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/schema"
)

// Plan is everything the templates need, with every Go name already chosen. It is
// built in sorted table and column order, so names chosen to resolve clashes are
// stable across runs.
type Plan struct {
	DB     *schema.Database
	Models []*Model
}

// Model is the Go struct of one table.
type Model struct {
	Table      *schema.Table
	GoName     string // struct name: LogicalSwitch
	TableConst string // constant holding the table name: LogicalSwitchTable
	Fields     []*Field
}

// Field is one column of a model (the _uuid field is implicit and not listed).
type Field struct {
	Column *schema.Column
	GoName string
	GoType string
	Kind   Kind
	Enums  []*EnumConst
}

// EnumConst is a constant for one enum value of a column.
type EnumConst struct {
	GoName  string
	Literal string // Go constant expression: "router", 5, true
}

// methodNames are the identifiers a generated struct already uses for its UUID field
// and its methods; a column must not take them.
var methodNames = []string{"UUID", "Table", "DeepCopy", "DeepCopyInto", "Equals"}

// packageNames are the package-level identifiers the generated files declare besides
// the models and their constants.
var packageNames = []string{"DatabaseName", "SchemaVersion", "Schema", "Models", "schemaJSON", "parsedSchema",
	"equalPtr", "equalSet"}

// NewPlan chooses the Go names for every table, column and enum value of db.
func NewPlan(db *schema.Database) *Plan {
	pkg := namespace{}
	for _, n := range packageNames {
		pkg[n] = true
	}
	p := &Plan{DB: db}
	// Struct names first: they are what readers use most, so they get the unsuffixed
	// spelling if anything clashes with a constant.
	for _, tn := range db.TableNames() {
		p.Models = append(p.Models, &Model{Table: db.Tables[tn], GoName: pkg.claim(Ident(tn))})
	}
	for _, m := range p.Models {
		m.TableConst = pkg.claim(m.GoName + "Table")
	}
	for _, m := range p.Models {
		fields := namespace{}
		for _, n := range methodNames {
			fields[n] = true
		}
		for _, cn := range m.Table.ColumnNames() {
			col := m.Table.Columns[cn]
			id := Ident(cn)
			for _, n := range methodNames {
				// "Table" reads better as TableColumn than as Table2.
				if id == n {
					id += "Column"
				}
			}
			f := &Field{
				Column: col,
				GoName: fields.claim(id),
				GoType: GoType(col.Type),
				Kind:   KindOf(col.Type),
			}
			prefix := m.GoName + f.GoName
			for _, v := range col.Type.Key.Enum {
				f.Enums = append(f.Enums, &EnumConst{GoName: pkg.claim(prefix + enumSuffix(v)), Literal: enumLiteral(v)})
			}
			if col.Type.Value != nil {
				for _, v := range col.Type.Value.Enum {
					f.Enums = append(f.Enums, &EnumConst{GoName: pkg.claim(prefix + "Value" + enumSuffix(v)), Literal: enumLiteral(v)})
				}
			}
			m.Fields = append(m.Fields, f)
		}
	}
	return p
}

// uses reports whether any field of the plan has the given kind.
func (p *Plan) uses(k Kind) bool {
	for _, m := range p.Models {
		for _, f := range m.Fields {
			if f.Kind == k {
				return true
			}
		}
	}
	return false
}
