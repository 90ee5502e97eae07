package timmybot

import (
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// SecretField names a secret, or one JSON field of it, to inject into the
// container as an environment variable through ECS secrets. The execution
// role reads it with a policy from BotServiceProps.ExecutionPolicies (for
// BotSecrets, its ReadPolicy), which must also allow decrypting it.
type SecretField struct {
	Secret awssecretsmanager.ISecret
	// Field is the JSON field to inject; "" injects the whole secret string.
	Field string
}

// TableActions are the DynamoDB API operations TimmyBot's store calls on
// its tables, and so all the task role may do with them: no queries, no
// updates, no table administration, no streams. A test outside this package
// holds the list equal to the store's own (this package does not import the
// application).
var TableActions = []string{
	"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem",
	"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan",
}

// BotServiceProps configures BotService.
type BotServiceProps struct {
	// Vpc is where the task runs, in public subnets with a public IP.
	//
	// Default: none (required).
	Vpc awsec2.IVpc
	// SecurityGroup is attached to the task.
	//
	// Default: none (required).
	SecurityGroup awsec2.ISecurityGroup
	// Image is the bot's container image (linux/arm64).
	//
	// Default: none (required).
	Image awsecs.ContainerImage
	// Tables maps an environment variable to a table: the variable carries
	// the table's name and the task role may use TableActionsAllowed on it.
	//
	// Default: no tables.
	Tables map[string]awsdynamodb.ITable
	// TableActionsAllowed are the DynamoDB actions the task role may use on
	// each of Tables, for a bot whose store calls other operations.
	//
	// Default: TableActions.
	TableActionsAllowed []string
	// Secrets maps an environment variable to a secret injected by ECS when
	// the task starts; the value never appears in the task definition.
	//
	// Default: no secrets.
	Secrets map[string]SecretField
	// ExecutionPolicies are attached to the execution role, the role ECS
	// uses to pull the image and read Secrets when the task starts.
	//
	// Default: none.
	ExecutionPolicies []awsiam.IManagedPolicy
	// TaskPolicies are attached to the task role, for permissions a grant
	// cannot express.
	//
	// Default: none.
	TaskPolicies []awsiam.IManagedPolicy
	// Environment holds plain, non-secret configuration.
	//
	// Default: none.
	Environment map[string]string
	// Cpu is the task's CPU in units (1024 = one vCPU).
	//
	// Default: 256.
	Cpu *float64
	// MemoryMiB is the task's memory.
	//
	// Default: 512.
	MemoryMiB *float64
	// DesiredCount is the number of tasks. A Discord bot without sharding
	// runs exactly one.
	//
	// Default: 1.
	DesiredCount *float64
	// Spot runs the task on Fargate Spot, usually well over half cheaper.
	// An interruption stops the task with two minutes' notice and ECS starts
	// a new one when Spot capacity allows. The new task logs in to the
	// gateway again but does not rejoin voice channels: queues are kept in
	// the tables, and listeners start playback again. While Spot capacity
	// stays short no task runs; set it to false to run on demand.
	//
	// Default: true.
	Spot *bool
	// LogRetention is how long container logs are kept.
	//
	// Default: awslogs.RetentionDays_ONE_MONTH.
	LogRetention awslogs.RetentionDays
	// HealthCheckURL is fetched with curl inside the container; a non-2xx
	// answer counts as unhealthy, and three in a row make ECS replace the
	// task. It must answer 2xx while the process works, whatever the state
	// of Discord: a check that fails during a Discord outage would replace
	// a healthy task every 90 seconds. Gateway state is a metric and has
	// its own alarm (Monitoring).
	//
	// Default: "http://127.0.0.1:8080/healthz".
	HealthCheckURL *string
}

// BotService runs the bot as one ARM64 Fargate task in an ECS cluster.
//
// Deployments stop the old task before starting the new one
// (minimum healthy 0 %, maximum 100 %), so two gateway connections for the
// same shard never run at once; the circuit breaker rolls a failing
// deployment back. The service depends on the cluster's capacity-provider
// association, so CloudFormation creates the association first and deletes
// it last ("capacity provider in use" otherwise).
type BotService struct {
	constructs.Construct
	Cluster  awsecs.ICluster
	Service  awsecs.FargateService
	TaskRole awsiam.IRole
	LogGroup awslogs.ILogGroup
}

// NewBotService creates the cluster, task definition, log group and service.
func NewBotService(scope constructs.Construct, id string, props *BotServiceProps) *BotService {
	if props == nil || props.Vpc == nil || props.SecurityGroup == nil || props.Image == nil {
		panic("timmybot.NewBotService: Vpc, SecurityGroup and Image are required")
	}
	retention := props.LogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_MONTH
	}
	c := constructs.NewConstruct(scope, jsii.String(id))

	cluster := awsecs.NewCluster(c, jsii.String("Cluster"), &awsecs.ClusterProps{
		Vpc:                 props.Vpc,
		ContainerInsightsV2: awsecs.ContainerInsights_DISABLED,
	})
	suppress(cluster, "AwsSolutions-ECS4",
		"Container Insights would add several custom metrics per task at a cost comparable to the task itself; the dashboard uses the free ECS service metrics and the bot's own metrics instead.")

	logGroup := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	task := awsecs.NewFargateTaskDefinition(c, jsii.String("Task"), &awsecs.FargateTaskDefinitionProps{
		Cpu:            jsii.Number(orDefault(props.Cpu, 256)),
		MemoryLimitMiB: jsii.Number(orDefault(props.MemoryMiB, 512)),
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       awsecs.CpuArchitecture_ARM64(),
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
	})

	actions := props.TableActionsAllowed
	if len(actions) == 0 {
		actions = TableActions
	}
	env := make(map[string]*string, len(props.Environment)+len(props.Tables))
	for k, v := range props.Environment {
		env[k] = jsii.String(v)
	}
	for _, name := range sortedKeys(props.Tables) {
		t := props.Tables[name]
		env[name] = t.TableName()
		t.Grant(task.TaskRole(), *jsii.Strings(actions...)...)
	}
	secrets := make(map[string]awsecs.Secret, len(props.Secrets))
	for _, name := range sortedKeys(props.Secrets) {
		s := props.Secrets[name]
		// Referenced by ARN: ECS then grants the execution role read access
		// to the secret in this stack's policy and leaves the secret's key
		// policy alone, which would otherwise need this stack's role.
		ref := awssecretsmanager.Secret_FromSecretCompleteArn(c, jsii.String("Secret"+name), s.Secret.SecretArn())
		secrets[name] = awsecs.Secret_FromSecretsManager(ref, optionalString(s.Field))
	}
	for _, p := range props.ExecutionPolicies {
		task.ObtainExecutionRole().AddManagedPolicy(p)
	}
	for _, p := range props.TaskPolicies {
		task.TaskRole().AddManagedPolicy(p)
	}

	task.AddContainer(jsii.String("Bot"), &awsecs.ContainerDefinitionOptions{
		Image:       props.Image,
		Environment: &env,
		Secrets:     &secrets,
		Logging: awsecs.LogDrivers_AwsLogs(&awsecs.AwsLogDriverProps{
			LogGroup:     logGroup,
			StreamPrefix: jsii.String("bot"),
		}),
		HealthCheck: &awsecs.HealthCheck{
			Command:     jsii.Strings("CMD", "curl", "-fsS", "-o", "/dev/null", orDefault(props.HealthCheckURL, "http://127.0.0.1:8080/healthz")),
			Interval:    awscdk.Duration_Seconds(jsii.Number(30)),
			Timeout:     awscdk.Duration_Seconds(jsii.Number(5)),
			Retries:     jsii.Number(3),
			StartPeriod: awscdk.Duration_Seconds(jsii.Number(60)),
		},
		StopTimeout: awscdk.Duration_Seconds(jsii.Number(30)),
	})
	// Only the ECR login is granted on "*": ecr:GetAuthorizationToken has no
	// resource-level permissions. Image pulls are scoped to the repository.
	suppress(task.ObtainExecutionRole(), "AwsSolutions-IAM5",
		"ecr:GetAuthorizationToken does not support resource-level permissions; the image pull itself is limited to the image's repository.",
		"Resource::*")
	suppress(task, "AwsSolutions-ECS2",
		"The environment carries only non-secret configuration (table names, prefixes); every credential is injected as an ECS secret.")

	capacity := "FARGATE"
	if orDefault(props.Spot, true) {
		capacity = "FARGATE_SPOT"
	}
	// The association is declared here rather than through the cluster's
	// EnableFargateCapacityProviders, which adds it only at synthesis, too
	// late for the service to depend on it. It sits where that option put
	// it (cluster/"Cluster"), so its logical ID is unchanged and existing
	// stacks update it in place: replacing it would create the new one and
	// then delete the old, and the delete strips the providers from the
	// cluster.
	association := awsecs.NewCfnClusterCapacityProviderAssociations(cluster, jsii.String("Cluster"), &awsecs.CfnClusterCapacityProviderAssociationsProps{
		Cluster:           cluster.ClusterName(),
		CapacityProviders: &[]interface{}{"FARGATE", "FARGATE_SPOT"},
		DefaultCapacityProviderStrategy: &[]*awsecs.CfnClusterCapacityProviderAssociations_CapacityProviderStrategyProperty{{
			CapacityProvider: jsii.String(capacity),
			Weight:           jsii.Number(1),
		}},
	})
	service := awsecs.NewFargateService(c, jsii.String("Service"), &awsecs.FargateServiceProps{
		Cluster:        cluster,
		TaskDefinition: task,
		DesiredCount:   jsii.Number(orDefault(props.DesiredCount, 1)),
		// Stop the old task before starting the new one: Discord allows one
		// gateway session per shard, and two would both receive every event.
		MinHealthyPercent: jsii.Number(0),
		MaxHealthyPercent: jsii.Number(100),
		CircuitBreaker:    &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
		CapacityProviderStrategies: &[]*awsecs.CapacityProviderStrategy{{
			CapacityProvider: jsii.String(capacity),
			Weight:           jsii.Number(1),
		}},
		AssignPublicIp: jsii.Bool(true),
		VpcSubnets:     &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		SecurityGroups: &[]awsec2.ISecurityGroup{props.SecurityGroup},
	})
	service.Node().AddDependency(association)

	return &BotService{
		Construct: c,
		Cluster:   cluster,
		Service:   service,
		TaskRole:  task.TaskRole(),
		LogGroup:  logGroup,
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
