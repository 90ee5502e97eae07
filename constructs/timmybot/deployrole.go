package timmybot

import (
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

const githubOIDCIssuer = "token.actions.githubusercontent.com"

// GitHubDeployRoleProps configures GitHubDeployRole.
type GitHubDeployRoleProps struct {
	// Repository is the GitHub repository allowed to deploy, "owner/name".
	//
	// Default: none (required).
	Repository string
	// Environment is the GitHub Actions environment the deploy job runs in;
	// only jobs in it (and so behind its approval rules) may assume the role.
	//
	// Default: "production".
	Environment *string
	// ProviderArn is an existing GitHub OIDC provider in the account. An
	// account holds one provider per issuer, so pass it when another stack
	// already created one.
	//
	// Default: a new provider is created.
	ProviderArn *string
	// BootstrapQualifier is the qualifier of the account's `cdk bootstrap`.
	//
	// Default: "hnb659fds" (the CDK default).
	BootstrapQualifier *string
}

// GitHubDeployRole is an IAM role that GitHub Actions assumes through OIDC,
// without stored AWS keys. The role can do one thing: assume the roles
// `cdk bootstrap` created (deploy, file and image publishing, lookup), which
// hold the real permissions, so the CI role cannot act outside CloudFormation
// deployments.
type GitHubDeployRole struct {
	constructs.Construct
	Role awsiam.IRole
}

// NewGitHubDeployRole creates the role and, unless ProviderArn is given, the
// account's GitHub OIDC provider.
func NewGitHubDeployRole(scope constructs.Construct, id string, props *GitHubDeployRoleProps) *GitHubDeployRole {
	if props == nil || props.Repository == "" {
		panic("timmybot.NewGitHubDeployRole: Repository is required")
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	providerArn := props.ProviderArn
	if providerArn == nil {
		provider := awsiam.NewOidcProviderNative(c, jsii.String("Provider"), &awsiam.OidcProviderNativeProps{
			Url:       jsii.String("https://" + githubOIDCIssuer),
			ClientIds: jsii.Strings("sts.amazonaws.com"),
		})
		providerArn = provider.OidcProviderArn()
	}
	subject := "repo:" + props.Repository + ":environment:" + orDefault(props.Environment, "production")
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		Description: jsii.String("GitHub Actions deploys of " + props.Repository),
		AssumedBy: awsiam.NewWebIdentityPrincipal(providerArn, &map[string]interface{}{
			"StringEquals": map[string]interface{}{
				githubOIDCIssuer + ":aud": "sts.amazonaws.com",
				githubOIDCIssuer + ":sub": subject,
			},
		}),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	stack := awscdk.Stack_Of(c)
	qualifier := orDefault(props.BootstrapQualifier, "hnb659fds")
	bootstrapRoles := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("iam"),
		Region:       jsii.String(""),
		Resource:     jsii.String("role"),
		ResourceName: jsii.String("cdk-" + qualifier + "-*"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AssumeCdkBootstrapRoles"),
		Actions:   jsii.Strings("sts:AssumeRole", "sts:TagSession"),
		Resources: &[]*string{bootstrapRoles},
	}))
	// The account is a literal or <AWS::AccountId> depending on the stack's
	// environment; the rest of the finding is fixed.
	suppress(role, "AwsSolutions-IAM5",
		"The wildcard covers only the roles `cdk bootstrap` created for this qualifier (deploy, publishing, lookup); they hold the deployment permissions.",
		&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:iam::[^:]+:role\/cdk-` + regexp.QuoteMeta(qualifier) + `-\*$/`)})
	return &GitHubDeployRole{Construct: c, Role: role}
}
