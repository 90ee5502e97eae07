package timmybot_test

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/constructs/cdktest"
	"github.com/iddv/timmybot/constructs/timmybot"
)

// fixture is one app holding every construct under test, each in its own
// stack, so that the test binary synthesizes (and starts Node) only once.
type fixture struct {
	network, data, dataDev, secrets, service, onDemand, monitoring, quiet, deploy, deployExisting awscdk.Stack
}

var (
	fixtureOnce sync.Once
	theFixture  *fixture
)

var testTables = []timmybot.TableSpec{
	{ID: "queues", PartitionKey: timmybot.Key{Name: "guild", Type: "S"}, SortKey: &timmybot.Key{Name: "sk", Type: "S"}},
	{ID: "cache", PartitionKey: timmybot.Key{Name: "key", Type: "S"}, TTLAttribute: "ttl",
		Indexes: []timmybot.IndexSpec{{Name: "byUser", PartitionKey: timmybot.Key{Name: "user", Type: "S"}, SortKey: &timmybot.Key{Name: "at", Type: "N"}}}},
}

var testMetrics = timmybot.MetricNames{
	Namespace: "Bot", InteractionsHandled: "Handled", InteractionErrors: "Errors",
	InteractionLatency: "LatencyMs", GatewayConnected: "Gateway", ActiveVoiceConnections: "Voice",
}

func getFixture(t *testing.T) *fixture {
	t.Helper()
	cdktest.Check(t, func() {
		fixtureOnce.Do(func() { theFixture = newFixture() })
	})
	if theFixture == nil {
		t.Fatal("fixture failed to build")
	}
	return theFixture
}

func newFixture() *fixture {
	app := awscdk.NewApp(nil)
	env := &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-central-1")}
	app.Node().SetContext(jsii.String("availability-zones:account=123456789012:region=eu-central-1"),
		jsii.Strings("eu-central-1a", "eu-central-1b", "eu-central-1c"))
	stack := func(id string) awscdk.Stack {
		return awscdk.NewStack(app, jsii.String(id), &awscdk.StackProps{Env: env})
	}
	f := &fixture{
		network: stack("Network"), data: stack("Data"), dataDev: stack("DataDev"), secrets: stack("Secrets"),
		service: stack("Service"), onDemand: stack("OnDemand"), monitoring: stack("Monitoring"), quiet: stack("Quiet"),
		deploy: stack("Deploy"), deployExisting: stack("DeployExisting"),
	}
	network := timmybot.NewNetwork(f.network, "Network", nil)
	data := timmybot.NewDataTables(f.data, "Tables", &timmybot.DataTablesProps{Tables: testTables})
	timmybot.NewDataTables(f.dataDev, "Tables", &timmybot.DataTablesProps{Tables: testTables, Retain: jsii.Bool(false)})
	secrets := timmybot.NewBotSecrets(f.secrets, "Secrets", nil)
	serviceProps := func() *timmybot.BotServiceProps {
		return &timmybot.BotServiceProps{
			Vpc:           network.Vpc,
			SecurityGroup: network.ServiceSecurityGroup,
			Image:         awsecs.ContainerImage_FromRegistry(jsii.String("example.com/bot:1"), nil),
			Tables:        map[string]awsdynamodb.ITable{"QUEUES_TABLE": data.Tables["queues"]},
			Secrets: map[string]timmybot.SecretField{
				"DISCORD_TOKEN":         {Secret: secrets.DiscordToken},
				"SPOTIFY_CLIENT_SECRET": {Secret: secrets.OAuthClients, Field: "spotify"},
			},
			ExecutionPolicies: []awsiam.IManagedPolicy{secrets.ReadPolicy},
			TaskPolicies:      []awsiam.IManagedPolicy{secrets.UserTokenPolicy},
			Environment:       map[string]string{"LOG_FORMAT": "json"},
		}
	}
	service := timmybot.NewBotService(f.service, "Bot", serviceProps())
	onDemand := serviceProps()
	onDemand.Spot = jsii.Bool(false)
	onDemand.DesiredCount = jsii.Number(0)
	timmybot.NewBotService(f.onDemand, "Bot", onDemand)
	timmybot.NewMonitoring(f.monitoring, "Monitoring", &timmybot.MonitoringProps{
		Service: service.Service, Metrics: testMetrics, AlarmEmail: jsii.String("ops@example.com"),
	})
	timmybot.NewMonitoring(f.quiet, "Monitoring", &timmybot.MonitoringProps{Service: service.Service, Metrics: testMetrics})
	timmybot.NewGitHubDeployRole(f.deploy, "GitHub", &timmybot.GitHubDeployRoleProps{Repository: "acme/bot"})
	timmybot.NewGitHubDeployRole(f.deployExisting, "GitHub", &timmybot.GitHubDeployRoleProps{
		Repository:  "acme/bot",
		Environment: jsii.String("staging"),
		ProviderArn: jsii.String("arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"),
	})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	return f
}

