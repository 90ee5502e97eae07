package timmybot

import (
	"os"
	"os/exec"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// WebFrontProps configures WebFront.
type WebFrontProps struct {
	// Code is the function's code: a linux/arm64 executable named bootstrap,
	// as GoFunctionCode builds it.
	//
	// Default: none (required).
	Code awslambda.Code
	// Tables maps an environment variable to a table: the variable carries
	// the table's name and the function may use TableActionsAllowed on it,
	// and on no other table.
	//
	// Default: no tables.
	Tables map[string]awsdynamodb.ITable
	// TableActionsAllowed are the DynamoDB actions allowed on each of Tables.
	//
	// Default: TableActions.
	TableActionsAllowed []string
	// KeyPrefixTables maps an environment variable to a table of which the
	// function may reach only some items: the variable carries the table's
	// name.
	//
	// Default: none.
	KeyPrefixTables map[string]KeyPrefixTable
	// Policies are attached to the function's role, for permissions that
	// are not the function's alone (such as BotSecrets.LinkTokenPolicy).
	//
	// Default: none.
	Policies []awsiam.IManagedPolicy
	// Secrets maps an environment variable to a secret: the variable
	// carries the secret's ARN (never its value) and the function may call
	// secretsmanager:GetSecretValue on it, and on no other secret.
	//
	// Default: no secrets.
	Secrets map[string]awssecretsmanager.ISecret
	// SecretsKey encrypts Secrets; the function may decrypt with it through
	// Secrets Manager only.
	//
	// Default: none (required when Secrets are given).
	SecretsKey awskms.IKey
	// Environment holds plain, non-secret configuration.
	//
	// Default: none.
	Environment map[string]string
	// ReservedConcurrency caps the instances that run at once, so that a
	// flood of requests is throttled (HTTP 429) instead of billed.
	//
	// Default: 5.
	ReservedConcurrency *float64
	// MemoryMiB is the function's memory (and so its CPU share).
	//
	// Default: 256.
	MemoryMiB *float64
	// LogRetention is how long the function's logs are kept.
	//
	// Default: awslogs.RetentionDays_ONE_MONTH.
	LogRetention awslogs.RetentionDays
}

// KeyPrefixTable is a table of which a role may use Actions only on the
// items whose partition key starts with KeyPrefix (IAM's
// dynamodb:LeadingKeys), such as the link flows in the preferences table.
type KeyPrefixTable struct {
	Table     awsdynamodb.ITable
	KeyPrefix string
	Actions   []string
}

// WebFront runs a Go web front as an arm64 Lambda function on the
// provided.al2023 runtime behind a public Function URL: no load balancer,
// no API Gateway, and outside any VPC, so it needs no NAT to reach Discord.
// Its role may write only to its own log group, use only its tables (and
// of KeyPrefixTables only the items it names) and read only its secrets,
// besides what Policies allow.
type WebFront struct {
	constructs.Construct
	Function awslambda.Function
	// URL is the Function URL, such as https://<id>.lambda-url.<region>.on.aws/.
	URL      awslambda.FunctionUrl
	LogGroup awslogs.ILogGroup
	Role     awsiam.IRole
}

// NewWebFront creates the function, its role, log group and Function URL.
func NewWebFront(scope constructs.Construct, id string, props *WebFrontProps) *WebFront {
	if props == nil || props.Code == nil {
		panic("timmybot.NewWebFront: Code is required")
	}
	if len(props.Secrets) > 0 && props.SecretsKey == nil {
		panic("timmybot.NewWebFront: SecretsKey is required with Secrets")
	}
	retention := props.LogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_MONTH
	}
	actions := props.TableActionsAllowed
	if len(actions) == 0 {
		actions = TableActions
	}
	c := constructs.NewConstruct(scope, jsii.String(id))

	logGroup := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// A role of its own instead of AWSLambdaBasicExecutionRole, which
	// allows writing to every log group of the account.
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteOwnLogs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: &[]*string{logGroup.LogGroupArn()},
	}))

	env := make(map[string]*string, len(props.Environment)+len(props.Tables)+len(props.KeyPrefixTables)+len(props.Secrets))
	for k, v := range props.Environment {
		env[k] = jsii.String(v)
	}
	for _, name := range sortedKeys(props.Tables) {
		t := props.Tables[name]
		env[name] = t.TableName()
		t.Grant(role, *jsii.Strings(actions...)...)
	}
	for _, name := range sortedKeys(props.KeyPrefixTables) {
		t := props.KeyPrefixTables[name]
		env[name] = t.Table.TableName()
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(t.Actions...),
			Resources: &[]*string{t.Table.TableArn()},
			Conditions: &map[string]interface{}{
				"ForAllValues:StringLike": map[string]interface{}{"dynamodb:LeadingKeys": []string{t.KeyPrefix + "*"}},
			},
		}))
	}
	for _, p := range props.Policies {
		role.AddManagedPolicy(p)
	}
	if len(props.Secrets) > 0 {
		arns := make([]*string, 0, len(props.Secrets))
		for _, name := range sortedKeys(props.Secrets) {
			arn := props.Secrets[name].SecretArn()
			env[name] = arn
			arns = append(arns, arn)
		}
		// Identity statements rather than grants, which would put this role
		// into the secrets' stack's key policy (see BotSecrets.ReadPolicy).
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadOwnSecrets"),
			Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
			Resources: &arns,
		}))
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("DecryptThroughSecretsManager"),
			Actions:   jsii.Strings("kms:Decrypt"),
			Resources: &[]*string{props.SecretsKey.KeyArn()},
			Conditions: &map[string]interface{}{
				"StringEquals": map[string]interface{}{
					"kms:ViaService": "secretsmanager." + *awscdk.Stack_Of(c).Region() + ".amazonaws.com",
				},
			},
		}))
	}

	fn := awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:                 awslambda.Architecture_ARM_64(),
		Handler:                      jsii.String("bootstrap"),
		Code:                         props.Code,
		MemorySize:                   jsii.Number(orDefault(props.MemoryMiB, 256)),
		Timeout:                      awscdk.Duration_Seconds(jsii.Number(15)),
		ReservedConcurrentExecutions: jsii.Number(orDefault(props.ReservedConcurrency, 5)),
		Environment:                  &env,
		Role:                         role,
		LogGroup:                     logGroup,
	})
	url := fn.AddFunctionUrl(&awslambda.FunctionUrlOptions{AuthType: awslambda.FunctionUrlAuthType_NONE})
	return &WebFront{Construct: c, Function: fn, URL: url, LogGroup: logGroup, Role: role}
}

