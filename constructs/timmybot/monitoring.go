package timmybot

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// MetricNames are the CloudWatch names under which the bot publishes its
// metrics. The bot defines them; callers pass the bot's values here because
// this package does not import the application.
type MetricNames struct {
	Namespace string
	// InteractionsHandled counts handled interactions (sum).
	InteractionsHandled string
	// InteractionErrors counts interactions that ended in an error (sum).
	InteractionErrors string
	// InteractionLatency is the time to answer an interaction, in ms.
	InteractionLatency string
	// GatewayConnected is 1 while the gateway session is up, else 0.
	GatewayConnected string
	// ActiveVoiceConnections is the number of voice channels joined.
	ActiveVoiceConnections string
}

// MonitoringProps configures Monitoring.
type MonitoringProps struct {
	// Service is the bot's ECS service, for CPU and memory.
	//
	// Default: none (required).
	Service awsecs.IBaseService
	// Metrics names the bot's own metrics.
	//
	// Default: none (required; every name must be set).
	Metrics MetricNames
	// AlarmEmail subscribes an address to the alarm topic; the recipient
	// confirms the subscription by e-mail.
	//
	// Default: no subscription.
	AlarmEmail *string
	// ErrorRatePercent is the share of failed interactions that raises the
	// error-rate alarm.
	//
	// Default: 5.
	ErrorRatePercent *float64
	// GatewayDownMinutes is how long the gateway may stay disconnected
	// before the "no gateway" alarm; a multiple of 5.
	//
	// Default: 15.
	GatewayDownMinutes *float64
	// DesiredCount is the service's desired number of tasks. Above 0, the
	// "no running task" alarm fires when no task has run for 10 minutes, as
	// when Fargate Spot has no capacity; 0 (stopped on purpose) creates no
	// such alarm.
	//
	// Default: 1.
	DesiredCount *float64
}

// Monitoring is the bot's dashboard, its alarms and the SNS topic they
// notify. The topic's policy, which replaces SNS's default one, lets
// CloudWatch alarms of this account publish and refuses every publisher
// without TLS.
//
// "No gateway" treats missing data as breaching: when no task runs, nothing
// publishes the gateway metric, so the same alarm covers a stopped service.
// "No running task" reads the sample count of the service's CPU metric,
// which ECS publishes every minute while a task runs, without Container
// Insights; the count is samples, not tasks, so the alarm tells none from
// some, which is what a single-task bot needs.
type Monitoring struct {
	constructs.Construct
	Topic     awssns.ITopic
	Alarms    []awscloudwatch.Alarm
	Dashboard awscloudwatch.Dashboard
}