// jsonOf renders a template fragment for substring checks on values that
// contain CloudFormation intrinsics.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func obj(m map[string]any) *map[string]any { return &m }

func TestNetwork(t *testing.T) {
	// GIVEN a Network with default props
	f := getFixture(t)
	// WHEN it is synthesized
	tpl := cdktest.FromStack(t, f.network)

	// THEN it has public subnets only, no NAT gateway and no load balancer
	tpl.Count(t, "AWS::EC2::NatGateway", 0)
	tpl.Count(t, "AWS::ElasticLoadBalancingV2::LoadBalancer", 0)
	tpl.Count(t, "AWS::ElasticLoadBalancing::LoadBalancer", 0)
	subnets := tpl.Resources("AWS::EC2::Subnet")
	if len(subnets) != 2 {
		t.Errorf("want 2 subnets (MaxAzs default), got %d", len(subnets))
	}
	for id, s := range subnets {
		if cdktest.Props(s)["MapPublicIpOnLaunch"] != true {
			t.Errorf("subnet %s is not public", id)
		}
	}
	// AND a gateway endpoint for DynamoDB
	ep := cdktest.Props(tpl.Only(t, "AWS::EC2::VPCEndpoint"))
	if ep["VpcEndpointType"] != "Gateway" || !strings.Contains(jsonOf(t, ep["ServiceName"]), "dynamodb") {
		t.Errorf("endpoint = %s, want a DynamoDB gateway endpoint", jsonOf(t, ep))
	}
	// AND a security group without inbound rules
	tpl.Count(t, "AWS::EC2::SecurityGroupIngress", 0)
	sg := cdktest.Props(tpl.Only(t, "AWS::EC2::SecurityGroup"))
	if in, ok := sg["SecurityGroupIngress"]; ok {
		t.Errorf("security group has inbound rules: %s", jsonOf(t, in))
	}
	// AND a flow log of rejected traffic into a log group with retention
	tpl.Has(t, "AWS::EC2::FlowLog", obj(map[string]any{"TrafficType": "REJECT"}))
	tpl.Has(t, "AWS::Logs::LogGroup", obj(map[string]any{"RetentionInDays": 30}))
}

