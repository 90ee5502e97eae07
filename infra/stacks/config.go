package stacks

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// Config is everything a deployment may vary. Each field comes from CDK
// context (`cdk deploy -c key=value` or cdk.json) or else from an environment
// variable; the table in the deploy guide lists both names and the defaults.
type Config struct {
	// Account is the AWS account ID; "" leaves the stacks environment-agnostic.
	Account string
	// Region defaults to eu-central-1.
	Region string
	// AvailabilityZones are pinned so that synth never looks them up.
	AvailabilityZones []string
	// Environment names the deployment ("prod", "dev", ...); it prefixes the
	// stack and secret names. Only "dev" drops the tables and keys on delete.
	Environment string
	// AlertEmail receives alarm notifications; "" for none.
	AlertEmail string
	// DesiredCount is the number of bot tasks (0 stops the bot).
	DesiredCount int
	// Spot runs the task on Fargate Spot.
	Spot bool
	// LogRetention is how long logs are kept.
	LogRetention awslogs.RetentionDays
	// ImageURI is an existing image to run; "" builds ImageDirectory's
	// Dockerfile at deploy time.
	ImageURI string
	// ImageDirectory holds the Dockerfile the image is built from.
	ImageDirectory string
	// SourceDirectory is the repository root (its go.work): the web front's
	// function is built from it with the local Go toolchain at synth.
	SourceDirectory string
	// OwnerIDs are the Discord user IDs of the bot's owners, comma-separated,
	// passed to the bot as TIMMYBOT_OWNER_IDS; "" for none.
	OwnerIDs string
	// ApplicationID is the Discord application ID, passed to the bot as
	// DISCORD_APPLICATION_ID; "" lets the bot ask Discord.
	ApplicationID string
	// GitHubRepository ("owner/name") gets a deploy role for GitHub Actions;
	// "" creates none.
	GitHubRepository string
	// GitHubOIDCProviderArn reuses the account's existing GitHub OIDC provider.
	GitHubOIDCProviderArn string
}

// setting is one configuration key: its context name, its environment
// variable and its default.
type setting struct {
	context, env, def string
}

var settings = map[string]setting{
	"account":            {"account", "TIMMYBOT_ACCOUNT", ""},
	"region":             {"region", "TIMMYBOT_REGION", "eu-central-1"},
	"azs":                {"availabilityZones", "TIMMYBOT_AVAILABILITY_ZONES", ""},
	"env":                {"environment", "TIMMYBOT_ENVIRONMENT", "prod"},
	"email":              {"alertEmail", "TIMMYBOT_ALERT_EMAIL", ""},
	"desired":            {"desiredCount", "TIMMYBOT_DESIRED_COUNT", "1"},
	"spot":               {"spot", "TIMMYBOT_SPOT", "true"},
	"retention":          {"logRetentionDays", "TIMMYBOT_LOG_RETENTION_DAYS", "30"},
	"imageURI":           {"imageUri", "TIMMYBOT_IMAGE_URI", ""},
	"imageDir":           {"imageDirectory", "TIMMYBOT_IMAGE_DIRECTORY", "."},
	"sourceDir":          {"sourceDirectory", "TIMMYBOT_SOURCE_DIRECTORY", "."},
	"owners":             {"ownerIds", "TIMMYBOT_OWNER_IDS", ""},
	"applicationID":      {"applicationId", "DISCORD_APPLICATION_ID", ""},
	"githubRepo":         {"githubRepository", "TIMMYBOT_GITHUB_REPOSITORY", ""},
	"githubOIDCProvider": {"githubOidcProviderArn", "TIMMYBOT_GITHUB_OIDC_PROVIDER_ARN", ""},
}

// EnvironmentVariables returns the environment variable of every setting,
// sorted. The deploy workflow sets each one from a repository variable of
// the same name, so that a deploy from GitHub and one from a shell configured
// the same way build the same stacks.
func EnvironmentVariables() []string {
	out := make([]string, 0, len(settings))
	for _, s := range settings {
		out = append(out, s.env)
	}
	return slices.Sorted(slices.Values(out))
}

// retentionDays are the retention periods CloudWatch Logs accepts.
var retentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

