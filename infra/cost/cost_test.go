package cost_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/iddv/timmybot/infra/cost"
)

// testPrices are round numbers so that expected costs can be worked out by
// hand in the test.
func testPrices() cost.Prices {
	price := func(usd, free float64) cost.Price { return cost.Price{USD: usd, Source: "test", FreePerMonth: free} }
	return cost.Prices{
		Region: "test-1", Currency: "USD", Date: "2026-01", HoursPerMonth: 100,
		Items: map[string]cost.Price{
			"fargate.arm64.vcpuHour":       price(0.04, 0),
			"fargate.arm64.gbHour":         price(0.004, 0),
			"fargate.x86_64.vcpuHour":      price(0.05, 0),
			"fargate.x86_64.gbHour":        price(0.005, 0),
			"vpc.publicIPv4Hour":           price(0.01, 0),
			"vpc.natGatewayHour":           price(0.05, 0),
			"elb.albHour":                  price(0.03, 0),
			"kms.keyMonth":                 price(1, 0),
			"kms.rotationMonth":            price(1, 0),
			"ecr.storageGBMonth":           price(0.1, 0),
			"logs.storageGBMonth":          price(0.05, 0),
			"secretsmanager.secretMonth":   price(0.5, 0),
			"cloudwatch.dashboardMonth":    price(3, 3),
			"cloudwatch.alarmMetricMonth":  price(0.1, 2),
			"cloudwatch.customMetricMonth": price(0.3, 1),
			"logs.ingestGB":                price(0.5, 5),
			"dynamodb.onDemandIdle":        price(0, 0),
			"lambda.idleMonth":             price(0, 0),
		},
		Assumptions: map[string]cost.Assumption{
			"logs.idleGBPerGroup":         {Value: 0.2, Why: "test"},
			"logs.storedShare":            {Value: 0.5, Why: "test"},
			"flowlogs.GBPerPublicAddress": {Value: 1, Why: "test"},
			"fargate.spotDiscount":        {Value: 0.5, Why: "test"},
			"kms.rotationsBilled":         {Value: 2, Why: "test"},
			"ecr.imageGB":                 {Value: 0.5, Why: "test"},
			"ecr.imagesKept":              {Value: 4, Why: "test"},
		},
	}
}

