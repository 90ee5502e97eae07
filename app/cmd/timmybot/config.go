package main

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/audio/fetch"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/lrclib"
	"github.com/iddv/timmybot/app/source/ytdlp"
	"github.com/iddv/timmybot/app/web"
)

// lookupFunc reads one configuration variable; ok is false when unset.
type lookupFunc func(key string) (value string, ok bool)

// config is everything the binary reads from its environment. It is the
// only place that knows the variable names; README.md's table lists them.
type config struct {
	Token         string
	ApplicationID string
	Owners        []music.UserID
	DevGuild      music.GuildID
	DataDir       string
	HTTPAddr      string
	APIURL        string
	LogFormat     string
	LogLevel      slog.Level
	Metrics       string // "prometheus" (/metrics) or "emf" (CloudWatch EMF on stdout, too)
	// LeaveUnapprovedAfter is the grace period before the bot leaves an
	// unapproved guild; 0 keeps it.
	LeaveUnapprovedAfter time.Duration

	// Tables selects DynamoDB when set (all four or none); the embedded
	// store otherwise.
	Tables         dynamostore.TableNames
	DynamoEndpoint string // a local DynamoDB-compatible server instead of AWS
	// SecretsEndpoint is a local Secrets Manager-compatible server instead
	// of AWS, for linked accounts' tokens.
	SecretsEndpoint string

	// The web front.
	PublicURL    string // where browsers reach it; "" is the HTTP server's own address
	ClientSecret string // the OAuth client secret; "" leaves sign-in off
	WebSecret    string // seals its cookies; "" uses a key file in DataDir

	// Account linking: the providers (a service without a client ID is not
	// set up) and the key that seals their tokens ("" uses a key file in
	// DataDir).
	LinkProviders map[account.Service]account.Provider
	TokenKey      []byte
	// In AWS, linked accounts are secrets named under LinkSecretPrefix,
	// encrypted with the KMS key LinkKMSKeyID (both or neither).
	LinkSecretPrefix, LinkKMSKeyID string

	// Playback.
	IdleTimeout   time.Duration  // leave a channel idle or alone this long
	DJRole        string         // role name that manages everyone's tracks; "" off
	FFmpeg        string         // the ffmpeg executable
	AllowNetworks []netip.Prefix // networks user URLs may reach despite the guard
	Limits        fetch.Limits   // what one track may cost
	// MaxListTracks bounds the tracks queued from one playlist, album,
	// set or mix, whatever its source; 0 for music.DefaultMaxListTracks.
	MaxListTracks int
	FrameCacheMB  int // the frame cache's bound in MiB; 0 off

	// Pages of sites such as YouTube, resolved by yt-dlp.
	YTDLP            string   // the yt-dlp executable
	YTDLPCookies     string   // a Netscape cookies file, "" for none
	YTDLPArgs        []string // extra arguments, validated by ytdlp.ValidateArgs
	YTDLPConcurrency int      // yt-dlp runs at once
	YTDLPSites       []string // hosts whose pages go to yt-dlp

	// Spotify links, read with the app's client credentials (both or
	// neither; without them from Spotify's public embed pages).
	SpotifyClientID, SpotifyClientSecret string
	// AppleMusicToken is the Apple Music developer token; without it Apple
	// Music songs and albums are read through the public lookup and
	// playlists refused.
	AppleMusicToken string
	// LinkConcurrency bounds the tracks of one link mirrored at once; 0
	// for links.DefaultConcurrency.
	LinkConcurrency int
	// Discovery: searching by words, lyrics.
	SearchPrefix string // yt-dlp's search, "" for ytdlp.DefaultSearchPrefix
	SearchMaxLen int    // characters in a search, 0 for ytdlp.DefaultMaxQueryLen
	LyricsURL    string // LRCLIB's base URL, "" for lrclib.DefaultBaseURL
	NoLyrics     bool   // TIMMYBOT_LYRICS_URL=off: no /lyrics
}

// awsMode reports whether the configuration selects DynamoDB.
func (c config) awsMode() bool { return c.Tables != (dynamostore.TableNames{}) }

