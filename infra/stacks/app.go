// Package stacks is TimmyBot's CDK app: exactly five stacks — Network, Data,
// Secrets, Service and Monitoring — composed from the reusable constructs,
// with cross-stack references passed explicitly from one to the next, and
// cdk-nag's AwsSolutions checks on all of them.
//
// It owns the deployment's configuration (LoadConfig) and the names the bot
// reads at run time (table and secret environment variables, metric names).
// It does not own the resources' design, which lives in the constructs.
package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecrassets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/iddv/timmybot/constructs/timmybot"
)

// Stacks are the five stacks of one deployment.
type Stacks struct {
	Network, Data, Secrets, Service, Monitoring awscdk.Stack
}

// New adds the five stacks for cfg to app and applies the AwsSolutions
// checks. It must run before anything else is added to app.
func New(app awscdk.App, cfg Config) *Stacks {
	if cfg.Account != "" {
		// Without this the VPC asks AWS for the zones at synth time.
		key := fmt.Sprintf("availability-zones:account=%s:region=%s", cfg.Account, cfg.Region)
		app.Node().SetContext(jsii.String(key), jsii.Strings(cfg.AvailabilityZones...))
	}
	env := &awscdk.Environment{Region: jsii.String(cfg.Region)}
	if cfg.Account != "" {
		env.Account = jsii.String(cfg.Account)
	}
	newStack := func(name, description string) awscdk.Stack {
		s := awscdk.NewStack(app, jsii.String(StackName(cfg, name)), &awscdk.StackProps{
			Env:         env,
			Description: jsii.String("TimmyBot (" + cfg.Environment + "): " + description),
		})
		awscdk.Tags_Of(s).Add(jsii.String("app"), jsii.String("timmybot"), nil)
		awscdk.Tags_Of(s).Add(jsii.String("environment"), jsii.String(cfg.Environment), nil)
		return s
	}
	retain := cfg.Environment != "dev"

	networkStack := newStack("Network", "VPC with public subnets, DynamoDB endpoint, security group")
	network := timmybot.NewNetwork(networkStack, "Network", &timmybot.NetworkProps{
		FlowLogRetention: cfg.LogRetention,
	})

	dataStack := newStack("Data", "DynamoDB tables")
	data := timmybot.NewDataTables(dataStack, "Tables", &timmybot.DataTablesProps{
		Tables: Tables,
		Retain: jsii.Bool(retain),
	})

	secretsStack := newStack("Secrets", "KMS key, the Discord token and the web front's secrets")
	secrets := timmybot.NewBotSecrets(secretsStack, "Secrets", &timmybot.BotSecretsProps{
		NamePrefix: jsii.String("timmybot/" + cfg.Environment),
		Retain:     jsii.Bool(retain),
	})
	if cfg.GitHubRepository != "" {
		props := &timmybot.GitHubDeployRoleProps{Repository: cfg.GitHubRepository}
		if cfg.GitHubOIDCProviderArn != "" {
			props.ProviderArn = jsii.String(cfg.GitHubOIDCProviderArn)
		}
		role := timmybot.NewGitHubDeployRole(secretsStack, "GitHubDeploy", props)
		awscdk.NewCfnOutput(secretsStack, jsii.String("GitHubDeployRoleArn"), &awscdk.CfnOutputProps{
			Value:       role.Role.RoleArn(),
			Description: jsii.String("Set as the AWS_DEPLOY_ROLE_ARN variable of the GitHub environment"),
		})
	}

	serviceStack := newStack("Service", "ECS cluster, the bot's Fargate service and the web front's Lambda function")
	// The web front sits beside the bot in the Service stack, outside the
	// VPC. It learns its URL from its first request (it cannot be told:
	// the URL is made after the function); the bot is told it, so that
	// /link sends providers' redirects to the callback the function serves.
	// The bot's own web front listens on loopback only.
	webEnv := map[string]string{}
	if cfg.OwnerIDs != "" {
		webEnv[EnvOwnerIDs] = cfg.OwnerIDs
	}
	if cfg.ApplicationID != "" {
		webEnv[EnvApplicationID] = cfg.ApplicationID
	}
	front := timmybot.NewWebFront(serviceStack, "Web", &timmybot.WebFrontProps{
		Code:   timmybot.GoFunctionCode(cfg.SourceDirectory, WebCommand),
		Tables: map[string]awsdynamodb.ITable{TableEnv["allowlist"]: data.Tables["allowlist"]},
		KeyPrefixTables: map[string]timmybot.KeyPrefixTable{
			EnvLinkFlowsTable:   {Table: data.Tables["preferences"], KeyPrefix: LinkFlowKeyPrefix, Actions: LinkFlowActions},
			EnvLinkRecordsTable: {Table: data.Tables["preferences"], KeyPrefix: LinkRecordKeyPrefix, Actions: LinkRecordActions},
		},
		Policies:     []awsiam.IManagedPolicy{secrets.LinkTokenPolicy},
		Secrets:      webSecretEnv(secrets),
		SecretsKey:   secrets.Key,
		Environment:  linkEnv(secrets, webEnv),
		LogRetention: cfg.LogRetention,
	})
	awscdk.NewCfnOutput(serviceStack, jsii.String("WebFrontURL"), &awscdk.CfnOutputProps{
		Value:       front.URL.Url(),
		Description: jsii.String("The web front; register <this URL>auth/callback with Discord and <this URL>link/callback with each linked service"),
	})

	botEnv := map[string]string{
		EnvLogFormat: "json",
		EnvHTTPAddr:  "127.0.0.1:8080",
		EnvPublicURL: *front.URL.Url(),
	}
	if cfg.OwnerIDs != "" {
		botEnv[EnvOwnerIDs] = cfg.OwnerIDs
	}
	if cfg.ApplicationID != "" {
		botEnv[EnvApplicationID] = cfg.ApplicationID
	}
	service := timmybot.NewBotService(serviceStack, "Bot", &timmybot.BotServiceProps{
		Vpc:               network.Vpc,
		SecurityGroup:     network.ServiceSecurityGroup,
		Image:             image(cfg),
		Tables:            tableEnv(data),
		Secrets:           secretEnv(secrets),
		ExecutionPolicies: []awsiam.IManagedPolicy{secrets.ReadPolicy},
		TaskPolicies:      []awsiam.IManagedPolicy{secrets.LinkTokenPolicy},
		Environment:       linkEnv(secrets, botEnv),
		DesiredCount:      jsii.Number(float64(cfg.DesiredCount)),
		Spot:              jsii.Bool(cfg.Spot),
		LogRetention:      cfg.LogRetention,
	})

	monitoringStack := newStack("Monitoring", "alarms, dashboard, alarm topic")
	monitoring := timmybot.NewMonitoring(monitoringStack, "Monitoring", &timmybot.MonitoringProps{
		Service:      service.Service,
		Metrics:      Metrics,
		AlarmEmail:   optional(cfg.AlertEmail),
		DesiredCount: jsii.Number(float64(cfg.DesiredCount)),
	})
	awscdk.NewCfnOutput(monitoringStack, jsii.String("AlarmTopicArn"), &awscdk.CfnOutputProps{
		Value: monitoring.Topic.TopicArn(),
	})

	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return &Stacks{Network: networkStack, Data: dataStack, Secrets: secretsStack, Service: serviceStack, Monitoring: monitoringStack}
}

// StackName is the CloudFormation name of one of the five stacks.
func StackName(cfg Config, name string) string {
	return "TimmyBot-" + cfg.Environment + "-" + name
}

func image(cfg Config) awsecs.ContainerImage {
	if cfg.ImageURI != "" {
		return awsecs.ContainerImage_FromRegistry(jsii.String(cfg.ImageURI), nil)
	}
	return awsecs.ContainerImage_FromAsset(jsii.String(cfg.ImageDirectory), &awsecs.AssetImageProps{
		Platform: awsecrassets.Platform_LINUX_ARM64(),
	})
}

func optional(s string) *string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return jsii.String(s)
}