// NewMonitoring creates the topic, the alarms and the dashboard.
func NewMonitoring(scope constructs.Construct, id string, props *MonitoringProps) *Monitoring {
	if props == nil || props.Service == nil {
		panic("timmybot.NewMonitoring: Service is required")
	}
	m := props.Metrics
	for _, n := range []string{m.Namespace, m.InteractionsHandled, m.InteractionErrors, m.InteractionLatency, m.GatewayConnected, m.ActiveVoiceConnections} {
		if n == "" {
			panic("timmybot.NewMonitoring: every metric name is required")
		}
	}
	c := constructs.NewConstruct(scope, jsii.String(id))

	topic := awssns.NewTopic(c, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String("TimmyBot alarms"),
		EnforceSSL:  jsii.Bool(true),
	})
	suppress(topic, "AwsSolutions-SNS2",
		"Alarm notifications carry no secrets; CloudWatch cannot publish to a topic under the AWS-managed SNS key, and a customer key for it would cost more than the topic.")
	// Setting any statement replaces the topic's default policy, which was
	// what let CloudWatch publish; without this statement no alarm would
	// ever be delivered.
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]interface{}{
			"StringEquals": map[string]interface{}{"aws:SourceAccount": awscdk.Stack_Of(c).Account()},
		},
	}))
	if props.AlarmEmail != nil && *props.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(props.AlarmEmail, nil))
	}

	five := awscdk.Duration_Minutes(jsii.Number(5))
	app := func(name, stat string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(m.Namespace), MetricName: jsii.String(name),
			Statistic: jsii.String(stat), Period: five,
		})
	}
	ecs := func(name, stat string, period awscdk.Duration) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:  jsii.String("AWS/ECS"),
			MetricName: jsii.String(name),
			DimensionsMap: &map[string]*string{
				"ClusterName": props.Service.Cluster().ClusterName(),
				"ServiceName": props.Service.ServiceName(),
			},
			Statistic: jsii.String(stat), Period: period,
		})
	}
	handled := app(m.InteractionsHandled, "Sum")
	errs := app(m.InteractionErrors, "Sum")
	latency := app(m.InteractionLatency, "p95")
	gateway := app(m.GatewayConnected, "Maximum")
	voice := app(m.ActiveVoiceConnections, "Maximum")
	cpu, mem := ecs("CPUUtilization", "Average", five), ecs("MemoryUtilization", "Average", five)
	runningTasks := ecs("CPUUtilization", "SampleCount", awscdk.Duration_Minutes(jsii.Number(1)))
	errorRate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String("IF(handled > 0, 100 * errors / handled, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{"handled": handled, "errors": errs},
		Label:        jsii.String("Error rate (%)"),
		Period:       five,
	})

	action := awscloudwatchactions.NewSnsAction(topic)
	alarm := func(id, description string, metric awscloudwatch.IMetric, op awscloudwatch.ComparisonOperator, threshold, periods float64, missing awscloudwatch.TreatMissingData) awscloudwatch.Alarm {
		a := awscloudwatch.NewAlarm(c, jsii.String(id), &awscloudwatch.AlarmProps{
			Metric:             metric,
			AlarmDescription:   jsii.String(description),
			ComparisonOperator: op,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(periods),
			TreatMissingData:   missing,
		})
		a.AddAlarmAction(action)
		a.AddOkAction(action)
		return a
	}
	gatewayMinutes := orDefault(props.GatewayDownMinutes, 15)
	if gatewayMinutes < 5 || int(gatewayMinutes)%5 != 0 {
		panic("timmybot.NewMonitoring: GatewayDownMinutes must be a positive multiple of 5")
	}
	alarms := []awscloudwatch.Alarm{
		alarm("NoGateway", fmt.Sprintf("The bot has had no gateway connection for %g minutes, or no task is running.", gatewayMinutes),
			gateway, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, 1, gatewayMinutes/5, awscloudwatch.TreatMissingData_BREACHING),
		alarm("ErrorRate", "More interactions than the threshold end in an error.",
			errorRate, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, orDefault(props.ErrorRatePercent, 5), 2, awscloudwatch.TreatMissingData_NOT_BREACHING),
		alarm("SlowInteractions", "p95 interaction latency nears Discord's 3-second answer window.",
			latency, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, 2500, 2, awscloudwatch.TreatMissingData_NOT_BREACHING),
		alarm("HighCpu", "The task's CPU has stayed above 80 % for 15 minutes.",
			cpu, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, 80, 3, awscloudwatch.TreatMissingData_NOT_BREACHING),
		alarm("HighMemory", "The task's memory has stayed above 85 % for 15 minutes.",
			mem, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, 85, 3, awscloudwatch.TreatMissingData_NOT_BREACHING),
	}
	if orDefault(props.DesiredCount, 1) > 0 {
		alarms = append(alarms, alarm("NoRunningTask",
			"No task has run for 10 minutes although the service wants one: Fargate Spot may have no capacity (see the deploy guide to run on demand).",
			runningTasks, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, 1, 10, awscloudwatch.TreatMissingData_BREACHING))
	}

	graph := func(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &metrics, Width: jsii.Number(12),
		})
	}
	alarmWidgets := make([]interfacesawscloudwatch.IAlarmRef, len(alarms))
	for i, a := range alarms {
		alarmWidgets[i] = a
	}
	dashboard := awscloudwatch.NewDashboard(c, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		Widgets: &[]*[]awscloudwatch.IWidget{
			{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
				Title: jsii.String("Alarms"), Alarms: &alarmWidgets, Width: jsii.Number(24),
			})},
			{graph("Interactions", handled, errs), graph("Error rate (%)", errorRate)},
			{graph("Interaction latency p95 (ms)", latency), graph("Gateway connected / voice connections", gateway, voice)},
			{graph("CPU and memory (%)", cpu, mem), graph("Task metric samples (0: no task running)", runningTasks)},
		},
	})

	return &Monitoring{Construct: c, Topic: topic, Alarms: alarms, Dashboard: dashboard}
}