func TestDataTables(t *testing.T) {
	f := getFixture(t)
	tests := []struct {
		name       string
		stack      awscdk.Stack
		wantPolicy string
		wantProt   bool
	}{
		{"retained by default", f.data, "Retain", true},
		{"dev drops tables", f.dataDev, "Delete", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN two table specs, WHEN synthesized
			tpl := cdktest.FromStack(t, tt.stack)
			// THEN there are two on-demand tables with point-in-time recovery
			tables := tpl.Resources("AWS::DynamoDB::Table")
			if len(tables) != 2 {
				t.Fatalf("want 2 tables, got %d", len(tables))
			}
			for id, r := range tables {
				p := cdktest.Props(r)
				got := map[string]any{
					"billing":    p["BillingMode"],
					"pitr":       jsonOf(t, p["PointInTimeRecoverySpecification"]),
					"protection": p["DeletionProtectionEnabled"],
					"deletion":   r["DeletionPolicy"],
				}
				want := map[string]any{
					"billing":    "PAY_PER_REQUEST",
					"pitr":       `{"PointInTimeRecoveryEnabled":true}`,
					"protection": tt.wantProt,
					"deletion":   tt.wantPolicy,
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("table %s (-want +got):\n%s", id, diff)
				}
			}
			// AND the key schemas, index and TTL follow the specs
			tpl.Has(t, "AWS::DynamoDB::Table", obj(map[string]any{
				"KeySchema": []any{
					map[string]any{"AttributeName": "guild", "KeyType": "HASH"},
					map[string]any{"AttributeName": "sk", "KeyType": "RANGE"},
				},
			}))
			tpl.Has(t, "AWS::DynamoDB::Table", obj(map[string]any{
				"KeySchema":               []any{map[string]any{"AttributeName": "key", "KeyType": "HASH"}},
				"TimeToLiveSpecification": map[string]any{"AttributeName": "ttl", "Enabled": true},
				"GlobalSecondaryIndexes": []any{map[string]any{
					"IndexName": "byUser",
					"KeySchema": []any{
						map[string]any{"AttributeName": "user", "KeyType": "HASH"},
						map[string]any{"AttributeName": "at", "KeyType": "RANGE"},
					},
					"Projection": map[string]any{"ProjectionType": "ALL"},
				}},
			}))
		})
	}
}