// GoFunctionCode builds the Go command at pkg (such as ./app/cmd/web,
// relative to moduleDir, the directory of go.work or go.mod) for
// linux/arm64 into an asset holding one executable named bootstrap.
//
// It builds with the local Go toolchain when there is one, so synth needs
// no Docker; without Go it falls back to building in the golang image
// (Docker then required). The asset's hash is that of the sources, so an
// unchanged tree is not built again.
func GoFunctionCode(moduleDir, pkg string) awslambda.Code {
	build := []string{"build", "-trimpath", "-ldflags=-s -w", "-tags=lambda.norpc", "-o"}
	return awslambda.Code_FromAsset(jsii.String(moduleDir), &awss3assets.AssetOptions{
		Exclude: jsii.Strings(".git", "cdk.out", "node_modules", "bin", "data", "**/testdata", ".env"),
		Bundling: &awscdk.BundlingOptions{
			Image:       awscdk.DockerImage_FromRegistry(jsii.String("golang:1.26")),
			Command:     jsii.Strings("bash", "-c", "go "+shellJoin(build)+" /asset-output/bootstrap "+pkg),
			Environment: &map[string]*string{"CGO_ENABLED": jsii.String("0"), "GOOS": jsii.String("linux"), "GOARCH": jsii.String("arm64")},
			Platform:    jsii.String("linux/arm64"),
			Local:       &goBuild{dir: moduleDir, pkg: pkg, args: build},
		},
	})
}

// goBuild is the local bundling of GoFunctionCode.
type goBuild struct {
	dir, pkg string
	args     []string
}

// TryBundle implements awscdk.ILocalBundling: false (no Go toolchain) lets
// CDK use Docker instead.
func (b *goBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return jsii.Bool(false)
	}
	args := append(append([]string{}, b.args...), filepath.Join(*outputDir, "bootstrap"), b.pkg)
	cmd := exec.Command(goBin, args...)
	cmd.Dir = b.dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		panic("building " + b.pkg + " for the Lambda function: " + err.Error())
	}
	return jsii.Bool(true)
}

func shellJoin(args []string) string {
	out := ""
	for i, a := range args {
		if i > 0 {
			out += " "
		}
		out += "'" + a + "'"
	}
	return out
}
