// Package cost estimates the monthly AWS cost of synthesized CloudFormation
// templates from a small committed price table (prices.json: region, date,
// and the source of every price). It prices what the templates decide at
// idle — running tasks, public addresses, keys and their rotations, secrets,
// dashboards, alarms, custom metrics, log ingestion and storage, flow logs of
// the scans every public address receives, the container image in ECR — and
// the cost of each extra running task.
//
// Where a template does not say how much (log volume, image size, the Spot
// discount), the figure is an assumption in prices.json with its reason,
// and the report prints both. It does not call AWS: the table is updated by
// hand from the pricing pages it cites. Usage-driven charges (requests, data
// transfer) are zero at idle and out of scope.
package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

//go:embed prices.json
var pricesJSON []byte

// Price is one entry of the price table.
type Price struct {
	USD    float64 `json:"usd"`
	Source string  `json:"source"`
	// FreePerMonth is the quantity AWS's always-free tier covers each month
	// in an account; it is applied once, to the total.
	FreePerMonth float64 `json:"freePerMonth"`
}

// Assumption is a usage figure the estimate needs but no template states.
type Assumption struct {
	Value float64 `json:"value"`
	Why   string  `json:"why"`
}

// Prices is the committed price table.
type Prices struct {
	Region        string                `json:"region"`
	Currency      string                `json:"currency"`
	Date          string                `json:"date"`
	HoursPerMonth float64               `json:"hoursPerMonth"`
	Items         map[string]Price      `json:"prices"`
	Assumptions   map[string]Assumption `json:"assumptions"`
}

// DefaultPrices returns the committed table.
func DefaultPrices() (Prices, error) {
	var p Prices
	if err := json.Unmarshal(pricesJSON, &p); err != nil {
		return Prices{}, fmt.Errorf("parsing prices.json: %w", err)
	}
	return p, nil
}

// assume returns an assumption's value; like usd, a missing key is a bug.
func (p Prices) assume(key string) float64 {
	a, ok := p.Assumptions[key]
	if !ok {
		panic("cost: no assumption " + key)
	}
	return a.Value
}

func (p Prices) usd(key string) float64 {
	item, ok := p.Items[key]
	if !ok {
		// The table and this package ship together; a missing key is a bug
		// caught by the tests, not a runtime condition.
		panic("cost: no price for " + key)
	}
	return item.USD
}

// Template is one stack's CloudFormation template.
type Template struct {
	Stack     string
	Resources map[string]Resource
}

// Resource is one CloudFormation resource.
type Resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

