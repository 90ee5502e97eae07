// Command cost prints the monthly AWS cost of the synthesized stacks in a
// cloud assembly directory (default cdk.out): per stack, at idle, and per
// extra running task. `make cost` synthesizes first, then runs it.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/iddv/timmybot/infra/cost"
)

func main() {
	dir := flag.String("dir", "cdk.out", "cloud assembly directory with *.template.json")
	flag.Parse()
	if err := run(*dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(1)
	}
}

func run(dir string, w io.Writer) error {
	prices, err := cost.DefaultPrices()
	if err != nil {
		return err
	}
	templates, err := cost.ReadDir(dir)
	if err != nil {
		return err
	}
	return cost.Estimate(templates, prices).Write(w)
}
