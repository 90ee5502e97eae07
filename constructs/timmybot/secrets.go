package timmybot

import (
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
	// Retain keeps the key and the secrets when the stack is deleted.
	//
	// Default: true.
	Retain *bool
}

// BotSecrets holds the bot's credentials in Secrets Manager, encrypted with
// a customer-managed KMS key whose rotation is on.
//
// The Discord bot token and the application's OAuth client secret are
// created with generated placeholders that the operator replaces after the
// first deploy; the web front's cookie key is generated and kept. Account
// linking (per-user tokens) is not built yet, so neither are its secrets
// nor its permissions.
type BotSecrets struct {
	constructs.Construct
	// Key encrypts every secret of the bot.
	Key awskms.IKey
	// DiscordToken holds the bot token as a plain string.
	DiscordToken awssecretsmanager.ISecret
	// ClientSecret holds the Discord application's OAuth client secret, with
	// which the web front signs users in.
	ClientSecret awssecretsmanager.ISecret
	// WebSecret holds the key that seals the web front's session cookies:
	// 64 generated letters and digits.
	WebSecret awssecretsmanager.ISecret
	// ReadPolicy allows reading DiscordToken and decrypting it through
	// Secrets Manager; attach it to the task's execution role, which
	// injects it.
	ReadPolicy awsiam.IManagedPolicy
}

// NewBotSecrets creates the key, the secrets and the policy that reads the
// Discord token.
func NewBotSecrets(scope constructs.Construct, id string, props *BotSecretsProps) *BotSecrets {
	if props == nil {
		props = &BotSecretsProps{}
	}
	prefix := orDefault(props.NamePrefix, "timmybot")
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
	// newSecret makes one secret under the key, kept by hand rather than
	// rotated by a Lambda (rotate says how, for cdk-nag's record).
	newSecret := func(id, name, description string, generate *awssecretsmanager.SecretStringGenerator, rotate string) awssecretsmanager.ISecret {
		s := awssecretsmanager.NewSecret(c, jsii.String(id), &awssecretsmanager.SecretProps{
			SecretName:           jsii.String(prefix + "/" + name),
			Description:          jsii.String(description),
			EncryptionKey:        key,
			RemovalPolicy:        removal,
			GenerateSecretString: generate,
		})
		suppress(s, "AwsSolutions-SMG4", rotate)
		return s
	}
	// Generated values rather than literals: CloudFormation would write a
	// literal back over the operator's value whenever the resource is
	// updated, a generated one only when the generator changes.
	token := newSecret("DiscordToken", "discord-token", "Discord bot token; replace the generated value with the real token", nil,
		"Discord issues the bot token; a rotation Lambda cannot mint a new one, so it is rotated by hand (see the deploy guide).")
	client := newSecret("ClientSecret", "discord-client-secret",
		"Discord OAuth client secret; replace the generated value with the application's client secret", nil,
		"Discord issues the client secret; a rotation Lambda cannot mint a new one, so it is reset by hand (see the deploy guide).")
	web := newSecret("WebSecret", "web-secret", "Seals the web front's session cookies; generated, nothing to fill in",
		&awssecretsmanager.SecretStringGenerator{PasswordLength: jsii.Number(64), ExcludePunctuation: jsii.Bool(true)},
		"Rotating the cookie key signs everyone out; it is rotated by hand when needed (see the deploy guide).")

	stack := awscdk.Stack_Of(c)
	// An identity policy rather than a grant: a grant on the key would put
	// the service's role into this stack's key policy, and the service
	// stack already depends on this one.
	read := awsiam.NewManagedPolicy(c, jsii.String("ReadPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Read TimmyBot's Discord token (" + prefix + ")"),
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadAppSecrets"),
				Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
				Resources: &[]*string{token.SecretArn()},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("DecryptThroughSecretsManager"),
				Actions:   jsii.Strings("kms:Decrypt"),
				Resources: &[]*string{key.KeyArn()},
				Conditions: &map[string]interface{}{
					"StringEquals": map[string]interface{}{
						"kms:ViaService": "secretsmanager." + *stack.Region() + ".amazonaws.com",
					},
				},
			}),
		},
	})

	return &BotSecrets{Construct: c, Key: key, DiscordToken: token, ClientSecret: client, WebSecret: web, ReadPolicy: read}
}
