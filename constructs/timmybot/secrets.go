package timmybot

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// BotSecretsProps configures BotSecrets.
type BotSecretsProps struct {
	// NamePrefix starts the name of every secret, so that several
	// environments can share an account.
	//
	// Default: "timmybot".
	NamePrefix *string
	// OAuthProviders are the JSON fields of the OAuth client secret, one
	// client secret per provider.
	//
	// Default: []string{"spotify", "google", "soundcloud"}.
	OAuthProviders []string
	// Retain keeps the key and the secrets when the stack is deleted.
	//
	// Default: true.
	Retain *bool
}

// BotSecrets holds the bot's credentials in Secrets Manager, encrypted with
// a customer-managed KMS key whose rotation is on.
//
// The Discord bot token and the OAuth client secrets are created with
// placeholder values; the operator writes the real ones after the first
// deploy. Per-user OAuth tokens are secrets the bot creates at run time under
// UserTokenPrefix; UserTokenPolicy lets the bot manage exactly those and
// nothing else.
type BotSecrets struct {
	constructs.Construct
	// Key encrypts every secret of the bot, including per-user tokens.
	Key awskms.IKey
	// DiscordToken holds the bot token as a plain string.
	DiscordToken awssecretsmanager.ISecret
	// OAuthClients is a JSON object with one client secret per provider.
	OAuthClients awssecretsmanager.ISecret
	// OAuthProviders lists OAuthClients' fields.
	OAuthProviders []string
	// UserTokenPrefix is the name prefix of per-user OAuth token secrets.
	UserTokenPrefix string
	// ReadPolicy allows reading DiscordToken and OAuthClients and decrypting
	// them through Secrets Manager; attach it to the task's execution role,
	// which injects them.
	ReadPolicy awsiam.IManagedPolicy
	// UserTokenPolicy allows creating, reading, updating and deleting the
	// secrets under UserTokenPrefix, encrypted with Key; attach it to the
	// task role.
	UserTokenPolicy awsiam.IManagedPolicy
}

// NewBotSecrets creates the key, the two application secrets and the
// per-user token policy.
func NewBotSecrets(scope constructs.Construct, id string, props *BotSecretsProps) *BotSecrets {
	if props == nil {
		props = &BotSecretsProps{}
	}
	prefix := orDefault(props.NamePrefix, "timmybot")
	providers := props.OAuthProviders
	if len(providers) == 0 {
		providers = []string{"spotify", "google", "soundcloud"}
	}
	removal := awscdk.RemovalPolicy_DESTROY
	if orDefault(props.Retain, true) {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	c := constructs.NewConstruct(scope, jsii.String(id))

	key := awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts TimmyBot's secrets (" + prefix + "/*)"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})
	token := awssecretsmanager.NewSecret(c, jsii.String("DiscordToken"), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String(prefix + "/discord-token"),
		Description:   jsii.String("Discord bot token; replace the generated value with the real token"),
		EncryptionKey: key,
		RemovalPolicy: removal,
	})
	// A generated secret rather than a literal value: CloudFormation would
	// write a literal back over the operator's values whenever the resource
	// is updated, a generated one only when the generator changes.
	template, err := json.Marshal(emptyFields(providers))
	if err != nil {
		panic("timmybot.NewBotSecrets: " + err.Error())
	}
	oauth := awssecretsmanager.NewSecret(c, jsii.String("OAuthClients"), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String(prefix + "/oauth-clients"),
		Description:   jsii.String("OAuth client secrets, one JSON field per provider; empty means the provider is off"),
		EncryptionKey: key,
		RemovalPolicy: removal,
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(string(template)),
			// The generator must add one field; the bot ignores it.
			GenerateStringKey:  jsii.String("unused"),
			ExcludePunctuation: jsii.Bool(true),
		},
	})
	for _, s := range []constructs.IConstruct{token, oauth} {
		suppress(s, "AwsSolutions-SMG4",
			"Discord and the OAuth providers issue these credentials; a rotation Lambda cannot mint new ones, so they are rotated by hand (see the deploy guide).")
	}

	stack := awscdk.Stack_Of(c)
	viaSecretsManager := &map[string]interface{}{
		"StringEquals": map[string]interface{}{
			"kms:ViaService": "secretsmanager." + *stack.Region() + ".amazonaws.com",
		},
	}
	// Identity policies rather than grants: a grant on the key would put the
	// service's role into this stack's key policy, and the service stack
	// already depends on this one.
	read := awsiam.NewManagedPolicy(c, jsii.String("ReadPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Read TimmyBot's application secrets (" + prefix + ")"),
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadAppSecrets"),
				Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
				Resources: &[]*string{token.SecretArn(), oauth.SecretArn()},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("DecryptThroughSecretsManager"),
				Actions:    jsii.Strings("kms:Decrypt"),
				Resources:  &[]*string{key.KeyArn()},
				Conditions: viaSecretsManager,
			}),
		},
	})

	userPrefix := prefix + "/user-tokens/"
	userSecrets := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("secretsmanager"),
		Resource:     jsii.String("secret"),
		ResourceName: jsii.String(userPrefix + "*"),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	policy := awsiam.NewManagedPolicy(c, jsii.String("UserTokenPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Manage per-user OAuth token secrets under " + userPrefix),
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("CreateWithOwnKey"),
				Actions:   jsii.Strings("secretsmanager:CreateSecret"),
				Resources: &[]*string{userSecrets},
				Conditions: &map[string]interface{}{
					"StringEquals": map[string]interface{}{"secretsmanager:KmsKeyArn": key.KeyArn()},
				},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ManageUserTokens"),
				Actions: jsii.Strings(
					"secretsmanager:GetSecretValue",
					"secretsmanager:PutSecretValue",
					"secretsmanager:DescribeSecret",
					"secretsmanager:DeleteSecret",
				),
				Resources: &[]*string{userSecrets},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("UseKeyThroughSecretsManager"),
				Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
				Resources:  &[]*string{key.KeyArn()},
				Conditions: viaSecretsManager,
			}),
		},
	})
	suppress(policy, "AwsSolutions-IAM5",
		"Per-user token secrets are created at run time, one per linked account; the wildcard is limited to the "+userPrefix+" name prefix.")

	return &BotSecrets{
		Construct:       c,
		Key:             key,
		DiscordToken:    token,
		OAuthClients:    oauth,
		OAuthProviders:  providers,
		ReadPolicy:      read,
		UserTokenPrefix: userPrefix,
		UserTokenPolicy: policy,
	}
}

func emptyFields(keys []string) map[string]string {
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k] = ""
	}
	return m
}