func TestEstimate(t *testing.T) {
	// GIVEN two templates with one resource of each priced kind
	templates, err := cost.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	// WHEN they are priced
	r := cost.Estimate(templates, testPrices())

	// THEN each line is quantity × price × hours where the price is hourly:
	// a task of 0.5 vCPU / 1 GB ARM64 costs 100 h × (0.5×0.04 + 1×0.004) = 2.40
	// on demand; half the weight is Spot at the assumed 50 % off, so 2.40 × 0.75 = 1.80.
	want := []cost.Line{
		{Stack: "Ops", Item: "KMS customer managed key", Quantity: 1, Unit: "keys", PriceKey: "kms.keyMonth", USD: 1},
		// the rotating key's first two rotations, USD 1 each
		{Stack: "Ops", Item: "KMS key rotations, billed from the second year (assumed)", Quantity: 2, Unit: "rotations", PriceKey: "kms.rotationMonth", USD: 2},
		{Stack: "Ops", Item: "Secrets Manager secret", Quantity: 2, Unit: "secrets", PriceKey: "secretsmanager.secretMonth", USD: 1},
		{Stack: "Ops", Item: "CloudWatch dashboard", Quantity: 1, Unit: "dashboards", PriceKey: "cloudwatch.dashboardMonth", USD: 3},
		// Simple 1 + Cpu 1 + Math 2 (the expression is free)
		{Stack: "Ops", Item: "CloudWatch alarm metrics", Quantity: 4, Unit: "metrics", PriceKey: "cloudwatch.alarmMetricMonth", USD: 0.4},
		// Bot/Up, Bot/Errors, Bot/Handled from alarms, Bot/Voice from the dashboard
		{Stack: "Ops", Item: "custom metrics published by the bot", Quantity: 4, Unit: "metrics", PriceKey: "cloudwatch.customMetricMonth", USD: 1.2},
		{Stack: "Ops", Item: "DynamoDB on-demand table (idle)", Quantity: 2, Unit: "tables", PriceKey: "dynamodb.onDemandIdle", USD: 0},
		// the flow log gets 1 GB of scans for each of the Svc stack's 2
		// public addresses; the other group 0.2 GB
		{Stack: "Ops", Item: "log ingestion at idle, with flow logs of scans on 2 public addresses (assumed)", Quantity: 2.2, Unit: "GB", PriceKey: "logs.ingestGB", USD: 1.1},
		// half of it stored: 2 GB × 60 days + 0.2 GB × 365 days (no retention)
		{Stack: "Ops", Item: "log storage over the retention period (assumed)", Quantity: 2 + 0.2*365.0/30*0.5, Unit: "GB", PriceKey: "logs.storageGBMonth", USD: (2 + 0.2*365.0/30*0.5) * 0.05},
		{Stack: "Svc", Item: "Fargate task arm64 0.5 vCPU / 1 GB, 50 % on Spot at an assumed 50 % off", Quantity: 2, Unit: "tasks", PriceKey: "fargate.arm64.vcpuHour", USD: 3.6},
		{Stack: "Svc", Item: "public IPv4 address per task", Quantity: 2, Unit: "tasks", PriceKey: "vpc.publicIPv4Hour", USD: 2},
		// 4 images of 0.5 GB
		{Stack: "Svc", Item: "container images in CDK's asset repository (assumed)", Quantity: 2, Unit: "GB", PriceKey: "ecr.storageGBMonth", USD: 0.2},
		{Stack: "Svc", Item: "NAT gateway", Quantity: 1, Unit: "each", PriceKey: "vpc.natGatewayHour", USD: 5},
		{Stack: "Svc", Item: "Lambda function behind a Function URL (idle: billed per request)", Quantity: 1, Unit: "functions", PriceKey: "lambda.idleMonth", USD: 0},
		{Stack: "Svc", Item: "log ingestion at idle (assumed)", Quantity: 0.2, Unit: "GB", PriceKey: "logs.ingestGB", USD: 0.1},
		{Stack: "Svc", Item: "log storage over the retention period (assumed)", Quantity: 0.1, Unit: "GB", PriceKey: "logs.storageGBMonth", USD: 0.005},
	}
	approx := cmpopts.EquateApprox(0, 1e-9)
	if diff := cmp.Diff(want, r.Lines, approx); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}

	// AND the totals add up; the free tier removes the dashboard (3 free),
	// 2 of 4 alarm metrics, 1 of 4 custom metrics and all 2.4 GB of log
	// ingestion (5 free) once. An extra task adds its compute, its address
	// and the 1 GB of scans the address draws; Spot off costs the 2 tasks'
	// discount, 2 × 0.60
	ops := 1 + 2 + 1 + 3 + 0.4 + 1.2 + 1.1 + (2+0.2*365.0/30*0.5)*0.05
	svc := 3.6 + 2 + 0.2 + 5 + 0.1 + 0.005
	got := map[string]float64{
		"idle": r.Idle, "free": r.IdleAfterFreeTier, "extra": r.PerExtraTask, "spotOff": r.SpotFallback,
		"Ops": r.StackTotal("Ops"), "Svc": r.StackTotal("Svc"),
	}
	wantTotals := map[string]float64{
		"idle": ops + svc, "free": ops + svc - 3 - 0.2 - 0.3 - 1.2, "extra": 1.8 + 1 + 1*(0.5+0.05*0.5), "spotOff": 1.2,
		"Ops": ops, "Svc": svc,
	}
	if diff := cmp.Diff(wantTotals, got, approx); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
	// AND what it cannot price well is named
	wantWarnings := []string{
		"Ops/Forever: logs never expire; storage grows every month and is priced for one year",
		"Ops/Old: provisioned capacity is not priced",
	}
	if diff := cmp.Diff(wantWarnings, r.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestWrite(t *testing.T) {
	templates, err := cost.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := cost.Estimate(templates, testPrices()).Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Monthly cost in test-1, USD prices of 2026-01",
		"idle, list prices:                         USD  20.77 / month",
		"idle, after CloudWatch's always-free tier: USD  16.07 / month",
		"each extra running task:                  USD   3.32 / month",
		"more when Spot is off (on demand):        USD   1.20 / month",
		"Svc    Fargate task arm64 0.5 vCPU / 1 GB, 50 % on Spot at an assumed 50 % off",
		"assumed logs.idleGBPerGroup = 0.2: test",
		"assumed fargate.spotDiscount = 0.5: test",
		"assumed flowlogs.GBPerPublicAddress = 1: test",
		"warning: Ops/Old: provisioned capacity is not priced",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDefaultPricesCoverEveryKey(t *testing.T) {
	// GIVEN the committed price table
	p, err := cost.DefaultPrices()
	if err != nil {
		t.Fatal(err)
	}
	// THEN it has the keys and assumptions the estimate uses, each with a
	// source or a reason
	for key := range testPrices().Assumptions {
		if a, ok := p.Assumptions[key]; !ok || a.Why == "" || a.Value <= 0 {
			t.Errorf("prices.json assumption %s = %+v, want a positive value and its reason", key, a)
		}
	}
	for key := range testPrices().Items {
		item, ok := p.Items[key]
		if !ok {
			t.Errorf("prices.json lacks %s", key)
			continue
		}
		if !strings.HasPrefix(item.Source, "https://aws.amazon.com/") || math.IsNaN(item.USD) || item.USD < 0 {
			t.Errorf("%s = %+v: want a non-negative price and its AWS pricing page", key, item)
		}
	}
	if p.Region != "eu-central-1" || p.Date == "" || p.HoursPerMonth != 730 {
		t.Errorf("table header = %q %q %v", p.Region, p.Date, p.HoursPerMonth)
	}
}

func TestReadDirWithoutTemplates(t *testing.T) {
	if _, err := cost.ReadDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "make synth") {
		t.Errorf("err = %v, want a hint to run make synth", err)
	}
}
