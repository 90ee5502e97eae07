package timmybot_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/constructs/cdktest"
	"github.com/iddv/timmybot/constructs/timmybot"
)

// fixture is one app holding every construct under test, each in its own
// stack, so that the test binary synthesizes (and starts Node) only once.
type fixture struct {
	network, data, dataDev, secrets, service, onDemand, monitoring, quiet, deploy, deployExisting, web awscdk.Stack
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
		deploy: stack("Deploy"), deployExisting: stack("DeployExisting"), web: stack("Web"),
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
				"DISCORD_TOKEN": {Secret: secrets.DiscordToken},
				"APP_CONFIG":    {Secret: secrets.DiscordToken, Field: "app"},
			},
			ExecutionPolicies: []awsiam.IManagedPolicy{secrets.ReadPolicy},
			Environment:       map[string]string{"LOG_FORMAT": "json"},
		}
	}
	service := timmybot.NewBotService(f.service, "Bot", serviceProps())
	onDemand := serviceProps()
	onDemand.Spot = jsii.Bool(false)
	onDemand.DesiredCount = jsii.Number(0)
	onDemand.TableActionsAllowed = []string{"dynamodb:GetItem"}
	timmybot.NewBotService(f.onDemand, "Bot", onDemand)
	timmybot.NewMonitoring(f.monitoring, "Monitoring", &timmybot.MonitoringProps{
		Service: service.Service, Metrics: testMetrics, AlarmEmail: jsii.String("ops@example.com"),
	})
	timmybot.NewMonitoring(f.quiet, "Monitoring", &timmybot.MonitoringProps{
		Service: service.Service, Metrics: testMetrics, DesiredCount: jsii.Number(0), GatewayDownMinutes: jsii.Number(10),
	})
	timmybot.NewGitHubDeployRole(f.deploy, "GitHub", &timmybot.GitHubDeployRoleProps{Repository: "acme/bot"})
	timmybot.NewGitHubDeployRole(f.deployExisting, "GitHub", &timmybot.GitHubDeployRoleProps{
		Repository:  "acme/bot",
		Environment: jsii.String("staging"),
		ProviderArn: jsii.String("arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"),
	})
	timmybot.NewWebFront(f.web, "Web", &timmybot.WebFrontProps{
		Code:   awslambda.Code_FromAsset(jsii.String(webCode), nil),
		Tables: map[string]awsdynamodb.ITable{"ALLOWLIST_TABLE": data.Tables["queues"]},
		KeyPrefixTables: map[string]timmybot.KeyPrefixTable{"FLOWS_TABLE": {
			Table: data.Tables["cache"], KeyPrefix: "flow#", Actions: []string{"dynamodb:DeleteItem"},
		}},
		Policies:            []awsiam.IManagedPolicy{secrets.LinkTokenPolicy},
		Secrets:             map[string]awssecretsmanager.ISecret{"CLIENT_SECRET_ARN": secrets.ClientSecret, "WEB_SECRET_ARN": secrets.WebSecret},
		SecretsKey:          secrets.Key,
		Environment:         map[string]string{"OWNER_IDS": "1"},
		ReservedConcurrency: jsii.Number(3),
	})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	return f
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
	if ep["VpcEndpointType"] != "Gateway" || !strings.Contains(cdktest.JSON(t, ep["ServiceName"]), "dynamodb") {
		t.Errorf("endpoint = %s, want a DynamoDB gateway endpoint", cdktest.JSON(t, ep))
	}
	// AND a security group without inbound rules
	tpl.Count(t, "AWS::EC2::SecurityGroupIngress", 0)
	sg := cdktest.Props(tpl.Only(t, "AWS::EC2::SecurityGroup"))
	if in, ok := sg["SecurityGroupIngress"]; ok {
		t.Errorf("security group has inbound rules: %s", cdktest.JSON(t, in))
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
					"pitr":       cdktest.JSON(t, p["PointInTimeRecoverySpecification"]),
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

	// THEN a rotating customer key encrypts the three secrets, none with a
	// literal value, the web secret generated without punctuation
	keyID := func() string {
		for id := range tpl.Resources("AWS::KMS::Key") {
			return id
		}
		return ""
	}()
	tpl.Has(t, "AWS::KMS::Key", obj(map[string]any{"EnableKeyRotation": true}))
	var names []string
	for _, r := range tpl.Resources("AWS::SecretsManager::Secret") {
		secret := cdktest.Props(r)
		names = append(names, secret["Name"].(string))
		if got, want := cdktest.JSON(t, secret["KmsKeyId"]), `"`+keyID+`"`; !strings.Contains(got, want) {
			t.Errorf("secret %v KmsKeyId = %s, want a reference to %s", secret["Name"], got, keyID)
		}
		if _, ok := secret["SecretString"]; ok {
			t.Errorf("the secret %v has a literal value in the template", secret["Name"])
		}
	}
	slices.Sort(names)
	if want := []string{"timmybot/discord-client-secret", "timmybot/discord-token", "timmybot/link-clients", "timmybot/web-secret"}; !slices.Equal(names, want) {
		t.Errorf("secrets = %q, want %q", names, want)
	}
	tpl.Has(t, "AWS::SecretsManager::Secret", obj(map[string]any{
		"Name":                 "timmybot/web-secret",
		"GenerateSecretString": map[string]any{"PasswordLength": 64, "ExcludePunctuation": true},
	}))
	// AND the link clients are a template to fill, none filled in
	tpl.Has(t, "AWS::SecretsManager::Secret", obj(map[string]any{
		"Name": "timmybot/link-clients",
		"GenerateSecretString": map[string]any{
			"SecretStringTemplate": `{"spotify":{"client_id":"","client_secret":""},"youtube":{"client_id":"","client_secret":""},"soundcloud":{"client_id":"","client_secret":""}}`,
			"GenerateStringKey":    "_generated",
		},
	}))
	policies := map[string]string{}
	for _, p := range tpl.Resources("AWS::IAM::ManagedPolicy") {
		policies[cdktest.Props(p)["Description"].(string)] = cdktest.JSON(t, cdktest.Props(p)["PolicyDocument"])
	}
	if len(policies) != 2 {
		t.Fatalf("managed policies = %v, want the read policy and the link token policy", policies)
	}
	// AND the link token policy allows exactly keeping secrets under the
	// link prefix, with the key through Secrets Manager only
	wantLinks := `{"Statement":[` +
		`{"Action":["secretsmanager:CreateSecret","secretsmanager:PutSecretValue","secretsmanager:GetSecretValue","secretsmanager:DeleteSecret"],"Effect":"Allow",` +
		`"Resource":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":secretsmanager:eu-central-1:123456789012:secret:timmybot/links/*"]]},"Sid":"KeepLinkSecrets"},` +
		`{"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey"],"Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.eu-central-1.amazonaws.com"}},"Effect":"Allow",` +
		`"Resource":{"Fn::GetAtt":["` + keyID + `","Arn"]},"Sid":"EncryptThroughSecretsManager"}],"Version":"2012-10-17"}`
	if got := policies["Keep users' linked accounts as TimmyBot secrets (timmybot/links/*)"]; got != wantLinks {
		t.Errorf("link token policy =\n%s\nwant\n%s", got, wantLinks)
	}
	// AND the read policy reads only the Discord token and the link clients
	// and decrypts only through Secrets Manager
	policy := policies["Read TimmyBot's Discord token and link clients (timmybot)"]
	for _, ref := range []string{"SecretsDiscordToken", "SecretsLinkClients"} {
		if !strings.Contains(policy, ref) {
			t.Errorf("read policy does not read %s:\n%s", ref, policy)
		}
	}
	for _, want := range []string{`"secretsmanager:GetSecretValue"`, `"kms:ViaService"`} {
		if !strings.Contains(policy, want) {
			t.Errorf("read policy lacks %s:\n%s", want, policy)
		}
	}
	for _, unwanted := range []string{`"Resource":"*"`, "CreateSecret", "PutSecretValue", "GenerateDataKey", "SecretsWebSecret", "SecretsClientSecret"} {
		if strings.Contains(policy, unwanted) {
			t.Errorf("read policy has %s:\n%s", unwanted, policy)
		}
	}
}

