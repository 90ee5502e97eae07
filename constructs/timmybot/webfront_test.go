package timmybot_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/constructs/cdktest"
	"github.com/iddv/timmybot/constructs/timmybot"
)

// webCode stands in for the web front's executable.
const webCode = "testdata/webfront"

func TestWebFront(t *testing.T) {
	// GIVEN a WebFront with one table, one key-prefix table, one managed
	// policy, two secrets and a cap of 3, WHEN synthesized
	tpl := cdktest.FromStack(t, getFixture(t).web)

	// THEN one arm64 provided.al2023 function runs outside any VPC, capped,
	// with names and ARNs (never values) in its environment and its own log group
	fn := cdktest.Props(tpl.Only(t, "AWS::Lambda::Function"))
	logs := tpl.Only(t, "AWS::Logs::LogGroup")
	logsID := func() string {
		for id := range tpl.Resources("AWS::Logs::LogGroup") {
			return id
		}
		return ""
	}()
	got := map[string]any{
		"Runtime": fn["Runtime"], "Architectures": fn["Architectures"], "ReservedConcurrentExecutions": fn["ReservedConcurrentExecutions"],
		"VpcConfig": fn["VpcConfig"], "LoggingConfig": fn["LoggingConfig"], "Environment": cdktest.JSON(t, fn["Environment"]),
		"Retention": cdktest.Props(logs)["RetentionInDays"],
	}
	want := map[string]any{
		"Runtime": "provided.al2023", "Architectures": []any{"arm64"}, "ReservedConcurrentExecutions": 3.0,
		"VpcConfig": nil, "LoggingConfig": map[string]any{"LogGroup": map[string]any{"Ref": logsID}},
		"Environment": `{"Variables":{"ALLOWLIST_TABLE":{"Fn::ImportValue":"Data:ExportsOutputRefTablesqueues1A1110FDB06A3FC1"},` +
			`"CLIENT_SECRET_ARN":{"Fn::ImportValue":"Secrets:ExportsOutputRefSecretsClientSecret6F42F5B89C84967B"},` +
			`"FLOWS_TABLE":{"Fn::ImportValue":"Data:ExportsOutputRefTablescacheCA82483FA3195B26"},"OWNER_IDS":"1",` +
			`"WEB_SECRET_ARN":{"Fn::ImportValue":"Secrets:ExportsOutputRefSecretsWebSecret6793C7E9AE991FFA"}}}`,
		"Retention": 30.0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("function (-want +got):\n%s", diff)
	}

	// AND a public Function URL invokes it, with no load balancer or API
	tpl.Has(t, "AWS::Lambda::Url", obj(map[string]any{"AuthType": "NONE"}))
	tpl.Has(t, "AWS::Lambda::Permission", obj(map[string]any{"Action": "lambda:InvokeFunctionUrl", "FunctionUrlAuthType": "NONE", "Principal": "*"}))
	for _, typ := range []string{"AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api", "AWS::EC2::NatGateway"} {
		tpl.Count(t, typ, 0)
	}

	// AND its role may write its own logs, use its table with the store's
	// actions, delete the flow items of its key-prefix table, read its two
	// secrets and decrypt them through Secrets Manager: nothing else
	// besides its one managed policy
	var statements []string
	for _, s := range cdktest.Props(tpl.Only(t, "AWS::IAM::Policy"))["PolicyDocument"].(map[string]any)["Statement"].([]any) {
		statements = append(statements, cdktest.JSON(t, s))
	}
	wantStatements := []string{
		`{"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Effect":"Allow","Resource":{"Fn::GetAtt":["` + logsID + `","Arn"]},"Sid":"WriteOwnLogs"}`,
		`{"Action":` + cdktest.JSON(t, timmybot.TableActions) + `,"Effect":"Allow","Resource":[{"Fn::ImportValue":"Data:ExportsOutputFnGetAttTablesqueues1A1110FDArn257893B5"}]}`,
		`{"Action":"dynamodb:DeleteItem","Condition":{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["flow#*"]}},"Effect":"Allow","Resource":{"Fn::ImportValue":"Data:ExportsOutputFnGetAttTablescacheCA82483FArnC5F7773A"}}`,
		`{"Action":"secretsmanager:GetSecretValue","Effect":"Allow","Resource":[{"Fn::ImportValue":"Secrets:ExportsOutputRefSecretsClientSecret6F42F5B89C84967B"},{"Fn::ImportValue":"Secrets:ExportsOutputRefSecretsWebSecret6793C7E9AE991FFA"}],"Sid":"ReadOwnSecrets"}`,
		`{"Action":"kms:Decrypt","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.eu-central-1.amazonaws.com"}},"Effect":"Allow","Resource":{"Fn::ImportValue":"Secrets:ExportsOutputFnGetAttSecretsKey9BF95D68Arn27BB82E6"},"Sid":"DecryptThroughSecretsManager"}`,
	}
	if diff := cmp.Diff(wantStatements, statements); diff != "" {
		t.Errorf("role policy (-want +got):\n%s", diff)
	}
	tpl.Count(t, "AWS::IAM::ManagedPolicy", 0)
	managed := cdktest.JSON(t, cdktest.Props(tpl.Only(t, "AWS::IAM::Role"))["ManagedPolicyArns"])
	if want := `[{"Fn::ImportValue":"Secrets:ExportsOutputRefSecretsLinkTokenPolicy1EFFB8181D6D182F"}]`; managed != want {
		t.Errorf("the role's managed policies = %s, want only the link token policy %s", managed, want)
	}
}