// errNoToken is reported with exit status 2 and a pointer to the README.
var errNoToken = errors.New("DISCORD_TOKEN is not set: create a bot and copy its token as README.md explains " +
	"(section \"Create the Discord application\"), then put DISCORD_TOKEN=<token> in .env or the environment")

// loadConfig reads and validates the configuration. needToken is false for
// subcommands that never talk to Discord.
func loadConfig(lookup lookupFunc, needToken bool) (config, error) {
	get := func(key, def string) string {
		if v, ok := lookup(key); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	c := config{
		Token:         get("DISCORD_TOKEN", ""),
		ApplicationID: get("DISCORD_APPLICATION_ID", ""),
		DevGuild:      music.GuildID(get("TIMMYBOT_DEV_GUILD_ID", "")),
		DataDir:       get("TIMMYBOT_DATA_DIR", "data"),
		HTTPAddr:      get("TIMMYBOT_HTTP_ADDR", "127.0.0.1:8080"),
		APIURL:        get("TIMMYBOT_DISCORD_API_URL", "https://discord.com"),
		LogFormat:     get("TIMMYBOT_LOG_FORMAT", "text"),
	}
	if needToken && c.Token == "" {
		return c, errNoToken
	}
	c.PublicURL = get("TIMMYBOT_PUBLIC_URL", "")
	c.ClientSecret = get("DISCORD_CLIENT_SECRET", "")
	c.SpotifyClientID = get("TIMMYBOT_SPOTIFY_CLIENT_ID", "")
	c.SpotifyClientSecret = get("TIMMYBOT_SPOTIFY_CLIENT_SECRET", "")
	if (c.SpotifyClientID == "") != (c.SpotifyClientSecret == "") {
		return c, errors.New("TIMMYBOT_SPOTIFY_CLIENT_ID and TIMMYBOT_SPOTIFY_CLIENT_SECRET: set both or neither")
	}
	c.AppleMusicToken = get("TIMMYBOT_APPLE_MUSIC_TOKEN", "")
	if parts := strings.Split(c.AppleMusicToken, "."); c.AppleMusicToken != "" && (len(parts) != 3 || slices.Contains(parts, "")) {
		// The value is a secret: say what is wrong, never what it is.
		return c, errors.New("TIMMYBOT_APPLE_MUSIC_TOKEN: must be a developer token, a JWT of three dot-separated parts (see README.md, \"Apple Music links\")")
	}
	if v := get("TIMMYBOT_LINK_CONCURRENCY", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 16 {
			return c, fmt.Errorf("TIMMYBOT_LINK_CONCURRENCY: must be a whole number from 1 to 16, got %q", v)
		}
		c.LinkConcurrency = n
	}
	c.WebSecret = get("TIMMYBOT_WEB_SECRET", "")
	if c.WebSecret != "" && len(c.WebSecret) < web.MinSecretLen {
		return c, fmt.Errorf("TIMMYBOT_WEB_SECRET: must have at least %d characters (or leave it unset to have a key made in TIMMYBOT_DATA_DIR)", web.MinSecretLen)
	}
	if err := checkAPIURL(c.APIURL); err != nil {
		return c, fmt.Errorf("TIMMYBOT_DISCORD_API_URL: %w", err)
	}
	if c.ApplicationID != "" {
		if err := music.UserID(c.ApplicationID).Validate(); err != nil {
			return c, fmt.Errorf("DISCORD_APPLICATION_ID: must be the application's numeric ID, got %q", c.ApplicationID)
		}
	}
	if c.DevGuild != "" {
		if err := c.DevGuild.Validate(); err != nil {
			return c, fmt.Errorf("TIMMYBOT_DEV_GUILD_ID: must be a server's numeric ID, got %q", c.DevGuild)
		}
	}
	for _, id := range strings.Split(get("TIMMYBOT_OWNER_IDS", ""), ",") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		if err := music.UserID(id).Validate(); err != nil {
			return c, fmt.Errorf("TIMMYBOT_OWNER_IDS: %q is not a Discord user ID (comma-separated numeric IDs expected)", id)
		}
		c.Owners = append(c.Owners, music.UserID(id))
	}
	c.Tables = dynamostore.TableNames{
		Queues:      get("TIMMYBOT_TABLE_QUEUES", ""),
		Preferences: get("TIMMYBOT_TABLE_PREFERENCES", ""),
		TrackCache:  get("TIMMYBOT_TABLE_TRACK_CACHE", ""),
		Allowlist:   get("TIMMYBOT_TABLE_ALLOWLIST", ""),
	}
	if c.awsMode() {
		var missing []string
		for key, v := range map[string]string{
			"TIMMYBOT_TABLE_QUEUES": c.Tables.Queues, "TIMMYBOT_TABLE_PREFERENCES": c.Tables.Preferences,
			"TIMMYBOT_TABLE_TRACK_CACHE": c.Tables.TrackCache, "TIMMYBOT_TABLE_ALLOWLIST": c.Tables.Allowlist,
		} {
			if v == "" {
				missing = append(missing, key)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return c, fmt.Errorf("%s: set all four TIMMYBOT_TABLE_* variables to use DynamoDB, or none for the embedded store", strings.Join(missing, ", "))
		}
	}
	c.DynamoEndpoint = get("TIMMYBOT_DYNAMODB_ENDPOINT", "")
	c.SecretsEndpoint = get("TIMMYBOT_SECRETSMANAGER_ENDPOINT", "")
	defaultMetrics := "prometheus"
	if c.awsMode() {
		defaultMetrics = "emf"
	}
	c.Metrics = get("TIMMYBOT_METRICS", defaultMetrics)
	if c.Metrics != "prometheus" && c.Metrics != "emf" {
		return c, fmt.Errorf("TIMMYBOT_METRICS: must be prometheus or emf, got %q", c.Metrics)
	}
	if v := get("TIMMYBOT_LEAVE_UNAPPROVED_AFTER", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return c, fmt.Errorf("TIMMYBOT_LEAVE_UNAPPROVED_AFTER: must be a duration such as 72h, got %q", v)
		}
		c.LeaveUnapprovedAfter = d
	}
	if err := c.loadPlayback(get); err != nil {
		return c, err
	}
	if err := c.loadLinking(get); err != nil {
		return c, err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("TIMMYBOT_LOG_FORMAT: must be text or json, got %q", c.LogFormat)
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("TIMMYBOT_LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("TIMMYBOT_LOG_LEVEL: must be debug, info, warn or error: %w", err)
	}
	return c, nil
}

// loadLinking reads the account-linking clients and the token key.
func (c *config) loadLinking(get func(key, def string) string) error {
	if v := get("TIMMYBOT_TOKEN_KEY", ""); v != "" {
		key, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(key) != account.KeyLen {
			return fmt.Errorf("TIMMYBOT_TOKEN_KEY: must be %d random bytes in base64 (openssl rand -base64 32), or unset to have a key made in TIMMYBOT_DATA_DIR", account.KeyLen)
		}
		c.TokenKey = key
	}
	// A stand-in for every provider, such as the tests' fake.
	var providerBase *url.URL
	if v := get("TIMMYBOT_LINK_PROVIDER_URL", ""); v != "" {
		if err := checkAPIURL(v); err != nil {
			return fmt.Errorf("TIMMYBOT_LINK_PROVIDER_URL: %w", err)
		}
		providerBase, _ = url.Parse(v)
	}
	c.LinkProviders = account.Providers()
	for service, p := range c.LinkProviders {
		if providerBase != nil {
			p = account.Rebase(p, providerBase)
		}
		prefix := "TIMMYBOT_" + strings.ToUpper(string(service)) + "_CLIENT_"
		p.ClientID, p.ClientSecret = get(prefix+"ID", ""), get(prefix+"SECRET", "")
		if p.ClientSecret != "" && p.ClientID == "" {
			return fmt.Errorf("%sSECRET is set without %sID", prefix, prefix)
		}
		c.LinkProviders[service] = p
	}
	// In AWS the clients come in one secret, as JSON.
	if raw := get("TIMMYBOT_LINK_CLIENTS", ""); raw != "" {
		clients, err := account.ParseClients(raw)
		if err != nil {
			return fmt.Errorf("TIMMYBOT_LINK_CLIENTS: %w", err)
		}
		for service, client := range clients {
			p := c.LinkProviders[service]
			if p.ClientID != "" {
				return fmt.Errorf("TIMMYBOT_LINK_CLIENTS and TIMMYBOT_%s_CLIENT_ID both set %s's client: keep one", strings.ToUpper(string(service)), service.Title())
			}
			p.ClientID, p.ClientSecret = client.ID, client.Secret
			c.LinkProviders[service] = p
		}
	}
	c.LinkSecretPrefix = get("TIMMYBOT_LINK_SECRET_PREFIX", "")
	c.LinkKMSKeyID = get("TIMMYBOT_LINK_KMS_KEY_ID", "")
	if (c.LinkSecretPrefix == "") != (c.LinkKMSKeyID == "") {
		return errors.New("TIMMYBOT_LINK_SECRET_PREFIX and TIMMYBOT_LINK_KMS_KEY_ID: set both or neither")
	}
	return nil
}

// maxListTracks is the most TIMMYBOT_MAX_PLAYLIST_TRACKS may be: one /play
// of that many tracks, each mirrored or resolved, stays within the
// minutes an interaction can be answered in.
const maxListTracks = 1000

// loadPlayback reads the audio settings.
func (c *config) loadPlayback(get func(key, def string) string) error {
	v := get("TIMMYBOT_IDLE_TIMEOUT", "5m")
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("TIMMYBOT_IDLE_TIMEOUT: must be a positive duration such as 5m, got %q", v)
	}
	c.IdleTimeout = d
	c.DJRole = get("TIMMYBOT_DJ_ROLE", "")
	if len([]rune(c.DJRole)) > 100 {
		return fmt.Errorf("TIMMYBOT_DJ_ROLE: a role name has at most 100 characters")
	}
	c.FFmpeg = get("TIMMYBOT_FFMPEG", "ffmpeg")
	c.Limits = fetch.DefaultLimits()
	if v := get("TIMMYBOT_MAX_TRACK_DURATION", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("TIMMYBOT_MAX_TRACK_DURATION: must be a positive duration such as 2h, got %q", v)
		}
		c.Limits.MaxTrackDuration = d
	}
	if v := get("TIMMYBOT_MAX_PLAYLIST_TRACKS", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListTracks {
			return fmt.Errorf("TIMMYBOT_MAX_PLAYLIST_TRACKS: must be a whole number of tracks from 1 to %d, got %q", maxListTracks, v)
		}
		c.MaxListTracks = n
	}
	if v := get("TIMMYBOT_MAX_TRACK_MB", ""); v != "" {
		mb, err := strconv.ParseInt(v, 10, 64)
		if err != nil || mb <= 0 || mb > 1<<20 {
			return fmt.Errorf("TIMMYBOT_MAX_TRACK_MB: must be a whole number of megabytes such as 200, got %q", v)
		}
		c.Limits.MaxBytes = mb << 20
	}
	v = get("TIMMYBOT_MAX_FETCHES_PER_GUILD", strconv.Itoa(c.Limits.MaxConcurrentFetchesPerGuild))
	fetches, err := strconv.Atoi(v)
	if err != nil || fetches < 1 || fetches > 16 {
		return fmt.Errorf("TIMMYBOT_MAX_FETCHES_PER_GUILD: must be a whole number from 1 to 16, got %q", v)
	}
	c.Limits.MaxConcurrentFetchesPerGuild = fetches
	v = get("TIMMYBOT_FRAME_CACHE_MB", strconv.Itoa(defaultFrameCacheMB))
	if c.FrameCacheMB, err = strconv.Atoi(v); err != nil || c.FrameCacheMB < 0 || c.FrameCacheMB > 1<<20 {
		return fmt.Errorf("TIMMYBOT_FRAME_CACHE_MB: must be a whole number of megabytes such as 256, or 0 for no cache, got %q", v)
	}
	if err := c.loadYTDLP(get); err != nil {
		return err
	}
	for _, s := range strings.Split(get("TIMMYBOT_ALLOW_NETWORKS", ""), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("TIMMYBOT_ALLOW_NETWORKS: %q is not a network such as 192.0.2.0/24 (comma-separated)", s)
		}
		c.AllowNetworks = append(c.AllowNetworks, p.Masked())
	}
	return nil
}