func TestBotService(t *testing.T) {
	f := getFixture(t)
	tests := []struct {
		name         string
		stack        awscdk.Stack
		wantCapacity string
		wantDesired  float64
		wantActions  []string
	}{
		{"defaults", f.service, "FARGATE_SPOT", 1, timmybot.TableActions},
		{"on demand, stopped, one action", f.onDemand, "FARGATE", 0, []string{"dynamodb:GetItem"}},
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
				"capacity": cdktest.JSON(t, svc["CapacityProviderStrategy"]),
				"desired":  svc["DesiredCount"],
				"publicIp": cdktest.JSON(t, svc["NetworkConfiguration"].(map[string]any)["AwsvpcConfiguration"].(map[string]any)["AssignPublicIp"]),
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
			if got := []any{task["Cpu"], task["Memory"], cdktest.JSON(t, task["RuntimePlatform"])}; !cmp.Equal(got, []any{"256", "512", `{"CpuArchitecture":"ARM64","OperatingSystemFamily":"LINUX"}`}) {
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
			if diff := cmp.Diff([]string{"APP_CONFIG", "DISCORD_TOKEN"}, slices.Sorted(slices.Values(secretNames))); diff != "" {
				t.Errorf("secrets (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"LOG_FORMAT", "QUEUES_TABLE"}, slices.Sorted(slices.Values(envNames))); diff != "" {
				t.Errorf("environment (-want +got):\n%s", diff)
			}
			if !strings.Contains(cdktest.JSON(t, container["Secrets"]), `:app::`) {
				t.Errorf("a secret field is not injected by field: %s", cdktest.JSON(t, container["Secrets"]))
			}

			// AND the container checks that the process is alive (/healthz),
			// not the Discord gateway (/readyz), so a Discord outage does
			// not get a healthy task replaced; it logs to a group with retention
			hc := container["HealthCheck"].(map[string]any)["Command"]
			if diff := cmp.Diff([]any{"CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"}, hc); diff != "" {
				t.Errorf("health check (-want +got):\n%s", diff)
			}
			if drv := container["LogConfiguration"].(map[string]any)["LogDriver"]; drv != "awslogs" {
				t.Errorf("log driver = %v", drv)
			}
			tpl.Has(t, "AWS::Logs::LogGroup", obj(map[string]any{"RetentionInDays": 30}))

			// AND the task role may only use its table's items
			assertTaskRoleLeastPrivilege(t, tpl, tt.wantActions)

			// AND the service waits for the cluster's capacity providers:
			// created after them, deleted before them
			assoc := tpl.Only(t, "AWS::ECS::ClusterCapacityProviderAssociations")
			if got := cdktest.JSON(t, cdktest.Props(assoc)["CapacityProviders"]); got != `["FARGATE","FARGATE_SPOT"]` {
				t.Errorf("capacity providers = %s", got)
			}
			// under the logical ID the cluster used to give it, so that
			// existing stacks update it in place instead of replacing it
			const assocID = "BotCluster9B862755"
			if _, ok := tpl.Resources("AWS::ECS::ClusterCapacityProviderAssociations")[assocID]; !ok {
				t.Errorf("capacity provider association is not %s", assocID)
			}
			for _, r := range tpl.Resources("AWS::ECS::Service") {
				deps, _ := r["DependsOn"].([]any)
				if !slices.Contains(deps, any(assocID)) {
					t.Errorf("service DependsOn = %v, want %s among them", deps, assocID)
				}
			}
		})
	}
}

