package infra

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/iddv/timmybot/infra/stacks"
)

// workflow is the part of a GitHub Actions workflow the checks read.
type workflow struct {
	Name string `yaml:"name"`
	On   struct {
		WorkflowRun *struct {
			Workflows []string `yaml:"workflows"`
			Types     []string `yaml:"types"`
			Branches  []string `yaml:"branches"`
		} `yaml:"workflow_run"`
		Push             any `yaml:"push"`
		WorkflowDispatch any `yaml:"workflow_dispatch"`
	} `yaml:"on"`
	Jobs map[string]struct {
		If    string            `yaml:"if"`
		Env   map[string]string `yaml:"env"`
		Steps []struct {
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func readWorkflow(t *testing.T, name string) (workflow, *yaml.Node) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../.github/workflows", name))
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	var n yaml.Node
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := yaml.Unmarshal(b, &n); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return w, &n
}

func TestDeployRunsOnlyOnTheCommitCIPassed(t *testing.T) {
	ci, _ := readWorkflow(t, "ci.yml")
	deploy, _ := readWorkflow(t, "deploy.yml")

	// THEN deploy starts only from a completed CI run on main, never on a
	// push or by hand
	run := deploy.On.WorkflowRun
	if run == nil || strings.Join(run.Workflows, ",") != ci.Name || strings.Join(run.Types, ",") != "completed" || strings.Join(run.Branches, ",") != "main" {
		t.Fatalf("deploy trigger = %+v, want workflow_run of %q, completed, on main", run, ci.Name)
	}
	if deploy.On.Push != nil || deploy.On.WorkflowDispatch != nil {
		t.Error("deploy also runs on push or by hand, without CI")
	}
	job, ok := deploy.Jobs["deploy"]
	if !ok {
		t.Fatal("no deploy job")
	}
	// AND only when that run succeeded, for a push to this repository
	for _, cond := range []string{
		"github.event.workflow_run.conclusion == 'success'",
		"github.event.workflow_run.event == 'push'",
		"github.event.workflow_run.head_repository.full_name == github.repository",
	} {
		if !strings.Contains(job.If, cond) {
			t.Errorf("deploy job condition %q lacks %q", job.If, cond)
		}
	}
	// AND it checks out exactly the commit CI tested
	var ref string
	for _, s := range job.Steps {
		if strings.HasPrefix(s.Uses, "actions/checkout@") {
			ref = s.With["ref"]
		}
	}
	if ref != "${{ github.event.workflow_run.head_sha }}" {
		t.Errorf("checkout ref = %q, want the CI run's head_sha", ref)
	}
	// AND every setting of the CDK app comes from the repository variable
	// of the same name, as on a shell
	for _, name := range stacks.EnvironmentVariables() {
		if !strings.Contains(job.Env[name], "vars."+name) {
			t.Errorf("deploy env %s = %q, want it from vars.%s", name, job.Env[name], name)
		}
	}
}

var (
	pinnedAction = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$`)
	tagComment   = regexp.MustCompile(`^# v[0-9]+(\.[0-9]+)*$`)
)

func TestWorkflowsPinActionsAndUseASupportedNode(t *testing.T) {
	for _, name := range []string{"ci.yml", "deploy.yml"} {
		t.Run(name, func(t *testing.T) {
			_, doc := readWorkflow(t, name)
			var uses int
			walkPairs(doc, func(key, value *yaml.Node) {
				switch key.Value {
				case "uses":
					uses++
					// THEN each action is pinned by commit, its tag beside it
					if !pinnedAction.MatchString(value.Value) || !tagComment.MatchString(value.LineComment) {
						t.Errorf("line %d: uses %s %s, want owner/name@<commit> # vX.Y.Z", value.Line, value.Value, value.LineComment)
					}
				case "node-version":
					// AND Node is a version still supported
					if value.Value != "22" && value.Value != "24" {
						t.Errorf("line %d: node-version %s, want 22 or 24", value.Line, value.Value)
					}
				}
			})
			if uses == 0 {
				t.Error("no actions found: the walk is broken")
			}
		})
	}
}

// walkPairs calls f for every key and value of every mapping under n.
func walkPairs(n *yaml.Node, f func(key, value *yaml.Node)) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			f(n.Content[i], n.Content[i+1])
		}
	}
	for _, c := range n.Content {
		walkPairs(c, f)
	}
}