func TestDataTablesRejectsBadSpecs(t *testing.T) {
	tests := []struct {
		name  string
		props *timmybot.DataTablesProps
	}{
		{"no tables", &timmybot.DataTablesProps{}},
		{"unknown key type", &timmybot.DataTablesProps{Tables: []timmybot.TableSpec{{ID: "x", PartitionKey: timmybot.Key{Name: "k", Type: "Q"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("NewDataTables accepted an invalid spec")
				}
			}()
			app := awscdk.NewApp(nil)
			timmybot.NewDataTables(awscdk.NewStack(app, jsii.String("S"), nil), "T", tt.props)
		})
	}
}

func TestBotSecrets(t *testing.T) {
	// GIVEN BotSecrets with default props, WHEN synthesized
	tpl := cdktest.FromStack(t, getFixture(t).secrets)

	// THEN a rotating customer key encrypts both secrets
	keyID := func() string {
		for id := range tpl.Resources("AWS::KMS::Key") {
			return id
		}
		return ""
	}()
	tpl.Has(t, "AWS::KMS::Key", obj(map[string]any{"EnableKeyRotation": true}))
	secrets := tpl.Resources("AWS::SecretsManager::Secret")
	var names []string
	for id, s := range secrets {
		p := cdktest.Props(s)
		names = append(names, p["Name"].(string))
		if got, want := jsonOf(t, p["KmsKeyId"]), `"`+keyID+`"`; !strings.Contains(got, want) {
			t.Errorf("secret %s KmsKeyId = %s, want a reference to %s", id, got, keyID)
		}
	}
	if diff := cmp.Diff([]string{"timmybot/discord-token", "timmybot/oauth-clients"}, slices.Sorted(slices.Values(names))); diff != "" {
		t.Errorf("secret names (-want +got):\n%s", diff)
	}
	// AND the OAuth secret starts with one empty field per default provider,
	// generated so that stack updates never overwrite the operator's values
	tpl.Has(t, "AWS::SecretsManager::Secret", obj(map[string]any{
		"Name": "timmybot/oauth-clients",
		"GenerateSecretString": map[string]any{
			"SecretStringTemplate": `{"google":"","soundcloud":"","spotify":""}`,
			"GenerateStringKey":    "unused",
		},
	}))
	for id, s := range secrets {
		if _, ok := cdktest.Props(s)["SecretString"]; ok {
			t.Errorf("secret %s has a literal value in the template", id)
		}
	}

	// AND the user-token policy is scoped to one name prefix
	policies := tpl.Resources("AWS::IAM::ManagedPolicy")
	var userPolicy string
	for _, p := range policies {
		doc := jsonOf(t, cdktest.Props(p)["PolicyDocument"])
		if strings.Contains(doc, "CreateSecret") {
			userPolicy = doc
		}
	}
	for _, want := range []string{
		`:secret:timmybot/user-tokens/*`,
		`"secretsmanager:KmsKeyArn"`,
		`"kms:ViaService"`,
	} {
		if !strings.Contains(userPolicy, want) {
			t.Errorf("user token policy lacks %s:\n%s", want, userPolicy)
		}
	}
	if strings.Contains(userPolicy, `"Resource":"*"`) {
		t.Errorf("user token policy grants on every resource:\n%s", userPolicy)
	}
}

func TestBotService(t *testing.T) {
	f := getFixture(t)
	tests := []struct {
		name         string
		stack        awscdk.Stack
		wantCapacity string
		wantDesired  float64
	}{
		{"defaults", f.service, "FARGATE_SPOT", 1},
		{"on demand, stopped", f.onDemand, "FARGATE", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a BotService, WHEN synthesized
			tpl := cdktest.FromStack(t, tt.stack)

			// THEN the service stops the old task before starting a new one,
			// rolls back failed deployments, and runs in public subnets
			svc := cdktest.Props(tpl.Only(t, "AWS::ECS::Service"))
			deployment := svc["DeploymentConfiguration"].(map[string]any)
			got := map[string]any{
				"deployment": map[string]any{
					"MinimumHealthyPercent":    deployment["MinimumHealthyPercent"],
					"MaximumPercent":           deployment["MaximumPercent"],
					"DeploymentCircuitBreaker": deployment["DeploymentCircuitBreaker"],
				},
				"capacity": jsonOf(t, svc["CapacityProviderStrategy"]),
				"desired":  svc["DesiredCount"],
				"publicIp": jsonOf(t, svc["NetworkConfiguration"].(map[string]any)["AwsvpcConfiguration"].(map[string]any)["AssignPublicIp"]),
			}
			want := map[string]any{
				"deployment": map[string]any{
					"MinimumHealthyPercent":    float64(0),
					"MaximumPercent":           float64(100),
					"DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": true},
				},
				"capacity": `[{"CapacityProvider":"` + tt.wantCapacity + `","Weight":1}]`,
				"desired":  tt.wantDesired,
				"publicIp": `"ENABLED"`,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("service (-want +got):\n%s", diff)
			}

			// AND the task is ARM64 with 0.25 vCPU and 0.5 GB
			task := cdktest.Props(tpl.Only(t, "AWS::ECS::TaskDefinition"))
			if got := []any{task["Cpu"], task["Memory"], jsonOf(t, task["RuntimePlatform"])}; !cmp.Equal(got, []any{"256", "512", `{"CpuArchitecture":"ARM64","OperatingSystemFamily":"LINUX"}`}) {
				t.Errorf("task cpu, memory, platform = %v", got)
			}
			container := task["ContainerDefinitions"].([]any)[0].(map[string]any)

			// AND credentials arrive as ECS secrets, never as plain environment
			var secretNames, envNames []string
			for _, s := range container["Secrets"].([]any) {
				secretNames = append(secretNames, s.(map[string]any)["Name"].(string))
			}
			for _, e := range container["Environment"].([]any) {
				envNames = append(envNames, e.(map[string]any)["Name"].(string))
			}
			if diff := cmp.Diff([]string{"DISCORD_TOKEN", "SPOTIFY_CLIENT_SECRET"}, slices.Sorted(slices.Values(secretNames))); diff != "" {
				t.Errorf("secrets (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"LOG_FORMAT", "QUEUES_TABLE"}, slices.Sorted(slices.Values(envNames))); diff != "" {
				t.Errorf("environment (-want +got):\n%s", diff)
			}
			if !strings.Contains(jsonOf(t, container["Secrets"]), `:spotify::`) {
				t.Errorf("the OAuth secret is not injected by field: %s", jsonOf(t, container["Secrets"]))
			}

			// AND the container checks /readyz and logs to a group with retention
			if hc := jsonOf(t, container["HealthCheck"]); !strings.Contains(hc, "/readyz") {
				t.Errorf("health check = %s, want /readyz", hc)
			}
			if drv := container["LogConfiguration"].(map[string]any)["LogDriver"]; drv != "awslogs" {
				t.Errorf("log driver = %v", drv)
			}
			tpl.Has(t, "AWS::Logs::LogGroup", obj(map[string]any{"RetentionInDays": 30}))

			// AND the task role may only use its table's items
			assertTaskRoleLeastPrivilege(t, tpl)
		})
	}
}

