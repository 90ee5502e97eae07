package infra

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/constructs/cdktest"
	"github.com/iddv/timmybot/constructs/timmybot"
)

func TestTaskRoleAllowsExactlyTheStoresDynamoDBActions(t *testing.T) {
	// GIVEN the actions the store calls
	want := slices.Sorted(slices.Values(dynamostore.IAMActions))
	// THEN the construct's default is that list
	if diff := cmp.Diff(want, slices.Sorted(slices.Values(timmybot.TableActions))); diff != "" {
		t.Errorf("timmybot.TableActions (-store +construct):\n%s", diff)
	}
	// AND the synthesized task role allows exactly those, and only on tables
	tpl := cdktest.FromStack(t, deployment(t).Service)
	var found bool
	for id, p := range tpl.Resources("AWS::IAM::Policy") {
		if !strings.Contains(id, "TaskRole") {
			continue
		}
		found = true
		for _, s := range cdktest.Props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			stmt := s.(map[string]any)
			if diff := cmp.Diff(want, cdktest.Actions(stmt)); diff != "" {
				t.Errorf("task role statement actions (-store +role):\n%s", diff)
			}
		}
	}
	if !found {
		t.Fatal("no task role policy in the Service stack")
	}
	for id, r := range tpl.Resources("AWS::IAM::Role") {
		if managed := cdktest.Props(r)["ManagedPolicyArns"]; strings.Contains(id, "TaskRole") && managed != nil && !onlyLinkTokenPolicy(t, managed) {
			t.Errorf("task role %s has managed policies besides the link token policy: %v", id, managed)
		}
	}
}

// onlyLinkTokenPolicy reports whether a role's managed policies are the
// Secrets stack's link token policy alone.
func onlyLinkTokenPolicy(t *testing.T, managed any) bool {
	list, ok := managed.([]any)
	return ok && len(list) == 1 && strings.Contains(cdktest.JSON(t, list[0]), "SecretsLinkTokenPolicy")
}

func TestOnlyTheBotAndTheWebFrontKeepLinkedAccounts(t *testing.T) {
	// GIVEN the default deployment, WHEN synthesized
	d := deployment(t)
	// THEN exactly two roles carry the link token policy: the task role and
	// the web front's function role
	var holders []string
	for _, s := range []*struct {
		name string
		tpl  *cdktest.Template
	}{{"Network", cdktest.FromStack(t, d.Network)}, {"Data", cdktest.FromStack(t, d.Data)}, {"Secrets", cdktest.FromStack(t, d.Secrets)},
		{"Service", cdktest.FromStack(t, d.Service)}, {"Monitoring", cdktest.FromStack(t, d.Monitoring)}} {
		for id, r := range s.tpl.Resources("AWS::IAM::Role") {
			if doc := cdktest.JSON(t, r); strings.Contains(doc, "LinkTokenPolicy") {
				if !onlyLinkTokenPolicy(t, cdktest.Props(r)["ManagedPolicyArns"]) {
					t.Errorf("%s/%s has other managed policies: %s", s.name, id, doc)
				}
				holders = append(holders, s.name+"/"+id)
			}
		}
		// AND no other policy names the link prefix
		for typ, want := range map[string]int{"AWS::IAM::Policy": 0, "AWS::IAM::ManagedPolicy": 1} {
			n := 0
			for _, p := range s.tpl.Resources(typ) {
				if strings.Contains(cdktest.JSON(t, p), "/links/") {
					n++
				}
			}
			if s.name != "Secrets" {
				want = 0
			}
			if n != want {
				t.Errorf("%s: %d %s resources name the link prefix, want %d", s.name, n, typ, want)
			}
		}
	}
	slices.Sort(holders)
	if len(holders) != 2 || !strings.HasPrefix(holders[0], "Service/BotTaskTaskRole") || !strings.HasPrefix(holders[1], "Service/WebRole") {
		t.Errorf("roles with the link token policy = %q, want the bot's task role and the web front's role", holders)
	}
}

func TestEveryVariableTheServiceSetsIsReadByTheBot(t *testing.T) {
	// GIVEN the names the bot's configuration reads
	read := configVariables(t, "../../app/cmd/timmybot/config.go", "DISCORD_TOKEN")
	// WHEN the service's container is synthesized
	tpl := cdktest.FromStack(t, deployment(t).Service)
	task := cdktest.Props(tpl.Only(t, "AWS::ECS::TaskDefinition"))
	container := task["ContainerDefinitions"].([]any)[0].(map[string]any)
	// THEN every environment variable and every injected secret is one the
	// bot reads: nothing is injected for code that does not exist yet
	for _, key := range []string{"Environment", "Secrets"} {
		list, _ := container[key].([]any)
		for _, e := range list {
			name := e.(map[string]any)["Name"].(string)
			if !read[name] {
				t.Errorf("%s %s is set by the service but never read by app/cmd/timmybot/config.go", key, name)
			}
		}
	}
}

func TestEveryVariableTheWebFrontSetsIsReadByTheFunction(t *testing.T) {
	// GIVEN the names the web front's function reads
	read := configVariables(t, "../../app/cmd/timmybot-web/function.go", "DISCORD_TOKEN_ARN")
	// WHEN its function is synthesized
	fn := cdktest.Props(cdktest.FromStack(t, deployment(t).Service).Only(t, "AWS::Lambda::Function"))
	// THEN every variable it is given is one it reads
	for name := range fn["Environment"].(map[string]any)["Variables"].(map[string]any) {
		if !read[name] {
			t.Errorf("%s is set on the web front's function but never read by app/cmd/timmybot-web", name)
		}
	}
}

// configVariables returns the string literals of the Go file at path that
// look like environment variable names (a command reads its environment in
// that file alone); must is one of them, or the scan is broken.
func configVariables(t *testing.T, path, must string) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		if v, err := strconv.Unquote(lit.Value); err == nil && v != "" && strings.ToUpper(v) == v && !strings.ContainsAny(v, " .,:/") {
			names[v] = true
		}
		return true
	})
	if !names[must] {
		t.Fatalf("%s does not mention %s: the scan is broken", path, must)
	}
	return names
}