// ReadDir reads every *.template.json in a cloud assembly directory
// (cdk.out); the stack name is the file name without the suffix.
func ReadDir(dir string) ([]Template, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.template.json"))
	if err != nil {
		return nil, fmt.Errorf("listing templates: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *.template.json in %s: run make synth first", dir)
	}
	sort.Strings(files)
	out := make([]Template, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading template: %w", err)
		}
		t, err := ParseTemplate(strings.TrimSuffix(filepath.Base(f), ".template.json"), b)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// ParseTemplate decodes one template.
func ParseTemplate(stack string, data []byte) (Template, error) {
	var doc struct {
		Resources map[string]Resource `json:"Resources"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return Template{}, fmt.Errorf("parsing template of %s: %w", stack, err)
	}
	return Template{Stack: stack, Resources: doc.Resources}, nil
}

// Line is one priced item of one stack.
type Line struct {
	Stack    string
	Item     string
	Quantity float64
	Unit     string
	// PriceKey names the price-table entry; Quantity is in its unit.
	PriceKey string
	USD      float64
}

// Report is the estimate of a set of templates.
type Report struct {
	Prices Prices
	Lines  []Line
	// Idle is the monthly cost of the deployment as synthesized, at list
	// prices, with no usage beyond the assumptions.
	Idle float64
	// IdleAfterFreeTier subtracts the always-free allowances once.
	IdleAfterFreeTier float64
	// PerExtraTask is the monthly cost of one more running task.
	PerExtraTask float64
	// SpotFallback is what the month costs more when the Spot tasks run on
	// demand instead (Spot capacity short, and Spot switched off).
	SpotFallback float64
	// Warnings name resources the estimate could not price.
	Warnings []string
}

// StackTotal sums the lines of one stack.
func (r Report) StackTotal(stack string) float64 {
	var sum float64
	for _, l := range r.Lines {
		if l.Stack == stack {
			sum += l.USD
		}
	}
	return sum
}

// Estimate prices the templates.
func Estimate(templates []Template, p Prices) Report {
	r := Report{Prices: p}
	add := func(stack, item string, qty float64, unit, key string, usd float64) {
		r.Lines = append(r.Lines, Line{Stack: stack, Item: item, Quantity: qty, Unit: unit, PriceKey: key, USD: usd})
	}
	monthly := func(stack, item string, count int, unit, key string) {
		if count > 0 {
			add(stack, item, float64(count), unit, key, float64(count)*p.usd(key))
		}
	}
	addresses := publicAddresses(templates)
	flowGB := addresses * p.assume("flowlogs.GBPerPublicAddress")
	for _, t := range templates {
		counts := map[string]int{}
		rotating := 0
		var logIngest, logStored float64
		flowGroups := flowLogGroups(t)
		metrics := map[string]bool{}
		alarmMetrics := 0
		for _, id := range sortedIDs(t.Resources) {
			res := t.Resources[id]
			counts[res.Type]++
			switch res.Type {
			case "AWS::ECS::Service":
				task, ok := taskDefinition(t, res)
				if !ok {
					r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: task definition not in the same template; not priced", t.Stack, id))
					continue
				}
				desired := number(res.Properties["DesiredCount"], 1)
				perTask, onDemand := fargateTaskMonth(p, task, res)
				item := fmt.Sprintf("Fargate task %s", task.describe())
				if share := spotShare(res); share > 0 {
					item += fmt.Sprintf(", %.0f %% on Spot at an assumed %.0f %% off", 100*share, 100*p.assume("fargate.spotDiscount"))
				}
				add(t.Stack, item, desired, "tasks", task.priceKey(), desired*perTask)
				r.PerExtraTask += perTask
				r.SpotFallback += desired * (onDemand - perTask)
				if publicIP(res) {
					ip := p.HoursPerMonth * p.usd("vpc.publicIPv4Hour")
					add(t.Stack, "public IPv4 address per task", desired, "tasks", "vpc.publicIPv4Hour", desired*ip)
					// Each address draws its own scans into the flow log.
					scans := p.assume("flowlogs.GBPerPublicAddress")
					r.PerExtraTask += ip + scans*(p.usd("logs.ingestGB")+p.usd("logs.storageGBMonth")*p.assume("logs.storedShare"))
				}
				if task.assetImage {
					gb := p.assume("ecr.imageGB") * p.assume("ecr.imagesKept")
					add(t.Stack, "container images in CDK's asset repository (assumed)", gb, "GB", "ecr.storageGBMonth", gb*p.usd("ecr.storageGBMonth"))
				}
			case "AWS::KMS::Key":
				if res.Properties["EnableKeyRotation"] == true {
					rotating++
				}
			case "AWS::Logs::LogGroup":
				gb := p.assume("logs.idleGBPerGroup")
				if flowGroups[id] {
					gb = flowGB
				}
				logIngest += gb
				days, ok := res.Properties["RetentionInDays"]
				if !ok {
					r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: logs never expire; storage grows every month and is priced for one year", t.Stack, id))
				}
				logStored += gb * number(days, 365) / 30 * p.assume("logs.storedShare")
			case "AWS::CloudWatch::Alarm":
				alarmMetrics += alarmMetricCount(res)
				for _, m := range alarmCustomMetrics(res) {
					metrics[m] = true
				}
			case "AWS::CloudWatch::Dashboard":
				for _, m := range dashboardCustomMetrics(res) {
					metrics[m] = true
				}
			case "AWS::DynamoDB::Table":
				if mode, _ := res.Properties["BillingMode"].(string); mode != "PAY_PER_REQUEST" {
					r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: provisioned capacity is not priced", t.Stack, id))
				}
			}
		}
		hour := func(item string, count int, key string) {
			if count > 0 {
				add(t.Stack, item, float64(count), "each", key, float64(count)*p.HoursPerMonth*p.usd(key))
			}
		}
		hour("NAT gateway", counts["AWS::EC2::NatGateway"], "vpc.natGatewayHour")
		hour("load balancer", counts["AWS::ElasticLoadBalancingV2::LoadBalancer"], "elb.albHour")
		monthly(t.Stack, "KMS customer managed key", counts["AWS::KMS::Key"], "keys", "kms.keyMonth")
		if rotating > 0 {
			n := float64(rotating) * p.assume("kms.rotationsBilled")
			add(t.Stack, "KMS key rotations, billed from the second year (assumed)", n, "rotations", "kms.rotationMonth", n*p.usd("kms.rotationMonth"))
		}
		monthly(t.Stack, "Secrets Manager secret", counts["AWS::SecretsManager::Secret"], "secrets", "secretsmanager.secretMonth")
		monthly(t.Stack, "CloudWatch dashboard", counts["AWS::CloudWatch::Dashboard"], "dashboards", "cloudwatch.dashboardMonth")
		monthly(t.Stack, "CloudWatch alarm metrics", alarmMetrics, "metrics", "cloudwatch.alarmMetricMonth")
		monthly(t.Stack, "custom metrics published by the bot", len(metrics), "metrics", "cloudwatch.customMetricMonth")
		// Priced to show that it costs nothing at idle: requests and
		// GB-seconds only, capped by the function's reserved concurrency.
		monthly(t.Stack, "Lambda function behind a Function URL (idle: billed per request)", counts["AWS::Lambda::Function"], "functions", "lambda.idleMonth")
		monthly(t.Stack, "DynamoDB on-demand table (idle)", counts["AWS::DynamoDB::Table"], "tables", "dynamodb.onDemandIdle")
		if logIngest > 0 {
			item := "log ingestion at idle (assumed)"
			if len(flowGroups) > 0 {
				item = fmt.Sprintf("log ingestion at idle, with flow logs of scans on %g public addresses (assumed)", addresses)
			}
			add(t.Stack, item, logIngest, "GB", "logs.ingestGB", logIngest*p.usd("logs.ingestGB"))
			add(t.Stack, "log storage over the retention period (assumed)", logStored, "GB", "logs.storageGBMonth", logStored*p.usd("logs.storageGBMonth"))
		}
	}
	r.Idle = sumUSD(r.Lines)
	r.IdleAfterFreeTier = r.Idle - freeTier(r.Lines, p)
	return r
}

// freeTier is the value of the always-free allowances, applied once per
// price key to the whole deployment's quantity.
func freeTier(lines []Line, p Prices) float64 {
	qty := map[string]float64{}
	usd := map[string]float64{}
	for _, l := range lines {
		qty[l.PriceKey] += l.Quantity
		usd[l.PriceKey] += l.USD
	}
	var saved float64
	for key, q := range qty {
		free := p.Items[key].FreePerMonth
		if free <= 0 || q == 0 {
			continue
		}
		saved += usd[key] * math.Min(free, q) / q
	}
	return saved
}

func sumUSD(lines []Line) float64 {
	var s float64
	for _, l := range lines {
		s += l.USD
	}
	return s
}

type task struct {
	vcpu, gb float64
	arch     string
	// assetImage is set when the task runs an image the CDK built and
	// pushed to its asset repository at deploy time.
	assetImage bool
}

func (t task) describe() string {
	return fmt.Sprintf("%s %.2g vCPU / %.2g GB", strings.ToLower(t.arch), t.vcpu, t.gb)
}

func (t task) priceKey() string { return "fargate." + strings.ToLower(t.arch) + ".vcpuHour" }

// taskDefinition finds the Fargate task definition a service refers to.
func taskDefinition(t Template, svc Resource) (task, bool) {
	ref, _ := svc.Properties["TaskDefinition"].(map[string]any)
	id, _ := ref["Ref"].(string)
	def, ok := t.Resources[id]
	if !ok || def.Type != "AWS::ECS::TaskDefinition" {
		return task{}, false
	}
	arch := "X86_64"
	if rp, ok := def.Properties["RuntimePlatform"].(map[string]any); ok {
		if a, ok := rp["CpuArchitecture"].(string); ok {
			arch = a
		}
	}
	images, err := json.Marshal(def.Properties["ContainerDefinitions"])
	return task{
		vcpu:       number(def.Properties["Cpu"], 0) / 1024,
		gb:         number(def.Properties["Memory"], 0) / 1024,
		arch:       arch,
		assetImage: err == nil && strings.Contains(string(images), "container-assets"),
	}, true
}

// fargateTaskMonth is one task's monthly compute price, with the assumed
// Spot discount for the share of tasks the service places on Fargate Spot,
// and the same task's price on demand.
func fargateTaskMonth(p Prices, t task, svc Resource) (price, onDemand float64) {
	arch := strings.ToLower(t.arch)
	hourly := t.vcpu*p.usd("fargate."+arch+".vcpuHour") + t.gb*p.usd("fargate."+arch+".gbHour")
	onDemand = p.HoursPerMonth * hourly
	return onDemand * (1 - spotShare(svc)*p.assume("fargate.spotDiscount")), onDemand
}

// spotShare is the weight share of FARGATE_SPOT in the capacity provider
// strategy (0 for the FARGATE launch type).
func spotShare(svc Resource) float64 {
	strategy, _ := svc.Properties["CapacityProviderStrategy"].([]any)
	var spot, total float64
	for _, s := range strategy {
		m, _ := s.(map[string]any)
		w := number(m["Weight"], 0)
		total += w
		if m["CapacityProvider"] == "FARGATE_SPOT" {
			spot += w
		}
	}
	if total == 0 {
		return 0
	}
	return spot / total
}

// publicAddresses counts the public IPv4 addresses the services' running
// tasks hold across the deployment: each one is scanned, and the scans it
// draws are the bulk of a rejected-traffic flow log.
func publicAddresses(templates []Template) float64 {
	var n float64
	for _, t := range templates {
		for _, res := range t.Resources {
			if res.Type == "AWS::ECS::Service" && publicIP(res) {
				n += number(res.Properties["DesiredCount"], 1)
			}
		}
	}
	return n
}

// flowLogGroups are the log groups of a template that VPC flow logs write to.
func flowLogGroups(t Template) map[string]bool {
	groups := map[string]bool{}
	for _, res := range t.Resources {
		if res.Type != "AWS::EC2::FlowLog" {
			continue
		}
		if ref, ok := res.Properties["LogGroupName"].(map[string]any); ok {
			if id, ok := ref["Ref"].(string); ok {
				groups[id] = true
			}
		}
	}
	return groups
}

func publicIP(svc Resource) bool {
	nc, _ := svc.Properties["NetworkConfiguration"].(map[string]any)
	vpc, _ := nc["AwsvpcConfiguration"].(map[string]any)
	return vpc["AssignPublicIp"] == "ENABLED"
}

// alarmMetricCount is the number of metrics an alarm evaluates, which is
// what CloudWatch bills alarms by (a math expression itself is free).
func alarmMetricCount(a Resource) int {
	if _, ok := a.Properties["MetricName"]; ok {
		return 1
	}
	n := 0
	queries, _ := a.Properties["Metrics"].([]any)
	for _, q := range queries {
		if m, _ := q.(map[string]any); m["MetricStat"] != nil {
			n++
		}
	}
	return n
}

func alarmCustomMetrics(a Resource) []string {
	var out []string
	addIfCustom := func(m map[string]any) {
		ns, _ := m["Namespace"].(string)
		name, _ := m["MetricName"].(string)
		if ns != "" && !strings.HasPrefix(ns, "AWS/") {
			out = append(out, ns+"/"+name)
		}
	}
	addIfCustom(a.Properties)
	queries, _ := a.Properties["Metrics"].([]any)
	for _, q := range queries {
		qm, _ := q.(map[string]any)
		stat, _ := qm["MetricStat"].(map[string]any)
		metric, _ := stat["Metric"].(map[string]any)
		addIfCustom(metric)
	}
	return out
}

// dashboardMetric matches the start of a metric array, ["namespace","name";
// namespaces allow only these characters, so an intrinsic's placeholder
// ("?") never matches.
var dashboardMetric = regexp.MustCompile(`\["([A-Za-z0-9_./#:-]+)","([^"]+)"`)

// dashboardCustomMetrics finds [namespace, name, ...] arrays in a
// dashboard body; a body with intrinsics is a Fn::Join of string parts.
func dashboardCustomMetrics(d Resource) []string {
	var body strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			body.WriteString(x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			// An intrinsic stands for a value (a cluster name, a region).
			if join, ok := x["Fn::Join"].([]any); ok && len(join) == 2 {
				walk(join[1])
				return
			}
			body.WriteString("?")
		}
	}
	walk(d.Properties["DashboardBody"])
	var out []string
	for _, m := range dashboardMetric.FindAllStringSubmatch(body.String(), -1) {
		if !strings.HasPrefix(m[1], "AWS/") {
			out = append(out, m[1]+"/"+m[2])
		}
	}
	return out
}

func number(v any, def float64) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return f
		}
	}
	return def
}