// assertTaskRoleLeastPrivilege checks the task role's inline statements:
// DynamoDB item actions on the granted table only, nothing else.
func assertTaskRoleLeastPrivilege(t *testing.T, tpl *cdktest.Template) {
	t.Helper()
	for id, p := range tpl.Resources("AWS::IAM::Policy") {
		if !strings.Contains(id, "TaskRoleDefaultPolicy") {
			continue
		}
		stmts := cdktest.Props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any)
		if len(stmts) != 1 {
			t.Fatalf("task role has %d statements, want 1 (the table grant): %s", len(stmts), jsonOf(t, stmts))
		}
		s := stmts[0].(map[string]any)
		var actions []string
		for _, a := range s["Action"].([]any) {
			actions = append(actions, a.(string))
		}
		want := []string{
			"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
			"dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem",
		}
		if diff := cmp.Diff(want, slices.Sorted(slices.Values(actions))); diff != "" {
			t.Errorf("task role actions (-want +got):\n%s", diff)
		}
		if res := jsonOf(t, s["Resource"]); strings.Contains(res, `"*"`) || !strings.Contains(res, "ImportValue") {
			t.Errorf("task role resources = %s, want only the imported table ARN", res)
		}
		return
	}
	t.Fatal("no task role policy")
}

func TestMonitoring(t *testing.T) {
	f := getFixture(t)
	tests := []struct {
		name      string
		stack     awscdk.Stack
		wantEmail int
	}{
		{"with alarm e-mail", f.monitoring, 1},
		{"without alarm e-mail", f.quiet, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN Monitoring for a service, WHEN synthesized
			tpl := cdktest.FromStack(t, tt.stack)

			// THEN the topic refuses publishers without TLS
			policy := jsonOf(t, cdktest.Props(tpl.Only(t, "AWS::SNS::TopicPolicy")))
			if !strings.Contains(policy, `"aws:SecureTransport":"false"`) || !strings.Contains(policy, `"Effect":"Deny"`) {
				t.Errorf("topic policy does not deny non-TLS publishing: %s", policy)
			}
			// AND the e-mail subscription exists only when asked for
			tpl.Count(t, "AWS::SNS::Subscription", tt.wantEmail)
			// AND five alarms notify the topic, including a missing gateway
			// metric (no task running) as breaching
			tpl.Count(t, "AWS::CloudWatch::Alarm", 5)
			tpl.Has(t, "AWS::CloudWatch::Alarm", obj(map[string]any{
				"Namespace": "Bot", "MetricName": "Gateway", "TreatMissingData": "breaching",
				"ComparisonOperator": "LessThanThreshold", "Threshold": 1,
			}))
			tpl.Has(t, "AWS::CloudWatch::Alarm", obj(map[string]any{"Namespace": "AWS/ECS", "MetricName": "CPUUtilization"}))
			tpl.Has(t, "AWS::CloudWatch::Alarm", obj(map[string]any{"Namespace": "AWS/ECS", "MetricName": "MemoryUtilization"}))
			tpl.Has(t, "AWS::CloudWatch::Alarm", obj(map[string]any{"Namespace": "Bot", "MetricName": "LatencyMs", "ExtendedStatistic": "p95"}))
			if rate := jsonOf(t, tpl.Resources("AWS::CloudWatch::Alarm")); !strings.Contains(rate, "100 * errors / handled") {
				t.Errorf("no error-rate alarm: %s", rate)
			}
			for id, a := range tpl.Resources("AWS::CloudWatch::Alarm") {
				if actions := cdktest.Props(a)["AlarmActions"]; actions == nil {
					t.Errorf("alarm %s notifies nobody", id)
				}
			}
			// AND a dashboard shows every metric of the bot
			body := jsonOf(t, cdktest.Props(tpl.Only(t, "AWS::CloudWatch::Dashboard"))["DashboardBody"])
			for _, m := range []string{"Handled", "Errors", "LatencyMs", "Gateway", "Voice"} {
				if !strings.Contains(body, `\"Bot\",\"`+m+`\"`) {
					t.Errorf("dashboard lacks metric %s", m)
				}
			}
		})
	}
}