// defaultPublicURL is the HTTP server's own address addr, a listener on
// every interface read as loopback.
func defaultPublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// loadYTDLP reads yt-dlp's settings.
func (c *config) loadYTDLP(get func(key, def string) string) error {
	c.YTDLP = get("TIMMYBOT_YTDLP", ytdlp.DefaultPath)
	c.YTDLPCookies = get("TIMMYBOT_YTDLP_COOKIES", "")
	if v := get("TIMMYBOT_YTDLP_ARGS", ""); v != "" {
		c.YTDLPArgs = strings.Fields(v)
	}
	if err := ytdlp.ValidateArgs(c.YTDLPArgs); err != nil {
		return fmt.Errorf("TIMMYBOT_YTDLP_ARGS: %w", err)
	}
	v := get("TIMMYBOT_YTDLP_CONCURRENCY", strconv.Itoa(ytdlp.DefaultMaxConcurrent))
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 64 {
		return fmt.Errorf("TIMMYBOT_YTDLP_CONCURRENCY: must be a whole number from 1 to 64, got %q", v)
	}
	c.YTDLPConcurrency = n
	for _, site := range strings.Split(get("TIMMYBOT_YTDLP_SITES", strings.Join(ytdlp.DefaultSites, ",")), ",") {
		if site = strings.TrimSpace(site); site != "" {
			c.YTDLPSites = append(c.YTDLPSites, site)
		}
	}
	return c.loadDiscovery(get)
}

