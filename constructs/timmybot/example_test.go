package timmybot_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/iddv/timmybot/constructs/timmybot"
)

// An organisation composes the constructs into a single stack of its own,
// running an image from its registry.
func Example() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("MusicBot"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")},
	})

	network := timmybot.NewNetwork(stack, "Network", nil)
	data := timmybot.NewDataTables(stack, "Data", &timmybot.DataTablesProps{
		Tables: []timmybot.TableSpec{
			{ID: "queues", PartitionKey: timmybot.Key{Name: "guild", Type: "S"}, SortKey: &timmybot.Key{Name: "sk", Type: "S"}},
		},
	})
	secrets := timmybot.NewBotSecrets(stack, "Secrets", &timmybot.BotSecretsProps{NamePrefix: jsii.String("acme/musicbot")})
	bot := timmybot.NewBotService(stack, "Bot", &timmybot.BotServiceProps{
		Vpc:               network.Vpc,
		SecurityGroup:     network.ServiceSecurityGroup,
		Image:             awsecs.ContainerImage_FromRegistry(jsii.String("registry.example.com/timmybot:1.0.0"), nil),
		Tables:            map[string]awsdynamodb.ITable{"TIMMYBOT_TABLE_QUEUES": data.Tables["queues"]},
		Secrets:           map[string]timmybot.SecretField{"DISCORD_TOKEN": {Secret: secrets.DiscordToken}},
		ExecutionPolicies: []awsiam.IManagedPolicy{secrets.ReadPolicy},
		Spot:              jsii.Bool(false),
	})
	timmybot.NewMonitoring(stack, "Monitoring", &timmybot.MonitoringProps{
		Service:    bot.Service,
		AlarmEmail: jsii.String("oncall@example.com"),
		Metrics: timmybot.MetricNames{
			Namespace:              "TimmyBot",
			InteractionsHandled:    "InteractionsHandled",
			InteractionErrors:      "InteractionErrors",
			InteractionLatency:     "InteractionLatencyMs",
			GatewayConnected:       "GatewayConnected",
			ActiveVoiceConnections: "ActiveVoiceConnections",
		},
	})
	app.Synth(nil)
}

// A deploy role lets GitHub Actions in one repository's "production"
// environment run `cdk deploy` without stored AWS keys.
func ExampleNewGitHubDeployRole() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Ci"), nil)
	role := timmybot.NewGitHubDeployRole(stack, "GitHubDeploy", &timmybot.GitHubDeployRoleProps{
		Repository: "acme/musicbot",
	})
	awscdk.NewCfnOutput(stack, jsii.String("DeployRoleArn"), &awscdk.CfnOutputProps{Value: role.Role.RoleArn()})
}
