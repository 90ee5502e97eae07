package dynamostore

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIAMActionsAreTheOperationsTheStoreCalls(t *testing.T) {
	// GIVEN the operations the store can call: the methods of API
	api := reflect.TypeFor[API]()
	var fromAPI []string
	for i := range api.NumMethod() {
		fromAPI = append(fromAPI, "dynamodb:"+api.Method(i).Name)
	}
	// AND the operations the package's code calls on its API value s.api
	// (directly or by handing it to a paginator or waiter)
	called := apiCallsInSource(t)

	// THEN IAMActions lists exactly the API's methods
	if diff := cmp.Diff(slices.Sorted(slices.Values(fromAPI)), slices.Sorted(slices.Values(IAMActions))); diff != "" {
		t.Errorf("IAMActions (-API methods +IAMActions):\n%s", diff)
	}
	// AND every operation the source calls is among them
	for _, op := range called {
		if !slices.Contains(IAMActions, "dynamodb:"+op) {
			t.Errorf("the store calls %s, which IAMActions lacks", op)
		}
	}
	if len(called) == 0 {
		t.Error("found no calls on s.api: the source scan is broken")
	}
}

// apiCallsInSource returns the DynamoDB operations the package's non-test
// files call through s.api: s.api.X(...) gives X, and
// dynamodb.NewXPaginator(s.api, ...) gives X.
func apiCallsInSource(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	isAPI := func(e ast.Expr) bool {
		sel, ok := e.(*ast.SelectorExpr)
		return ok && sel.Sel.Name == "api"
	}
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if isAPI(sel.X) {
				seen[sel.Sel.Name] = true
			}
			if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "dynamodb" && len(call.Args) > 0 && isAPI(call.Args[0]) {
				op := strings.TrimPrefix(sel.Sel.Name, "New")
				op = strings.TrimSuffix(strings.TrimSuffix(op, "Paginator"), "Waiter")
				seen[op] = true
			}
			return true
		})
	}
	out := make([]string, 0, len(seen))
	for op := range seen {
		out = append(out, op)
	}
	slices.Sort(out)
	return out
}
