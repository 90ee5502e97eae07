package stacks_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/constructs/cdktest"
	"github.com/iddv/timmybot/infra/cost"
	"github.com/iddv/timmybot/infra/stacks"
)

func noContext(string) any { return nil }

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	defaults := stacks.Config{
		Region: "eu-central-1", AvailabilityZones: []string{"eu-central-1a", "eu-central-1b"},
		Environment: "prod", DesiredCount: 1, Spot: true, LogRetention: "ONE_MONTH", ImageDirectory: ".", SourceDirectory: ".",
	}
	tests := []struct {
		name    string
		context map[string]any
		env     map[string]string
		want    func(c *stacks.Config)
	}{
		{name: "defaults", want: func(*stacks.Config) {}},
		{
			name: "environment variables",
			env: map[string]string{
				"TIMMYBOT_REGION": "eu-west-1", "TIMMYBOT_ENVIRONMENT": "dev", "TIMMYBOT_SPOT": "false",
				"TIMMYBOT_LOG_RETENTION_DAYS": "7", "TIMMYBOT_IMAGE_URI": "example.com/bot:1", "CDK_DEFAULT_ACCOUNT": "111111111111",
			},
			want: func(c *stacks.Config) {
				c.Region, c.AvailabilityZones = "eu-west-1", []string{"eu-west-1a", "eu-west-1b"}
				c.Environment, c.Spot, c.LogRetention, c.ImageURI, c.Account = "dev", false, "ONE_WEEK", "example.com/bot:1", "111111111111"
			},
		},
		{
			name: "context wins over environment",
			context: map[string]any{
				"account": "222222222222", "environment": "staging", "desiredCount": float64(0), "spot": false,
				"alertEmail": "ops@example.com", "availabilityZones": "ap-northeast-1a, ap-northeast-1c", "region": "ap-northeast-1",
				"githubRepository": "acme/bot", "ownerIds": "123456789012345678,223456789012345678",
				"applicationId": "323456789012345678",
			},
			env: map[string]string{"TIMMYBOT_ACCOUNT": "111111111111", "TIMMYBOT_ENVIRONMENT": "dev", "TIMMYBOT_DESIRED_COUNT": "1"},
			want: func(c *stacks.Config) {
				c.Account, c.Environment, c.DesiredCount, c.Spot, c.AlertEmail = "222222222222", "staging", 0, false, "ops@example.com"
				c.Region, c.AvailabilityZones, c.GitHubRepository = "ap-northeast-1", []string{"ap-northeast-1a", "ap-northeast-1c"}, "acme/bot"
				c.OwnerIDs, c.ApplicationID = "123456789012345678,223456789012345678", "323456789012345678"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := func(k string) any {
				if v, ok := tt.context[k]; ok {
					return v
				}
				return nil
			}
			got, err := stacks.LoadConfig(ctx, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			want := defaults
			want.AvailabilityZones = slices.Clone(defaults.AvailabilityZones)
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigRejects(t *testing.T) {
	tests := []struct {
		env      map[string]string
		wantText string
	}{
		{map[string]string{"TIMMYBOT_ACCOUNT": "12345"}, "TIMMYBOT_ACCOUNT"},
		{map[string]string{"TIMMYBOT_ENVIRONMENT": "Prod!"}, "TIMMYBOT_ENVIRONMENT"},
		{map[string]string{"TIMMYBOT_DESIRED_COUNT": "2"}, "must be 0 or 1"},
		{map[string]string{"TIMMYBOT_SPOT": "maybe"}, "TIMMYBOT_SPOT"},
		{map[string]string{"TIMMYBOT_LOG_RETENTION_DAYS": "10"}, "must be one of [1 3 5 7 14 30"},
		{map[string]string{"TIMMYBOT_ALERT_EMAIL": "nobody"}, "TIMMYBOT_ALERT_EMAIL"},
		{map[string]string{"TIMMYBOT_GITHUB_REPOSITORY": "just-a-name"}, "owner/name"},
		{map[string]string{"TIMMYBOT_OWNER_IDS": "123456789012345678;1"}, "TIMMYBOT_OWNER_IDS"},
		{map[string]string{"DISCORD_APPLICATION_ID": "123456789012345678,223456789012345678"}, "DISCORD_APPLICATION_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.wantText, func(t *testing.T) {
			_, err := stacks.LoadConfig(noContext, envOf(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.wantText)
			}
		})
	}
}

// apps are synthesized once per test binary: one Node process, two apps.
var (
	appsOnce        sync.Once
	prodApp, devApp *stacks.Stacks
	prodCfg, devCfg stacks.Config
)

func deployments(t *testing.T) (prod, dev *stacks.Stacks) {
	t.Helper()
	cdktest.Check(t, func() {
		appsOnce.Do(func() {
			var err error
			// The default deployment, except that the image is built from a
			// tiny test Dockerfile rather than the repository.
			prodCfg, err = stacks.LoadConfig(noContext, envOf(map[string]string{"TIMMYBOT_ACCOUNT": "123456789012"}))
			if err != nil {
				panic(err)
			}
			prodCfg.ImageDirectory = "testdata/image"
			prodCfg.SourceDirectory = "../.."
			prodApp = stacks.New(awscdk.NewApp(nil), prodCfg)

			devCfg, err = stacks.LoadConfig(noContext, envOf(map[string]string{
				"TIMMYBOT_ACCOUNT": "123456789012", "TIMMYBOT_ENVIRONMENT": "dev", "TIMMYBOT_SPOT": "false",
				"TIMMYBOT_IMAGE_URI": "example.com/timmybot:1", "TIMMYBOT_GITHUB_REPOSITORY": "acme/timmybot",
				"TIMMYBOT_ALERT_EMAIL": "ops@example.com", "TIMMYBOT_OWNER_IDS": "123456789012345678",
			}))
			if err != nil {
				panic(err)
			}
			devCfg.SourceDirectory = "../.."
			devApp = stacks.New(awscdk.NewApp(nil), devCfg)
		})
	})
	if prodApp == nil || devApp == nil {
		t.Fatal("apps failed to build")
	}
	return prodApp, devApp
}

func all(s *stacks.Stacks) []awscdk.Stack {
	return []awscdk.Stack{s.Network, s.Data, s.Secrets, s.Service, s.Monitoring}
}

func TestExactlyFiveStacksWithExplicitDependencies(t *testing.T) {
	// GIVEN the default configuration, WHEN the app is built
	prod, _ := deployments(t)
	app := prod.Network.Node().Root()

	// THEN it holds exactly the five stacks
	var names []string
	for _, c := range *app.Node().Children() {
		if s, ok := c.(awscdk.Stack); ok && *awscdk.Stack_IsStack(s) {
			names = append(names, *s.StackName())
		}
	}
	want := []string{"TimmyBot-prod-Data", "TimmyBot-prod-Monitoring", "TimmyBot-prod-Network", "TimmyBot-prod-Secrets", "TimmyBot-prod-Service"}
	if diff := cmp.Diff(want, slices.Sorted(slices.Values(names))); diff != "" {
		t.Errorf("stacks (-want +got):\n%s", diff)
	}

	// AND the stacks reference each other explicitly: Service imports from
	// Network, Data and Secrets, Monitoring from Service
	got := map[string][]string{}
	for _, s := range all(prod) {
		got[*s.StackName()] = importedStacks(t, s)
	}
	wantImports := map[string][]string{
		"TimmyBot-prod-Network":    nil,
		"TimmyBot-prod-Data":       nil,
		"TimmyBot-prod-Secrets":    nil,
		"TimmyBot-prod-Service":    {"TimmyBot-prod-Data", "TimmyBot-prod-Network", "TimmyBot-prod-Secrets"},
		"TimmyBot-prod-Monitoring": {"TimmyBot-prod-Service"},
	}
	if diff := cmp.Diff(wantImports, got); diff != "" {
		t.Errorf("imports (-want +got):\n%s", diff)
	}
}

// importedStacks lists the stacks whose exports a stack's template imports.
func importedStacks(t *testing.T, s awscdk.Stack) []string {
	t.Helper()
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if name, ok := x["Fn::ImportValue"].(string); ok {
				stack, _, _ := strings.Cut(name, ":")
				seen[stack] = true
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(cdktest.FromStack(t, s).JSON)
	if len(seen) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(seen))
}

func TestAvailabilityZonesArePinned(t *testing.T) {
	prod, _ := deployments(t)
	tpl := cdktest.FromStack(t, prod.Network)
	var azs []string
	for _, s := range tpl.Resources("AWS::EC2::Subnet") {
		azs = append(azs, cdktest.Props(s)["AvailabilityZone"].(string))
	}
	if diff := cmp.Diff([]string{"eu-central-1a", "eu-central-1b"}, slices.Sorted(slices.Values(azs))); diff != "" {
		t.Errorf("subnet zones (-want +got):\n%s", diff)
	}
	tpl.Count(t, "AWS::EC2::NatGateway", 0)
}

func TestServiceGetsTheBotsNames(t *testing.T) {
	prod, _ := deployments(t)
	tpl := cdktest.FromStack(t, prod.Service)
	task := cdktest.Props(tpl.Only(t, "AWS::ECS::TaskDefinition"))
	container := task["ContainerDefinitions"].([]any)[0].(map[string]any)
	names := func(key string) []string {
		var out []string
		for _, e := range container[key].([]any) {
			out = append(out, e.(map[string]any)["Name"].(string))
		}
		return slices.Sorted(slices.Values(out))
	}
	// THEN every table reaches the bot by its variable, plus plain settings
	wantEnv := []string{
		stacks.EnvHTTPAddr, stacks.EnvLogFormat, "TIMMYBOT_TABLE_ALLOWLIST", "TIMMYBOT_TABLE_PREFERENCES",
		"TIMMYBOT_TABLE_QUEUES", "TIMMYBOT_TABLE_TRACK_CACHE",
		stacks.EnvPublicURL, stacks.EnvLinkSecretPrefix, stacks.EnvLinkKMSKeyID,
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(wantEnv)), names("Environment")); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
	// AND every credential is an ECS secret
	wantSecrets := []string{"DISCORD_TOKEN", stacks.EnvLinkClients}
	if diff := cmp.Diff(wantSecrets, names("Secrets")); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
	// AND /link's redirect goes to the web front's Function URL, and linked
	// accounts are secrets under the environment's link prefix
	env := map[string]string{}
	for _, e := range container["Environment"].([]any) {
		m := e.(map[string]any)
		env[m["Name"].(string)] = cdktest.JSON(t, m["Value"])
	}
	if got := env[stacks.EnvPublicURL]; !strings.Contains(got, `"Fn::GetAtt":["WebFunctionFunctionUrl`) || !strings.Contains(got, `"FunctionUrl"]`) {
		t.Errorf("%s = %s, want the web front's Function URL", stacks.EnvPublicURL, got)
	}
	if got := env[stacks.EnvLinkSecretPrefix]; got != `"timmybot/prod/links"` {
		t.Errorf("%s = %s", stacks.EnvLinkSecretPrefix, got)
	}
	if got := env[stacks.EnvLinkKMSKeyID]; !strings.Contains(got, "SecretsKey") {
		t.Errorf("%s = %s, want the Secrets stack's key", stacks.EnvLinkKMSKeyID, got)
	}
	// AND the image is built from the Dockerfile as a CDK asset
	if img, _ := json.Marshal(container["Image"]); !strings.Contains(string(img), "container-assets") {
		t.Errorf("image = %s, want the asset repository", img)
	}
	if hc, _ := json.Marshal(container["HealthCheck"]); !strings.Contains(string(hc), "http://127.0.0.1:8080/healthz") {
		t.Errorf("health check = %s", hc)
	}
}

func TestEnvironmentSettings(t *testing.T) {
	prod, dev := deployments(t)
	tests := []struct {
		name                string
		s                   *stacks.Stacks
		wantDeletion        string
		wantCapacity        string
		wantRole, wantEmail int
		wantOwners          bool
	}{
		{"prod keeps data, runs on Spot", prod, "Retain", "FARGATE_SPOT", 0, 0, false},
		{"dev drops data, on demand, deploy role, e-mail, owners", dev, "Delete", "FARGATE", 1, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for id, table := range cdktest.FromStack(t, tt.s.Data).Resources("AWS::DynamoDB::Table") {
				if table["DeletionPolicy"] != tt.wantDeletion {
					t.Errorf("table %s DeletionPolicy = %v, want %s", id, table["DeletionPolicy"], tt.wantDeletion)
				}
			}
			service := cdktest.FromStack(t, tt.s.Service)
			task, _ := json.Marshal(cdktest.Props(service.Only(t, "AWS::ECS::TaskDefinition")))
			if got := strings.Contains(string(task), `"Name":"TIMMYBOT_OWNER_IDS","Value":"123456789012345678"`); got != tt.wantOwners {
				t.Errorf("owner IDs in the environment = %v, want %v", got, tt.wantOwners)
			}
			svc := cdktest.Props(service.Only(t, "AWS::ECS::Service"))
			if got, _ := json.Marshal(svc["CapacityProviderStrategy"]); !strings.Contains(string(got), `"`+tt.wantCapacity+`"`) {
				t.Errorf("capacity = %s, want %s", got, tt.wantCapacity)
			}
			secrets := cdktest.FromStack(t, tt.s.Secrets)
			for _, typ := range []string{"AWS::KMS::Key", "AWS::SecretsManager::Secret"} {
				for id, r := range secrets.Resources(typ) {
					if r["DeletionPolicy"] != tt.wantDeletion {
						t.Errorf("%s DeletionPolicy = %v, want %s", id, r["DeletionPolicy"], tt.wantDeletion)
					}
				}
			}
			secrets.Count(t, "AWS::IAM::OIDCProvider", tt.wantRole)
			cdktest.FromStack(t, tt.s.Monitoring).Count(t, "AWS::SNS::Subscription", tt.wantEmail)
		})
	}
}

func TestNoUnsuppressedNagErrors(t *testing.T) {
	prod, dev := deployments(t)
	for _, s := range append(all(prod), all(dev)...) {
		t.Run(*s.StackName(), func(t *testing.T) {
			if errs := cdktest.NagErrors(t, s); len(errs) > 0 {
				t.Errorf("unsuppressed cdk-nag errors:\n%s", strings.Join(errs, "\n"))
			}
		})
	}
}

func TestDefaultDeploymentCostsUnderTwelveDollarsAtIdle(t *testing.T) {
	// GIVEN the default deployment's templates and the committed prices
	prod, _ := deployments(t)
	prices, err := cost.DefaultPrices()
	if err != nil {
		t.Fatal(err)
	}
	var templates []cost.Template
	for _, s := range all(prod) {
		raw, err := json.Marshal(cdktest.FromStack(t, s).JSON)
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := cost.ParseTemplate(*s.StackName(), raw)
		if err != nil {
			t.Fatal(err)
		}
		templates = append(templates, tpl)
	}
	// WHEN they are priced
	r := cost.Estimate(templates, prices)
	var out strings.Builder
	if err := r.Write(&out); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	// THEN the idle deployment stays under USD 12 a month with CloudWatch's
	// always-free tier (about 11.80 once the key has rotated twice: the task
	// and its address are two thirds of it, the web front's function 0 and
	// the four secrets 1.60; linked accounts add 0.40 each), and nothing was
	// left unpriced
	if r.IdleAfterFreeTier >= 12 {
		t.Errorf("idle cost after free tier = %.2f, want < 12", r.IdleAfterFreeTier)
	}
	if len(r.Warnings) > 0 {
		t.Errorf("unpriced resources: %v", r.Warnings)
	}
	// AND a NAT gateway or a load balancer, which would dominate, is absent
	for _, l := range r.Lines {
		if l.Item == "NAT gateway" || l.Item == "load balancer" {
			t.Errorf("default deployment has a %s", l.Item)
		}
	}
}

func TestNagChecksEveryStack(t *testing.T) {
	// GIVEN the app with a topic that allows plain-HTTP publishers added to
	// each of the five stacks
	deployments(t) // loads prodCfg
	var s *stacks.Stacks
	cdktest.Check(t, func() {
		cfg := prodCfg
		cfg.ImageURI = "example.com/timmybot:1"
		s = stacks.New(awscdk.NewApp(nil), cfg)
		for _, st := range all(s) {
			awssns.NewTopic(st, jsii.String("Insecure"), nil)
		}
	})
	for _, st := range all(s) {
		t.Run(*st.StackName(), func(t *testing.T) {
			// WHEN it is synthesized
			errs := cdktest.NagErrors(t, st)
			// THEN cdk-nag reports the topic as an error in that stack
			if !slices.ContainsFunc(errs, func(e string) bool {
				return strings.Contains(e, "Insecure") && strings.Contains(e, "AwsSolutions-SNS3")
			}) {
				t.Errorf("no AwsSolutions-SNS3 error for the insecure topic; errors:\n%s", strings.Join(errs, "\n"))
			}
		})
	}
}

func TestWebFrontInTheServiceStack(t *testing.T) {
	// GIVEN the dev deployment (owners set), WHEN synthesized
	_, dev := deployments(t)
	tpl := cdktest.FromStack(t, dev.Service)

	// THEN the Service stack holds the one function, arm64, capped at 5,
	// outside the VPC, logging for the configured 30 days, its Function URL
	// a stack output
	fn := cdktest.Props(tpl.Only(t, "AWS::Lambda::Function"))
	if fn["Runtime"] != "provided.al2023" || cdktest.JSON(t, fn["Architectures"]) != `["arm64"]` || fn["ReservedConcurrentExecutions"] != 5.0 || fn["VpcConfig"] != nil {
		t.Errorf("function = %v", fn)
	}
	tpl.Has(t, "AWS::Lambda::Url", map[string]any{"AuthType": "NONE"})
	logs := map[string]bool{}
	for id, r := range tpl.Resources("AWS::Logs::LogGroup") {
		logs[id] = cdktest.Props(r)["RetentionInDays"] == 30.0
	}
	if len(logs) != 2 || slices.Contains(slices.Collect(maps.Values(logs)), false) {
		t.Errorf("log groups (bot and web front) with 30 days' retention: %v", logs)
	}
	if out, ok := tpl.JSON["Outputs"].(map[string]any)["WebFrontURL"]; !ok || !strings.Contains(cdktest.JSON(t, out), "FunctionUrl") {
		t.Errorf("no WebFrontURL output: %v", tpl.JSON["Outputs"])
	}
	// AND its environment names the allowlist table and the ARNs of the
	// three secrets it reads, besides the owners
	var env []string
	for k := range fn["Environment"].(map[string]any)["Variables"].(map[string]any) {
		env = append(env, k)
	}
	wantEnv := []string{stacks.EnvClientSecretARN, stacks.EnvDiscordTokenARN, stacks.EnvOwnerIDs, "TIMMYBOT_TABLE_ALLOWLIST", stacks.EnvWebSecretARN,
		stacks.EnvLinkClientsARN, stacks.EnvLinkSecretPrefix, stacks.EnvLinkKMSKeyID, stacks.EnvLinkFlowsTable, stacks.EnvLinkRecordsTable}
	if diff := cmp.Diff(slices.Sorted(slices.Values(wantEnv)), slices.Sorted(slices.Values(env))); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
	// AND its role reaches only the allowlist table and those secrets
	var policy string
	for _, p := range tpl.Resources("AWS::IAM::Policy") {
		if doc := cdktest.JSON(t, p); strings.Contains(doc, "WriteOwnLogs") {
			policy = doc
		}
	}
	for _, want := range []string{"Tablesallowlist", "SecretsClientSecret", "SecretsWebSecret", "SecretsDiscordToken", "SecretsLinkClients", `"kms:ViaService"`} {
		if !strings.Contains(policy, want) {
			t.Errorf("web front policy lacks %s:\n%s", want, policy)
		}
	}
	for _, unwanted := range []string{"Tablesqueues", "Tablestrackcache", `"Resource":"*"`, "DescribeSecret"} {
		if strings.Contains(policy, unwanted) {
			t.Errorf("web front policy has %s:\n%s", unwanted, policy)
		}
	}
	// AND of the preferences table it may only take link flows and keep
	// linked accounts' records
	var prefs []string
	for _, s := range cdktest.Props(tpl.Resources("AWS::IAM::Policy")[policyID(t, tpl, "WriteOwnLogs")])["PolicyDocument"].(map[string]any)["Statement"].([]any) {
		if stmt := cdktest.JSON(t, s); strings.Contains(stmt, "Tablespreferences") {
			prefs = append(prefs, stmt)
		}
	}
	flows := `"Action":["dynamodb:GetItem","dynamodb:PutItem"],"Condition":{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["flow#*"]}}`
	records := `"Action":["dynamodb:DeleteItem","dynamodb:GetItem","dynamodb:PutItem"],"Condition":{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["link#*"]}}`
	has := func(want string) bool {
		return slices.ContainsFunc(prefs, func(p string) bool { return strings.Contains(p, want) })
	}
	if len(prefs) != 2 || !has(flows) || !has(records) {
		t.Errorf("web front statements on the preferences table = %q, want one reading and claiming flow# items and one keeping link# items, nothing else", prefs)
	}
}

// policyID returns the logical ID of the inline policy holding the
// statement with sid.
func policyID(t *testing.T, tpl *cdktest.Template, sid string) string {
	t.Helper()
	for id, p := range tpl.Resources("AWS::IAM::Policy") {
		if strings.Contains(cdktest.JSON(t, p), `"Sid":"`+sid+`"`) {
			return id
		}
	}
	t.Fatalf("no policy with statement %s", sid)
	return ""
}
