package timmybot

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// NetworkProps configures Network.
type NetworkProps struct {
	// MaxAzs is the number of availability zones to spread public subnets over.
	//
	// Default: 2.
	MaxAzs *float64
	// Cidr is the VPC's IPv4 range.
	//
	// Default: "10.42.0.0/16".
	Cidr *string
	// FlowLogRetention is how long rejected-traffic flow logs are kept.
	//
	// Default: awslogs.RetentionDays_ONE_MONTH.
	FlowLogRetention awslogs.RetentionDays
}

// Network is a VPC with public subnets only: no NAT gateway and no load
// balancer, because the bot only dials out (Discord gateway, voice UDP, audio
// hosts) and a NAT gateway alone would cost several times the whole
// deployment. DynamoDB traffic stays on AWS's network through a gateway
// endpoint, which is free. The bot's security group has no inbound rules.
type Network struct {
	constructs.Construct
	// Vpc is the network the service runs in.
	Vpc awsec2.IVpc
	// ServiceSecurityGroup allows all outbound and no inbound traffic.
	ServiceSecurityGroup awsec2.ISecurityGroup
}

// NewNetwork creates the VPC, its DynamoDB gateway endpoint, a flow log of
// rejected traffic, and the service security group.
func NewNetwork(scope constructs.Construct, id string, props *NetworkProps) *Network {
	if props == nil {
		props = &NetworkProps{}
	}
	retention := props.FlowLogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_MONTH
	}
	c := constructs.NewConstruct(scope, jsii.String(id))

	flowLogs := awslogs.NewLogGroup(c, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	vpc := awsec2.NewVpc(c, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String(orDefault(props.Cidr, "10.42.0.0/16"))),
		MaxAzs:      jsii.Number(orDefault(props.MaxAzs, 2)),
		NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name:       jsii.String("Public"),
			SubnetType: awsec2.SubnetType_PUBLIC,
			CidrMask:   jsii.Number(24),
		}},
		// Restricting the default security group needs a custom-resource
		// Lambda; nothing here uses the default group.
		RestrictDefaultSecurityGroup: jsii.Bool(false),
		GatewayEndpoints: &map[string]*awsec2.GatewayVpcEndpointOptions{
			"DynamoDb": {Service: awsec2.GatewayVpcEndpointAwsService_DYNAMODB()},
		},
		// Only rejected traffic: it is what an investigation needs, and
		// accepted flows of a chatty voice connection would cost more than
		// the rest of the logs.
		FlowLogs: &map[string]*awsec2.FlowLogOptions{
			"Rejected": {
				TrafficType: awsec2.FlowLogTrafficType_REJECT,
				Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
			},
		},
	})
	sg := awsec2.NewSecurityGroup(c, jsii.String("ServiceSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("TimmyBot service: outbound only, no inbound rules"),
		AllowAllOutbound: jsii.Bool(true),
	})
	return &Network{Construct: c, Vpc: vpc, ServiceSecurityGroup: sg}
}
