// Package cdktest helps Go tests assert on synthesized CDK stacks: it turns
// the panics by which jsii reports a failed assertion into test failures,
// exposes a template as plain Go values, and lists cdk-nag errors.
//
// It owns no constructs and no fixtures; each test builds its own app.
package cdktest

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// Check runs f and reports a panic from it — how a CDK assertion such as
// HasResourceProperties fails in Go — as a test failure instead of a crash
// of the whole test binary.
func Check(tb testing.TB, f func()) {
	tb.Helper()
	defer func() {
		if r := recover(); r != nil {
			tb.Fatalf("%v", r)
		}
	}()
	f()
}

// Template is a synthesized stack template, both for CDK's assertions and
// as decoded JSON for checks those cannot express.
type Template struct {
	assertions.Template
	JSON map[string]any
}

// FromStack synthesizes stack's app (once; later calls reuse the result)
// and returns the stack's template.
func FromStack(tb testing.TB, stack awscdk.Stack) *Template {
	tb.Helper()
	var t *Template
	Check(tb, func() {
		a := assertions.Template_FromStack(stack, nil)
		t = &Template{Template: a, JSON: *a.ToJSON()}
	})
	return t
}

// Has runs HasResourceProperties as a test assertion.
func (t *Template) Has(tb testing.TB, typ string, props any) {
	tb.Helper()
	Check(tb, func() { t.HasResourceProperties(jsii.String(typ), props) })
}

// Count asserts the number of resources of typ.
func (t *Template) Count(tb testing.TB, typ string, want int) {
	tb.Helper()
	Check(tb, func() { t.ResourceCountIs(jsii.String(typ), jsii.Number(float64(want))) })
}

// Resources returns the resources of type typ by logical ID.
func (t *Template) Resources(typ string) map[string]map[string]any {
	out := make(map[string]map[string]any)
	resources, _ := t.JSON["Resources"].(map[string]any)
	for id, r := range resources {
		res, _ := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// Only returns the single resource of type typ, failing the test when
// there is not exactly one.
func (t *Template) Only(tb testing.TB, typ string) map[string]any {
	tb.Helper()
	rs := t.Resources(typ)
	if len(rs) != 1 {
		tb.Fatalf("want exactly one %s, got %d", typ, len(rs))
	}
	for _, r := range rs {
		return r
	}
	return nil
}

// Props returns a resource's Properties.
func Props(resource map[string]any) map[string]any {
	p, _ := resource["Properties"].(map[string]any)
	return p
}

// Actions returns an IAM policy statement's actions, sorted; the template
// holds either one string or a list.
func Actions(statement map[string]any) []string {
	var out []string
	switch a := statement["Action"].(type) {
	case string:
		out = append(out, a)
	case []any:
		for _, e := range a {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// BroadSuppressions returns the logical IDs of resources that suppress the
// cdk-nag rule without naming the findings it applies to (appliesTo), so
// that a new finding of that rule on them would pass unseen.
func (t *Template) BroadSuppressions(rule string) []string {
	var out []string
	resources, _ := t.JSON["Resources"].(map[string]any)
	for id, r := range resources {
		res, _ := r.(map[string]any)
		meta, _ := res["Metadata"].(map[string]any)
		nag, _ := meta["cdk_nag"].(map[string]any)
		rules, _ := nag["rules_to_suppress"].([]any)
		for _, e := range rules {
			s, _ := e.(map[string]any)
			if applies, _ := s["applies_to"].([]any); s["id"] == rule && len(applies) == 0 {
				out = append(out, id)
			}
		}
	}
	sort.Strings(out)
	return out
}

// NagErrors returns the unsuppressed cdk-nag AwsSolutions errors of stack,
// sorted, as "path: message" lines; the stack's app must have the
// AwsSolutions checks applied.
func NagErrors(tb testing.TB, stack awscdk.Stack) []string {
	tb.Helper()
	var out []string
	Check(tb, func() {
		msgs := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"),
			assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		for _, m := range *msgs {
			//lint:ignore SA1019 FindError still returns this type; the replacement is not published for Go.
			out = append(out, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
		}
	})
	sort.Strings(out)
	return out
}

// JSON renders a template fragment, for substring checks on values that
// contain CloudFormation intrinsics.
func JSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