// loadDiscovery reads the search and lyrics settings.
func (c *config) loadDiscovery(get func(key, def string) string) error {
	c.SearchPrefix = get("TIMMYBOT_SEARCH_PREFIX", "")
	if _, err := ytdlp.New(ytdlp.Config{SearchPrefix: c.SearchPrefix}); err != nil {
		return fmt.Errorf("TIMMYBOT_SEARCH_PREFIX: %w", err)
	}
	if v := get("TIMMYBOT_SEARCH_MAX_LENGTH", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > music.MaxURLLen {
			return fmt.Errorf("TIMMYBOT_SEARCH_MAX_LENGTH: must be a whole number from 1 to %d, got %q", music.MaxURLLen, v)
		}
		c.SearchMaxLen = n
	}
	c.LyricsURL = get("TIMMYBOT_LYRICS_URL", "")
	if c.NoLyrics = c.LyricsURL == "off"; c.NoLyrics {
		c.LyricsURL = ""
	} else if _, err := lrclib.New(lrclib.Config{BaseURL: c.LyricsURL}); err != nil {
		return fmt.Errorf("TIMMYBOT_LYRICS_URL: %w", err)
	}
	return nil
}

// checkAPIURL accepts https URLs, and plain http only to a loopback
// address (a local fake Discord): every request carries the bot token.
// Names other than localhost are refused for http, since what they resolve
// to can change.
func checkAPIURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return fmt.Errorf("must be an absolute URL such as https://discord.com, got %q", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost") {
			return nil
		}
		return fmt.Errorf("plain http would send secrets unencrypted: use https, or http only to a loopback address such as 127.0.0.1 or [::1], got %q", raw)
	}
	return fmt.Errorf("must be an https URL, got %q", raw)
}

// envWithDotenv looks variables up in the process environment first, then
// in the .env file at path (missing file: environment only).
func envWithDotenv(path string) (lookupFunc, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return os.LookupEnv, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	file, err := parseDotenv(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return func(key string) (string, bool) {
		if v, ok := os.LookupEnv(key); ok {
			return v, true
		}
		v, ok := file[key]
		return v, ok
	}, nil
}

// parseDotenv reads KEY=VALUE lines; blank lines and # comments are
// skipped, an optional "export " prefix and matching quotes are removed.
func parseDotenv(r io.Reader) (map[string]string, error) {
	vars := make(map[string]string)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return nil, fmt.Errorf("line %d: expected KEY=VALUE", n)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		vars[key] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	return vars, nil
}
