package timmybot

import (
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
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
// The Discord bot token, the application's OAuth client secret and the
// link providers' OAuth clients are created with generated placeholders
// that the operator replaces after the first deploy; the web front's cookie
// key is generated and kept. Users' linked accounts are secrets too, which
// the bot and the web front create at run time under LinkSecretPrefix with
// LinkTokenPolicy.
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
	// LinkClients holds the OAuth clients of the services users link, as
	// JSON: {"spotify": {"client_id": "...", "client_secret": "..."},
	// "youtube": {...}, "soundcloud": {...}}. A service left without a
	// client_id stays off; the generated "_generated" field is ignored.
	LinkClients awssecretsmanager.ISecret
	// LinkSecretPrefix ("<NamePrefix>/links") starts the name of every
	// secret holding a user's linked account.
	LinkSecretPrefix string
	// ReadPolicy allows reading DiscordToken and LinkClients and decrypting
	// them through Secrets Manager; attach it to the task's execution role,
	// which injects them.
	ReadPolicy awsiam.IManagedPolicy
	// LinkTokenPolicy allows creating, reading, writing and deleting the
	// secrets under LinkSecretPrefix, and no other, with Key through
	// Secrets Manager only; attach it to exactly the roles that keep users'
	// linked accounts (the task role and the web front's).
	LinkTokenPolicy awsiam.IManagedPolicy
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

	// The fields are a template for the operator to fill; the generated
	// field only keeps CloudFormation from writing the template back.
	linkClients := newSecret("LinkClients", "link-clients",
		"OAuth clients of the services users link (JSON); fill in client_id and client_secret of each service to offer",
		&awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(`{"spotify":{"client_id":"","client_secret":""},"youtube":{"client_id":"","client_secret":""},"soundcloud":{"client_id":"","client_secret":""}}`),
			GenerateStringKey:    jsii.String("_generated"),
			ExcludePunctuation:   jsii.Bool(true),
		},
		"The providers issue the client secrets; a rotation Lambda cannot mint new ones, so they are reset by hand (see the deploy guide).")

	stack := awscdk.Stack_Of(c)
	viaSecretsManager := &map[string]interface{}{
		"StringEquals": map[string]interface{}{
			"kms:ViaService": "secretsmanager." + *stack.Region() + ".amazonaws.com",
		},
	}
	// An identity policy rather than a grant: a grant on the key would put
	// the service's role into this stack's key policy, and the service
	// stack already depends on this one.
	read := awsiam.NewManagedPolicy(c, jsii.String("ReadPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Read TimmyBot's Discord token and link clients (" + prefix + ")"),
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadAppSecrets"),
				Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
				Resources: &[]*string{token.SecretArn(), linkClients.SecretArn()},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("DecryptThroughSecretsManager"),
				Actions:    jsii.Strings("kms:Decrypt"),
				Resources:  &[]*string{key.KeyArn()},
				Conditions: viaSecretsManager,
			}),
		},
	})

	linkPrefix := prefix + "/links"
	linkSecrets := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("secretsmanager"),
		Resource:     jsii.String("secret"),
		ResourceName: jsii.String(linkPrefix + "/*"),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	links := awsiam.NewManagedPolicy(c, jsii.String("LinkTokenPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Keep users' linked accounts as TimmyBot secrets (" + linkPrefix + "/*)"),
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("KeepLinkSecrets"),
				Actions:   jsii.Strings("secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue", "secretsmanager:DeleteSecret"),
				Resources: &[]*string{linkSecrets},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("EncryptThroughSecretsManager"),
				Actions:    jsii.Strings("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"),
				Resources:  &[]*string{key.KeyArn()},
				Conditions: viaSecretsManager,
			}),
		},
	})
	// One secret per linked account, made at run time: their names are
	// known only by their prefix.
	suppress(links, "AwsSolutions-IAM5",
		"Each user's linked account is a secret the bot creates at run time; the policy is limited to the names under the link prefix.",
		cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:secretsmanager:.*:secret:` + regexp.QuoteMeta(linkPrefix) + `\/\*$/`)})

	return &BotSecrets{
		Construct: c, Key: key, DiscordToken: token, ClientSecret: client, WebSecret: web, LinkClients: linkClients,
		LinkSecretPrefix: linkPrefix, ReadPolicy: read, LinkTokenPolicy: links,
	}
}
