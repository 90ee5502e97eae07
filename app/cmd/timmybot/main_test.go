package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/audio/fetch"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/ytdlp"
)

// env builds a lookupFunc from pairs.
func env(kv ...string) lookupFunc {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestServeWithoutTokenExitsTwoAndPointsToTheReadme(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"serve"}, env(), &stdout, &stderr)
	if code != exitUsage {
		t.Fatalf("exit status = %d, want %d", code, exitUsage)
	}
	for _, want := range []string{"DISCORD_TOKEN is not set", "README.md", "Create the Discord application"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "usage:") {
		t.Errorf("a configuration error printed the usage text:\n%s", stderr.String())
	}
}

func TestRunRejectsBadUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"dance"}, `unknown command "dance"`},
		{"allowlist without subcommand", []string{"allowlist"}, "allowlist needs a subcommand"},
		{"unknown allowlist subcommand", []string{"allowlist", "delete"}, `unknown allowlist subcommand "delete"`},
		{"approve without guild", []string{"allowlist", "approve"}, "takes 1 argument(s), got 0"},
		{"approve bad guild", []string{"allowlist", "approve", "my-server"}, "not a valid guild ID"},
		{"list with an argument", []string{"allowlist", "list", "all"}, "takes 0 argument(s), got 1"},
		{"serve with an argument", []string{"serve", "--bogus"}, `serve takes no arguments, got "--bogus"`},
		{"invite with arguments", []string{"invite", "now", "please"}, `invite takes no arguments, got "now please"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, env("TIMMYBOT_DATA_DIR", t.TempDir()), &stdout, &stderr); code != exitUsage {
				t.Errorf("exit status = %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr.String(), tt.want) || !strings.Contains(stderr.String(), "\nusage: timmybot ") {
				t.Errorf("stderr = %q, want it to contain %q and the usage line", stderr.String(), tt.want)
			}
		})
	}
}

func TestAllowlistErrorsSayWhatToFix(t *testing.T) {
	const guild = "500000000000000001"
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantCode int
		want     string
	}{
		{"approve without owners", []string{"allowlist", "approve", guild}, nil, exitUsage, "TIMMYBOT_OWNER_IDS is not set"},
		{"revoke a server that is not approved", []string{"allowlist", "revoke", guild}, []string{"TIMMYBOT_OWNER_IDS", ownerForTests}, exitFailure, "revoking " + guild + ": "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, env(append([]string{"TIMMYBOT_DATA_DIR", t.TempDir()}, tt.env...)...), &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr.String(), tt.wantCode, tt.want)
			}
			if strings.Contains(stderr.String(), "music error") || strings.Contains(stderr.String(), "usage:") {
				t.Errorf("stderr = %q, want the message alone, in plain words", stderr.String())
			}
		})
	}
}

const ownerForTests = "200000000000000001"

func limits(d time.Duration, bytes int64) fetch.Limits {
	l := fetch.DefaultLimits()
	l.MaxTrackDuration, l.MaxBytes = d, bytes
	return l
}

func fetches(n int) fetch.Limits {
	l := fetch.DefaultLimits()
	l.MaxConcurrentFetchesPerGuild = n
	return l
}

func TestDefaultPublicURL(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080", "[::]:80": "http://127.0.0.1:80", "0.0.0.0:9": "http://127.0.0.1:9", ":8080": "http://127.0.0.1:8080", "[::1]:7": "http://[::1]:7",
	} {
		if got := defaultPublicURL(addr); got != want {
			t.Errorf("defaultPublicURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

// linkProviders is account.Providers with the given client IDs and secrets.
func linkProviders(clients map[account.Service][2]string) map[account.Service]account.Provider {
	all := account.Providers()
	for service, c := range clients {
		p := all[service]
		p.ClientID, p.ClientSecret = c[0], c[1]
		all[service] = p
	}
	return all
}

// rebased is account.Providers with every endpoint at base.
func rebased(base string) map[account.Service]account.Provider {
	u, _ := url.Parse(base)
	all := account.Providers()
	for service, p := range all {
		all[service] = account.Rebase(p, u)
	}
	return all
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     lookupFunc
		want    config
		wantErr string
	}{
		{name: "defaults", env: env("DISCORD_TOKEN", "t"), want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus"}},
		{name: "everything", env: env("DISCORD_TOKEN", " t ", "DISCORD_APPLICATION_ID", "123", "TIMMYBOT_OWNER_IDS", "1, 2,", "TIMMYBOT_DEV_GUILD_ID", "42",
			"TIMMYBOT_DATA_DIR", "/d", "TIMMYBOT_HTTP_ADDR", ":0", "TIMMYBOT_DISCORD_API_URL", "http://127.0.0.1:9", "TIMMYBOT_LOG_FORMAT", "json", "TIMMYBOT_LOG_LEVEL", "debug", "TIMMYBOT_METRICS", "emf"),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", ApplicationID: "123", Owners: []music.UserID{"1", "2"}, DevGuild: "42", DataDir: "/d", HTTPAddr: ":0", APIURL: "http://127.0.0.1:9", LogFormat: "json", LogLevel: slog.LevelDebug, Metrics: "emf"}},
		{name: "web front", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_PUBLIC_URL", "https://bot.example.com", "DISCORD_CLIENT_SECRET", "cs", "TIMMYBOT_WEB_SECRET", strings.Repeat("s", 32)),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus",
				PublicURL: "https://bot.example.com", ClientSecret: "cs", WebSecret: strings.Repeat("s", 32)}},
		{name: "short web secret", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_WEB_SECRET", "short"), wantErr: "TIMMYBOT_WEB_SECRET: must have at least 32"},
		{name: "spotify", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_SPOTIFY_CLIENT_ID", "sid", "TIMMYBOT_SPOTIFY_CLIENT_SECRET", "ssecret"),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus",
				SpotifyClientID: "sid", SpotifyClientSecret: "ssecret",
				// One Spotify app serves both: its own credentials for links, users' grants for linking.
				LinkProviders: linkProviders(map[account.Service][2]string{account.Spotify: {"sid", "ssecret"}})}},
		{name: "link concurrency", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_LINK_CONCURRENCY", "8"),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus",
				LinkConcurrency: 8}},
		{name: "apple music", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_APPLE_MUSIC_TOKEN", "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus",
				AppleMusicToken: "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"}},
		{name: "apple music token not a JWT", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_APPLE_MUSIC_TOKEN", "team-key-secret"), wantErr: "TIMMYBOT_APPLE_MUSIC_TOKEN: must be a developer token"},
		{name: "bad link concurrency", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_LINK_CONCURRENCY", "17"), wantErr: "TIMMYBOT_LINK_CONCURRENCY: must be a whole number from 1 to 16"},
		{name: "spotify id without secret", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_SPOTIFY_CLIENT_ID", "sid"), wantErr: "set both or neither"},
		{name: "spotify secret without id", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_SPOTIFY_CLIENT_SECRET", "s"), wantErr: "set both or neither"},
		{name: "no token", env: env(), wantErr: "DISCORD_TOKEN is not set"},
		{name: "bad owner", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_OWNER_IDS", "alice"), wantErr: `TIMMYBOT_OWNER_IDS: "alice"`},
		{name: "bad dev guild", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_DEV_GUILD_ID", "x"), wantErr: "TIMMYBOT_DEV_GUILD_ID"},
		{name: "bad app id", env: env("DISCORD_TOKEN", "t", "DISCORD_APPLICATION_ID", "0"), wantErr: "DISCORD_APPLICATION_ID"},
		{name: "bad log format", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_LOG_FORMAT", "xml"), wantErr: "TIMMYBOT_LOG_FORMAT"},
		{name: "dynamodb", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_TABLE_QUEUES", "q", "TIMMYBOT_TABLE_PREFERENCES", "p", "TIMMYBOT_TABLE_TRACK_CACHE", "c", "TIMMYBOT_TABLE_ALLOWLIST", "a", "TIMMYBOT_DYNAMODB_ENDPOINT", "http://127.0.0.1:8000"),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "emf",
				Tables: dynamostore.TableNames{Queues: "q", Preferences: "p", TrackCache: "c", Allowlist: "a"}, DynamoEndpoint: "http://127.0.0.1:8000"}},
		{name: "some tables", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_TABLE_QUEUES", "q", "TIMMYBOT_TABLE_ALLOWLIST", "a"), wantErr: "TIMMYBOT_TABLE_PREFERENCES, TIMMYBOT_TABLE_TRACK_CACHE: set all four"},
		{name: "leave unapproved", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_LEAVE_UNAPPROVED_AFTER", "72h"),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus", LeaveUnapprovedAfter: 72 * time.Hour}},
		{name: "bad grace", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_LEAVE_UNAPPROVED_AFTER", "3 days"), wantErr: "TIMMYBOT_LEAVE_UNAPPROVED_AFTER"},
		{name: "bad metrics", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_METRICS", "statsd"), wantErr: "TIMMYBOT_METRICS"},
		{name: "bad log level", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_LOG_LEVEL", "loud"), wantErr: "TIMMYBOT_LOG_LEVEL"},
		{name: "playback", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_IDLE_TIMEOUT", "90s", "TIMMYBOT_DJ_ROLE", "DJ", "TIMMYBOT_FFMPEG", "/opt/ffmpeg",
			"TIMMYBOT_ALLOW_NETWORKS", "127.0.0.1/32, 10.1.2.3/24,", "TIMMYBOT_MAX_TRACK_DURATION", "3h", "TIMMYBOT_MAX_TRACK_MB", "50", "TIMMYBOT_MAX_PLAYLIST_TRACKS", "1000"),
			want: config{Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus",
				IdleTimeout: 90 * time.Second, DJRole: "DJ", FFmpeg: "/opt/ffmpeg", Limits: limits(3*time.Hour, 50<<20), MaxListTracks: 1000,
				AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.1.2.0/24")}}},
		{name: "bad track duration", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_MAX_TRACK_DURATION", "forever"), wantErr: "TIMMYBOT_MAX_TRACK_DURATION"},
		{name: "one track a playlist", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_MAX_PLAYLIST_TRACKS", "1"),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus", MaxListTracks: 1}},
		{name: "no tracks a playlist", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_MAX_PLAYLIST_TRACKS", "0"), wantErr: `TIMMYBOT_MAX_PLAYLIST_TRACKS: must be a whole number of tracks from 1 to 1000, got "0"`},
		{name: "too many tracks a playlist", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_MAX_PLAYLIST_TRACKS", "1001"), wantErr: `TIMMYBOT_MAX_PLAYLIST_TRACKS: must be a whole number of tracks from 1 to 1000, got "1001"`},
		{name: "playlist tracks not a number", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_MAX_PLAYLIST_TRACKS", "fifty"), wantErr: `TIMMYBOT_MAX_PLAYLIST_TRACKS: must be a whole number of tracks from 1 to 1000, got "fifty"`},
		{name: "bad track size", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_MAX_TRACK_MB", "-1"), wantErr: "TIMMYBOT_MAX_TRACK_MB"},
		{name: "fetches per guild", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_MAX_FETCHES_PER_GUILD", "16"),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetches(16), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus"}},
		{name: "no fetches per guild", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_MAX_FETCHES_PER_GUILD", "0"), wantErr: `TIMMYBOT_MAX_FETCHES_PER_GUILD: must be a whole number from 1 to 16, got "0"`},
		{name: "too many fetches per guild", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_MAX_FETCHES_PER_GUILD", "17"), wantErr: `TIMMYBOT_MAX_FETCHES_PER_GUILD: must be a whole number from 1 to 16, got "17"`},
		{name: "fetches per guild not a number", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_MAX_FETCHES_PER_GUILD", "three"), wantErr: "TIMMYBOT_MAX_FETCHES_PER_GUILD"},
		{name: "bad idle timeout", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_IDLE_TIMEOUT", "0"), wantErr: "TIMMYBOT_IDLE_TIMEOUT"},
		{name: "yt-dlp", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_YTDLP", "/opt/yt-dlp", "TIMMYBOT_YTDLP_COOKIES", "/run/secrets/cookies.txt",
			"TIMMYBOT_YTDLP_ARGS", " --proxy  socks5://10.0.0.1:1080 ", "TIMMYBOT_YTDLP_CONCURRENCY", "2", "TIMMYBOT_YTDLP_SITES", "youtube.com, 127.0.0.1,"),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus",
				YTDLP: "/opt/yt-dlp", YTDLPCookies: "/run/secrets/cookies.txt", YTDLPArgs: []string{"--proxy", "socks5://10.0.0.1:1080"}, YTDLPConcurrency: 2, YTDLPSites: []string{"youtube.com", "127.0.0.1"}}},
		{name: "yt-dlp exec", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_YTDLP_ARGS", "--proxy x --exec id"), wantErr: `TIMMYBOT_YTDLP_ARGS: yt-dlp option "--exec" is not allowed`},
		{name: "yt-dlp output", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_YTDLP_ARGS", "-o /etc/x"), wantErr: "TIMMYBOT_YTDLP_ARGS"},
		{name: "yt-dlp config location", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_YTDLP_ARGS", "--config-location /tmp/x"), wantErr: "TIMMYBOT_YTDLP_ARGS"},
		{name: "bad yt-dlp concurrency", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_YTDLP_CONCURRENCY", "0"), wantErr: "TIMMYBOT_YTDLP_CONCURRENCY"},
		{name: "account linking", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_SPOTIFY_CLIENT_ID", "sid", "TIMMYBOT_SPOTIFY_CLIENT_SECRET", "ssecret", "TIMMYBOT_SOUNDCLOUD_CLIENT_ID", "scid",
			"TIMMYBOT_TOKEN_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus",
				LinkProviders: linkProviders(map[account.Service][2]string{account.Spotify: {"sid", "ssecret"}, account.SoundCloud: {"scid", ""}}), TokenKey: bytes.Repeat([]byte{7}, 32),
				SpotifyClientID: "sid", SpotifyClientSecret: "ssecret"}},
		{name: "link provider stand-in", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_LINK_PROVIDER_URL", "http://127.0.0.1:9"),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus",
				LinkProviders: rebased("http://127.0.0.1:9")}},
		{name: "account linking in AWS", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_LINK_SECRET_PREFIX", "timmybot/prod/links", "TIMMYBOT_LINK_KMS_KEY_ID", "arn:aws:kms:eu-central-1:111111111111:key/k",
			"TIMMYBOT_LINK_CLIENTS", `{"spotify":{"client_id":"sid","client_secret":"ssecret"},"youtube":{"client_id":"","client_secret":""},"_generated":"x"}`),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus",
				LinkProviders: linkProviders(map[account.Service][2]string{account.Spotify: {"sid", "ssecret"}}), LinkSecretPrefix: "timmybot/prod/links", LinkKMSKeyID: "arn:aws:kms:eu-central-1:111111111111:key/k"}},
		{name: "link clients twice", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_YOUTUBE_CLIENT_ID", "yid", "TIMMYBOT_LINK_CLIENTS", `{"youtube":{"client_id":"yid2"}}`),
			wantErr: "TIMMYBOT_LINK_CLIENTS and TIMMYBOT_YOUTUBE_CLIENT_ID both set YouTube's client"},
		{name: "bad link clients", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_LINK_CLIENTS", `{"deezer":{}}`), wantErr: `TIMMYBOT_LINK_CLIENTS: "deezer" is not a service`},
		{name: "link prefix without key", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_LINK_SECRET_PREFIX", "timmybot/prod/links"), wantErr: "TIMMYBOT_LINK_SECRET_PREFIX and TIMMYBOT_LINK_KMS_KEY_ID: set both or neither"},
		{name: "link provider in clear", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_LINK_PROVIDER_URL", "http://example.com"), wantErr: "TIMMYBOT_LINK_PROVIDER_URL: plain http"},
		{name: "short token key", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_TOKEN_KEY", base64.StdEncoding.EncodeToString([]byte("short"))), wantErr: "TIMMYBOT_TOKEN_KEY: must be 32 random bytes in base64"},
		{name: "token key not base64", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_TOKEN_KEY", "not base64!"), wantErr: "TIMMYBOT_TOKEN_KEY"},
		{name: "client secret without id", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_YOUTUBE_CLIENT_SECRET", "x"), wantErr: "TIMMYBOT_YOUTUBE_CLIENT_SECRET is set without TIMMYBOT_YOUTUBE_CLIENT_ID"},
		{name: "bad network", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_ALLOW_NETWORKS", "127.0.0.1"), wantErr: `TIMMYBOT_ALLOW_NETWORKS: "127.0.0.1" is not a network`},
		{name: "search and lyrics", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_SEARCH_PREFIX", "scsearch", "TIMMYBOT_SEARCH_MAX_LENGTH", "80", "TIMMYBOT_LYRICS_URL", "http://127.0.0.1:9999"),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus",
				SearchPrefix: "scsearch", SearchMaxLen: 80, LyricsURL: "http://127.0.0.1:9999"}},
		{name: "lyrics off", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_LYRICS_URL", "off"),
			want: config{IdleTimeout: 5 * time.Minute, FFmpeg: "ffmpeg", Limits: fetch.DefaultLimits(), Token: "t", DataDir: "data", HTTPAddr: "127.0.0.1:8080", APIURL: "https://discord.com", LogFormat: "text", LogLevel: slog.LevelInfo, Metrics: "prometheus",
				NoLyrics: true}},
		{name: "search count in the prefix", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_SEARCH_PREFIX", "ytsearch99"), wantErr: "TIMMYBOT_SEARCH_PREFIX"},
		{name: "bad search length", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_SEARCH_MAX_LENGTH", "0"), wantErr: "TIMMYBOT_SEARCH_MAX_LENGTH"},
		{name: "bad lyrics URL", env: env("DISCORD_TOKEN", "t", "TIMMYBOT_LYRICS_URL", "lrclib.net"), wantErr: "TIMMYBOT_LYRICS_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadConfig(tt.env, true)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.LinkProviders == nil {
				tt.want.LinkProviders = account.Providers()
			}
			if tt.want.YTDLP == "" {
				tt.want.YTDLP, tt.want.YTDLPConcurrency, tt.want.YTDLPSites = "yt-dlp", ytdlp.DefaultMaxConcurrent, ytdlp.DefaultSites
			}
			// TestFrameCacheConfig covers FrameCacheMB.
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(netip.Prefix{}), cmpopts.IgnoreFields(config{}, "FrameCacheMB")); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiscordAPIURLMustNotSendTheTokenInClear(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string // empty: accepted
	}{
		{"https://discord.com", ""},
		{"https://discord.example:8443/base", ""},
		{"http://127.0.0.1:1234", ""},
		{"http://127.8.9.10", ""},
		{"http://[::1]:5", ""},
		{"http://localhost", ""},
		{"http://LOCALHOST:8080", ""},
		{"http://example.com", "plain http would send secrets unencrypted"},
		{"http://10.0.0.1", "plain http"},
		{"http://[::ffff:10.0.0.1]", "plain http"},
		{"http://localhost.example.com", "plain http"},
		{"http://127.0.0.1.example.com", "plain http"},
		{"ftp://discord.com", "must be an https URL"},
		{"ws://127.0.0.1", "must be an https URL"},
		{"discord.com", "must be an absolute URL"},
		{"https://user:pw@discord.com", "must be an absolute URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := loadConfig(env("DISCORD_TOKEN", "t", "TIMMYBOT_DISCORD_API_URL", tt.url), true)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "TIMMYBOT_DISCORD_API_URL: ") {
				t.Fatalf("err = %v, want TIMMYBOT_DISCORD_API_URL: …%s…", err, tt.wantErr)
			}
		})
	}
}

func TestParseDotenv(t *testing.T) {
	in := "# comment\n\nDISCORD_TOKEN=abc\nexport TIMMYBOT_OWNER_IDS = \"1,2\"\nQ='x y'\nEMPTY=\n"
	got, err := parseDotenv(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"DISCORD_TOKEN": "abc", "TIMMYBOT_OWNER_IDS": "1,2", "Q": "x y", "EMPTY": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := parseDotenv(strings.NewReader("A=1\nnot a pair\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err = %v, want a line 2 error", err)
	}
}

func TestInvitePrintsMinimalPermissions(t *testing.T) {
	token := base64.RawStdEncoding.EncodeToString([]byte("123456789012345678")) + ".GxYz.secret"
	tests := []struct {
		name string
		env  lookupFunc
		want string
	}{
		{"from application ID", env("DISCORD_APPLICATION_ID", "987654321098765432"), "987654321098765432"},
		{"from token", env("DISCORD_TOKEN", token), "123456789012345678"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{"invite"}, tt.env, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			u, err := url.Parse(strings.TrimSpace(stdout.String()))
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			// View Channel 1024 + Send Messages 2048 + Embed Links 16384 + Connect 1048576 + Speak 2097152.
			if u.Host != "discord.com" || q.Get("client_id") != tt.want || q.Get("permissions") != "3165184" || q.Get("scope") != "bot applications.commands" {
				t.Errorf("invite URL = %s", u)
			}
		})
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"invite"}, env(), &bytes.Buffer{}, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "DISCORD_APPLICATION_ID") {
		t.Errorf("invite without IDs: exit %d, %q", code, stderr.String())
	}
}
