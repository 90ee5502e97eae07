// Package timmybot holds the reusable AWS CDK constructs that run TimmyBot:
// one L3 construct per concern — Network, DataTables, BotSecrets, BotService,
// Monitoring — and GitHubDeployRole for deploying from GitHub Actions.
//
// Each constructor has the shape NewX(scope, id, props) *X. Every Props field
// documents its default, and each construct exposes typed outputs (VPC,
// tables, secrets, cluster, service, topic) that the next construct takes as
// input, so an organisation can compose them into its own stacks.
//
// The constructs own the AWS resources and the cdk-nag AwsSolutions
// suppressions those resources need, each naming its rule and the reason.
// They do not own stack layout, configuration parsing or the bot's code: the
// caller passes names (tables, metrics, environment variables) explicitly,
// and this package never imports the application.
package timmybot