func sortedIDs(m map[string]Resource) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Write prints the report as a table, stack by stack, then the totals.
func (r Report) Write(w io.Writer) error {
	p := r.Prices
	fmt.Fprintf(w, "Monthly cost in %s, %s prices of %s (sources: infra/cost/prices.json)\n\n", p.Region, p.Currency, p.Date)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "stack\titem\tquantity\tUSD/month\t")
	var stacks []string
	for _, l := range r.Lines {
		if len(stacks) == 0 || stacks[len(stacks)-1] != l.Stack {
			stacks = append(stacks, l.Stack)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.4g %s\t%.2f\t\n", l.Stack, l.Item, l.Quantity, l.Unit, l.USD)
	}
	fmt.Fprintln(tw, "\t\t\t\t")
	for _, s := range stacks {
		fmt.Fprintf(tw, "%s\ttotal\t\t%.2f\t\n", s, r.StackTotal(s))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	fmt.Fprintf(w, "\nidle, list prices:                         USD %6.2f / month\n", r.Idle)
	fmt.Fprintf(w, "idle, after CloudWatch's always-free tier: USD %6.2f / month\n", r.IdleAfterFreeTier)
	fmt.Fprintf(w, "each extra running task:                  USD %6.2f / month\n", r.PerExtraTask)
	if r.SpotFallback > 0 {
		fmt.Fprintf(w, "more when Spot is off (on demand):        USD %6.2f / month\n", r.SpotFallback)
	}
	for _, a := range sortedAssumptions(p.Assumptions) {
		fmt.Fprintf(w, "assumed %s = %g: %s\n", a, p.Assumptions[a].Value, p.Assumptions[a].Why)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	return nil
}

func sortedAssumptions(m map[string]Assumption) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