var (
	envNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	repoPattern    = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	idPattern      = regexp.MustCompile(`^[0-9]{15,21}$`)
	idListPattern  = regexp.MustCompile(`^[0-9]{15,21}(,[0-9]{15,21})*$`)
)

// LoadConfig reads the configuration: context first, then the environment,
// then the default. context returns nil for an unset key (as
// Node().TryGetContext does); getenv is os.Getenv in production.
func LoadConfig(context func(key string) any, getenv func(string) string) (Config, error) {
	get := func(name string) string {
		s := settings[name]
		if v := context(s.context); v != nil {
			return strings.TrimSpace(fmt.Sprint(v))
		}
		if v := getenv(s.env); v != "" {
			return strings.TrimSpace(v)
		}
		return s.def
	}
	var errs []error
	fail := func(name, format string, args ...any) {
		s := settings[name]
		errs = append(errs, fmt.Errorf("%s (context %q, env %s): %s", name, s.context, s.env, fmt.Sprintf(format, args...)))
	}

	cfg := Config{
		Account:               get("account"),
		Region:                get("region"),
		Environment:           get("env"),
		AlertEmail:            get("email"),
		ImageURI:              get("imageURI"),
		ImageDirectory:        get("imageDir"),
		SourceDirectory:       get("sourceDir"),
		OwnerIDs:              get("owners"),
		ApplicationID:         get("applicationID"),
		GitHubRepository:      get("githubRepo"),
		GitHubOIDCProviderArn: get("githubOIDCProvider"),
	}
	if cfg.Account == "" {
		// The CDK CLI sets this from the credentials it runs with.
		cfg.Account = getenv("CDK_DEFAULT_ACCOUNT")
	}
	if cfg.Account != "" && !accountPattern.MatchString(cfg.Account) {
		fail("account", "%q is not a 12-digit account ID", cfg.Account)
	}
	if !envNamePattern.MatchString(cfg.Environment) {
		fail("env", "%q must be lower-case letters, digits and dashes, starting with a letter, at most 20", cfg.Environment)
	}
	if cfg.AlertEmail != "" && !strings.Contains(cfg.AlertEmail, "@") {
		fail("email", "%q is not an e-mail address", cfg.AlertEmail)
	}
	if cfg.OwnerIDs != "" && !idListPattern.MatchString(cfg.OwnerIDs) {
		fail("owners", "%q is not a comma-separated list of Discord user IDs", cfg.OwnerIDs)
	}
	if cfg.ApplicationID != "" && !idPattern.MatchString(cfg.ApplicationID) {
		fail("applicationID", "%q is not a Discord application ID", cfg.ApplicationID)
	}
	if cfg.GitHubRepository != "" && !repoPattern.MatchString(cfg.GitHubRepository) {
		fail("githubRepo", "%q is not owner/name", cfg.GitHubRepository)
	}
	if azs := get("azs"); azs != "" {
		for _, az := range strings.Split(azs, ",") {
			cfg.AvailabilityZones = append(cfg.AvailabilityZones, strings.TrimSpace(az))
		}
	} else {
		// Every commercial region has zones a and b; pin them so synth needs
		// no lookup. Regions without them set the zones explicitly.
		cfg.AvailabilityZones = []string{cfg.Region + "a", cfg.Region + "b"}
	}

	var err error
	if cfg.DesiredCount, err = strconv.Atoi(get("desired")); err != nil || cfg.DesiredCount < 0 || cfg.DesiredCount > 1 {
		// More than one task would open a second gateway session for the same
		// shard until the bot supports sharding.
		fail("desired", "%q must be 0 or 1", get("desired"))
	}
	if cfg.Spot, err = strconv.ParseBool(get("spot")); err != nil {
		fail("spot", "%q is not true or false", get("spot"))
	}
	days, err := strconv.Atoi(get("retention"))
	var ok bool
	if cfg.LogRetention, ok = retentionDays[days]; err != nil || !ok {
		fail("retention", "%q must be one of %v", get("retention"), slices.Sorted(maps.Keys(retentionDays)))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("invalid configuration: %w", err)
	}
	return cfg, nil
}
