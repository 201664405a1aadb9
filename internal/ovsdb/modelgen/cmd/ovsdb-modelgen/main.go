// Command ovsdb-modelgen generates Go models from an OVSDB schema file; see package
// modelgen. It is meant to run from go:generate in the package that receives the
// models:
//
//	//go:generate go run ../modelgen/cmd/ovsdb-modelgen -schema ../schemas/ovn-nb.ovsschema -package nb
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/modelgen"
)

func main() {
	var opts modelgen.Options
	flag.StringVar(&opts.Schema, "schema", "", "path of the .ovsschema file")
	flag.StringVar(&opts.Package, "package", "", "Go package name of the generated code")
	flag.StringVar(&opts.Dir, "dir", ".", "directory to write the generated files into")
	flag.Parse()
	if err := modelgen.Run(opts); err != nil {
		fmt.Fprintln(os.Stderr, "ovsdb-modelgen:", err)
		os.Exit(1)
	}
}