func TestGitHubDeployRole(t *testing.T) {
	f := getFixture(t)
	tests := []struct {
		name         string
		stack        awscdk.Stack
		wantProvider int
		wantSubject  string
	}{
		{"new provider", f.deploy, 1, "repo:acme/bot:environment:production"},
		{"existing provider", f.deployExisting, 0, "repo:acme/bot:environment:staging"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a deploy role for a repository, WHEN synthesized
			tpl := cdktest.FromStack(t, tt.stack)
			// THEN only that repository's environment may assume it by OIDC
			tpl.Count(t, "AWS::IAM::OIDCProvider", tt.wantProvider)
			tpl.Has(t, "AWS::IAM::Role", obj(map[string]any{
				"AssumeRolePolicyDocument": map[string]any{"Statement": []any{assertions.Match_ObjectLike(&map[string]any{
					"Action": "sts:AssumeRoleWithWebIdentity",
					"Condition": map[string]any{"StringEquals": map[string]any{
						"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
						"token.actions.githubusercontent.com:sub": tt.wantSubject,
					}},
				})}},
			}))
			// AND it can do nothing but assume the CDK bootstrap roles
			stmts := jsonOf(t, cdktest.Props(tpl.Only(t, "AWS::IAM::Policy"))["PolicyDocument"])
			want := `{"Statement":[{"Action":["sts:AssumeRole","sts:TagSession"],"Effect":"Allow",` +
				`"Resource":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::123456789012:role/cdk-hnb659fds-*"]]},` +
				`"Sid":"AssumeCdkBootstrapRoles"}],"Version":"2012-10-17"}`
			if diff := cmp.Diff(want, stmts); diff != "" {
				t.Errorf("deploy role policy (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoUnsuppressedNagErrors(t *testing.T) {
	f := getFixture(t)
	for _, s := range []awscdk.Stack{f.network, f.data, f.dataDev, f.secrets, f.service, f.onDemand, f.monitoring, f.quiet, f.deploy, f.deployExisting} {
		t.Run(*s.StackName(), func(t *testing.T) {
			// GIVEN the AwsSolutions checks on the app, WHEN synthesized,
			// THEN every finding is fixed or suppressed with a reason
			if errs := cdktest.NagErrors(t, s); len(errs) > 0 {
				t.Errorf("unsuppressed cdk-nag errors:\n%s", strings.Join(errs, "\n"))
			}
		})
	}
}