// assertTaskRoleLeastPrivilege checks the task role's inline statements:
// DynamoDB item actions on the granted table only, nothing else.
func assertTaskRoleLeastPrivilege(t *testing.T, tpl *cdktest.Template, want []string) {
	t.Helper()
	for id, p := range tpl.Resources("AWS::IAM::Policy") {
		if !strings.Contains(id, "TaskRoleDefaultPolicy") {
			continue
		}
		stmts := cdktest.Props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any)
		if len(stmts) != 1 {
			t.Fatalf("task role has %d statements, want 1 (the table grant): %s", len(stmts), cdktest.JSON(t, stmts))
		}
		s := stmts[0].(map[string]any)
		if diff := cmp.Diff(slices.Sorted(slices.Values(want)), cdktest.Actions(s)); diff != "" {
			t.Errorf("task role actions (-want +got):\n%s", diff)
		}
		if res := cdktest.JSON(t, s["Resource"]); strings.Contains(res, `"*"`) || !strings.Contains(res, "ImportValue") {
			t.Errorf("task role resources = %s, want only the imported table ARN", res)
		}
		return
	}
	t.Fatal("no task role policy")
}

func TestMonitoring(t *testing.T) {
	f := getFixture(t)
	tests := []struct {
		name              string
		stack             awscdk.Stack
		wantEmail         int
		wantTaskAlarm     bool
		wantGatewayPeriod float64
	}{
		{"with alarm e-mail, one task", f.monitoring, 1, true, 3},
		{"without alarm e-mail, stopped, 10-minute gateway alarm", f.quiet, 0, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN Monitoring for a service, WHEN synthesized
			tpl := cdktest.FromStack(t, tt.stack)

			// THEN the topic's policy, which replaces SNS's default one,
			// refuses publishers without TLS and lets this account's
			// CloudWatch alarms publish (in that order)
			tpl.Has(t, "AWS::SNS::TopicPolicy", obj(map[string]any{
				"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
					assertions.Match_ObjectLike(&map[string]any{
						"Effect":    "Deny",
						"Action":    "sns:Publish",
						"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
					}),
					assertions.Match_ObjectLike(&map[string]any{
						"Effect":    "Allow",
						"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
						"Action":    "sns:Publish",
						"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"}},
					}),
				})},
			}))
			// AND the e-mail subscription exists only when asked for
			tpl.Count(t, "AWS::SNS::Subscription", tt.wantEmail)
			// AND the alarms notify the topic: the gateway disconnected for
			// the configured minutes, with a missing metric (no task
			// running) as breaching
			tpl.Has(t, "AWS::CloudWatch::Alarm", obj(map[string]any{
				"Namespace": "Bot", "MetricName": "Gateway", "TreatMissingData": "breaching", "Period": 300,
				"ComparisonOperator": "LessThanThreshold", "Threshold": 1, "EvaluationPeriods": tt.wantGatewayPeriod,
			}))
			// AND, for a service meant to run, no running task for 10
			// minutes (Spot capacity short)
			taskAlarm := obj(map[string]any{
				"Namespace": "AWS/ECS", "MetricName": "CPUUtilization", "Statistic": "SampleCount", "Period": 60,
				"ComparisonOperator": "LessThanThreshold", "Threshold": 1, "EvaluationPeriods": 10, "TreatMissingData": "breaching",
			})
			if tt.wantTaskAlarm {
				tpl.Count(t, "AWS::CloudWatch::Alarm", 6)
				tpl.Has(t, "AWS::CloudWatch::Alarm", taskAlarm)
			} else {
				tpl.Count(t, "AWS::CloudWatch::Alarm", 5)
			}
			tpl.Has(t, "AWS::CloudWatch::Alarm", obj(map[string]any{"Namespace": "AWS/ECS", "MetricName": "CPUUtilization"}))
			tpl.Has(t, "AWS::CloudWatch::Alarm", obj(map[string]any{"Namespace": "AWS/ECS", "MetricName": "MemoryUtilization"}))
			tpl.Has(t, "AWS::CloudWatch::Alarm", obj(map[string]any{"Namespace": "Bot", "MetricName": "LatencyMs", "ExtendedStatistic": "p95"}))
			if rate := cdktest.JSON(t, tpl.Resources("AWS::CloudWatch::Alarm")); !strings.Contains(rate, "100 * errors / handled") {
				t.Errorf("no error-rate alarm: %s", rate)
			}
			for id, a := range tpl.Resources("AWS::CloudWatch::Alarm") {
				if actions := cdktest.Props(a)["AlarmActions"]; actions == nil {
					t.Errorf("alarm %s notifies nobody", id)
				}
			}
			// AND a dashboard shows every metric of the bot
			body := cdktest.JSON(t, cdktest.Props(tpl.Only(t, "AWS::CloudWatch::Dashboard"))["DashboardBody"])
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
			stmts := cdktest.JSON(t, cdktest.Props(tpl.Only(t, "AWS::IAM::Policy"))["PolicyDocument"])
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
	for _, s := range []awscdk.Stack{f.network, f.data, f.dataDev, f.secrets, f.service, f.onDemand, f.monitoring, f.quiet, f.deploy, f.deployExisting, f.web} {
		t.Run(*s.StackName(), func(t *testing.T) {
			// GIVEN the AwsSolutions checks on the app, WHEN synthesized,
			// THEN every finding is fixed or suppressed with a reason
			if errs := cdktest.NagErrors(t, s); len(errs) > 0 {
				t.Errorf("unsuppressed cdk-nag errors:\n%s", strings.Join(errs, "\n"))
			}
			// AND every wildcard suppression names the wildcards it accepts
			if broad := cdktest.FromStack(t, s).BroadSuppressions("AwsSolutions-IAM5"); len(broad) > 0 {
				t.Errorf("AwsSolutions-IAM5 suppressed without appliesTo on %v", broad)
			}
		})
	}
}
