package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/audio"
	"github.com/iddv/timmybot/app/audio/fetch"
	"github.com/iddv/timmybot/app/audio/ffmpeg"
	"github.com/iddv/timmybot/app/audio/filter"
	"github.com/iddv/timmybot/app/discord"
	"github.com/iddv/timmybot/app/player"
	"github.com/iddv/timmybot/app/source/applemusic"
	"github.com/iddv/timmybot/app/source/deezer"
	"github.com/iddv/timmybot/app/source/links"
	"github.com/iddv/timmybot/app/source/lrclib"
	"github.com/iddv/timmybot/app/source/mirror"
	"github.com/iddv/timmybot/app/source/spotify"
	"github.com/iddv/timmybot/app/source/ytdlp"
	"github.com/iddv/timmybot/app/telemetry"
	"github.com/iddv/timmybot/app/web"
)

// serve runs the bot until ctx is cancelled.
func serve(ctx context.Context, lookup lookupFunc, stdout, stderr io.Writer) error {
	c, err := loadConfig(lookup, true)
	if err != nil {
		return configError{err}
	}
	log := newLogger(c, stderr)

	st, err := openStores(ctx, c)
	if err != nil {
		return err
	}
	defer st.close()

	policy := fetch.Policy{Allow: c.AllowNetworks}
	client := fetch.NewClient(policy, c.Limits)
	relay, err := fetch.StartRelay(client, log)
	if err != nil {
		return err
	}
	defer relay.Close()
	pages, err := newPageResolver(c, log)
	if err != nil {
		return err
	}
	finder, err := mirror.New(mirror.Config{Searcher: candidateSearch{pages}, Cache: st.tracks, Logger: log})
	if err != nil {
		return err
	}
	links, err := newLinkResolver(c, finder, metadataClient(policy, c.Limits), log)
	if err != nil {
		return err
	}
	lyrics, err := newLyrics(c)
	if err != nil {
		return err
	}
	frameCache, err := openFrameCache(c, log)
	if err != nil {
		return err
	}
	pipeline := audio.New(audio.Config{
		Client: client, Relay: relay, Resolver: pages,
		FFmpeg:           ffmpeg.Config{Path: c.FFmpeg},
		MaxTrackDuration: c.Limits.MaxTrackDuration,
		MaxBytes:         c.Limits.MaxBytes,
		Cache:            frameCache,
		Logger:           log,
	})

	metrics := telemetry.NewMetrics()
	// Listen first: the public URL, and so the redirect URIs, may be the
	// listener's own address.
	ln, err := net.Listen("tcp", c.HTTPAddr)
	if err != nil {
		return configError{fmt.Errorf("TIMMYBOT_HTTP_ADDR: listening on %s: %w", c.HTTPAddr, err)}
	}
	defer ln.Close() // until the server owns it; a second close is harmless
	if c.PublicURL == "" {
		c.PublicURL = defaultPublicURL(ln.Addr().String())
	}
	late := &lateBinding{}
	linker, closeTokens, err := accountLinker(ctx, c, st, late, log)
	if err != nil {
		return err
	}
	defer closeTokens()
	lib, err := userLibrary(c, linker, finder)
	if err != nil {
		return err
	}
	bot, err := discord.NewBot(discord.BotConfig{
		Token:         c.Token,
		APIURL:        c.APIURL,
		ApplicationID: c.ApplicationID,
		DevGuild:      c.DevGuild,
		Owners:        c.Owners,
		Queues:        st.queues,
		Allowlist:     st.allowlist,
		Preferences:   st.preferences,
		Playlists:     st.playlists,
		Requesters:    st.requesters,
		Observer:      metrics,
		Logger:        log,

		LeaveUnapprovedAfter: c.LeaveUnapprovedAfter,
		Accounts:             accounts(linker),
		Playback: discord.PlaybackConfig{
			Opener:           pipeline,
			FetchSlots:       fetch.NewLimiter(c.Limits),
			CheckURL:         policy.CheckURL,
			IdleTimeout:      c.IdleTimeout,
			DJRole:           c.DJRole,
			Filters:          filterNames(),
			Pages:            pages,
			MaxTrackDuration: c.Limits.MaxTrackDuration,
			Links:            links,
			Search:           pages,
			Lyrics:           lyrics,
			Library:          lib,
			Related:          pages,
		},
	})
	if err != nil {
		return fmt.Errorf("building the bot: %w", err)
	}
	late.bot = bot
	metrics.SetGauge(telemetry.GatewayConnected, func() float64 {
		if bot.Connected() {
			return 1
		}
		return 0
	})
	metrics.SetGauge(telemetry.ActiveVoiceConnections, func() float64 { return float64(bot.VoiceConnections()) })
	metrics.SetGauge(telemetry.AudioUnderruns, func() float64 { return float64(bot.AudioUnderruns()) })
	frameCacheGauges(metrics, frameCache)
	for _, reason := range ytdlp.Reasons {
		metrics.SetGauge(telemetry.SourceFailures+"_"+string(reason), func() float64 { return float64(pages.Failures(reason)) })
	}
	if c.Metrics == "emf" {
		emfCtx, stopEMF := context.WithCancel(context.Background())
		emfDone := make(chan struct{})
		go func() {
			defer close(emfDone)
			(&telemetry.EMFExporter{Metrics: metrics, Out: stdout, Log: log}).Run(emfCtx)
		}()
		defer func() { stopEMF(); <-emfDone }()
	}

	front, err := webFront(c, st, bot, log)
	if err != nil {
		return err
	}
	mux := httpHandler(bot, st, metrics, readyDetails(pages))
	var pagesHandler http.Handler = http.NotFoundHandler()
	if front != nil {
		pagesHandler, late.front = front, front
	}
	mux.Handle("/", pagesHandler)
	if linker != nil {
		mux.Handle("GET "+account.CallbackPath, linker)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()
	log.Info("http listening", slog.String("addr", ln.Addr().String()))

	var serveErr error
	httpStopped := false
	if err := bot.Open(ctx); err != nil {
		if ctx.Err() == nil { // a stop signal during start-up is a clean exit
			serveErr = gatewayError(err)
		}
	} else {
		log.Info("timmybot running", slog.String("store", st.kind))
		select {
		case <-ctx.Done():
		case serveErr = <-httpDone:
			httpStopped = true
		case err := <-bot.Failed():
			serveErr = gatewayError(err)
		}
	}
	log.Info("shutting down")
	if err := bot.Close(); err != nil {
		log.Warn("closing the bot", slog.Any("err", err))
	}
	if !httpStopped {
		shutdown(srv, httpDone, log)
	}
	return serveErr
}

// webFront builds the web front on the bot's allowlist, with the bot
// telling owners of requests; nil when it is off.
func webFront(c config, st *stores, bot *discord.Bot, log *slog.Logger) (*web.Handler, error) {
	appID := c.applicationID()
	if appID == "" {
		log.Warn("web front off: set DISCORD_APPLICATION_ID")
		return nil, nil
	}
	secret := []byte(c.WebSecret)
	if len(secret) == 0 {
		var err error
		if secret, err = web.LoadOrCreateKey(filepath.Join(c.DataDir, "web.key")); err != nil {
			return nil, configError{fmt.Errorf("TIMMYBOT_WEB_SECRET is unset and the key file in TIMMYBOT_DATA_DIR cannot be used: %w", err)}
		}
	}
	front, err := web.New(web.Config{
		PublicURL: c.PublicURL, Secret: secret,
		ApplicationID: appID, ClientSecret: c.ClientSecret, DiscordURL: c.APIURL,
		Owners: c.Owners, Allowlist: st.allowlist, Notifier: bot,
		Figures: func() []web.Figure {
			return []web.Figure{{Name: "Voice connections", Value: fmt.Sprint(bot.VoiceConnections())}}
		},
		Logger: log.With(slog.String("component", "web")),
	})
	if err != nil {
		return nil, configError{fmt.Errorf("TIMMYBOT_PUBLIC_URL, DISCORD_APPLICATION_ID: the web front: %w", err)}
	}
	log.Info("web front", slog.String("url", c.PublicURL), slog.String("redirect_uri", front.RedirectURI()), slog.Bool("sign_in", c.ClientSecret != ""))
	return front, nil
}

// newPageResolver starts the yt-dlp resolver and says in the log what it
// lacks: a cookies file it cannot read is a configuration error; no deno
// means no YouTube.
func newPageResolver(c config, log *slog.Logger) (*ytdlp.Resolver, error) {
	if c.YTDLPCookies != "" {
		f, err := os.Open(c.YTDLPCookies)
		if err != nil {
			return nil, configError{fmt.Errorf("TIMMYBOT_YTDLP_COOKIES: %w", err)}
		}
		f.Close()
	}
	r, err := ytdlp.New(ytdlp.Config{
		Path: c.YTDLP, Cookies: c.YTDLPCookies, ExtraArgs: c.YTDLPArgs,
		MaxConcurrent: c.YTDLPConcurrency, Sites: c.YTDLPSites, Logger: log,
		SearchPrefix: c.SearchPrefix, MaxQueryLen: c.SearchMaxLen, MaxTracks: c.MaxListTracks,
	})
	if err != nil {
		return nil, configError{fmt.Errorf("TIMMYBOT_YTDLP_ARGS: %w", err)}
	}
	if _, err := exec.LookPath(c.YTDLP); err != nil {
		log.Warn("yt-dlp not found: pages of sites such as YouTube cannot be played", slog.String("path", c.YTDLP), slog.Any("err", err))
	}
	if r.JSRuntime() == "" {
		log.Warn("deno not found: yt-dlp needs it to play YouTube")
	}
	return r, nil
}

// newLyrics is the LRCLIB client, nil when lyrics are off.
func newLyrics(c config) (discord.LyricsFinder, error) {
	if c.NoLyrics {
		return nil, nil
	}
	l, err := lrclib.New(lrclib.Config{BaseURL: c.LyricsURL, UserAgent: "TimmyBot (self-hosted Discord music bot)"})
	if err != nil {
		return nil, configError{fmt.Errorf("TIMMYBOT_LYRICS_URL: %w", err)}
	}
	return l, nil
}

// The adapters fit the bot's ports.
var (
	_ discord.Searcher     = (*ytdlp.Resolver)(nil)
	_ player.RelatedFinder = (*ytdlp.Resolver)(nil)
	_ discord.LyricsFinder = (*lrclib.Client)(nil)
)

// candidateSearch is yt-dlp's search as the mirror's Searcher.
type candidateSearch struct{ *ytdlp.Resolver }

func (c candidateSearch) Search(ctx context.Context, query string, n int) ([]mirror.Candidate, error) {
	return c.Candidates(ctx, query, n)
}

// newLinkResolver reads Spotify (through the API with the app's
// credentials, when set, else from the public embed pages), Deezer and
// Apple Music (with the developer token, when set) links and has finder
// mirror their tracks (yt-dlp's search, the matches cached in the track
// cache). All three are read with client.
func newLinkResolver(c config, finder *mirror.Mirror, client *http.Client, log *slog.Logger) (*links.Resolver, error) {
	sp, err := spotify.New(spotify.Config{ClientID: c.SpotifyClientID, ClientSecret: c.SpotifyClientSecret, HTTPClient: client})
	if err != nil {
		return nil, configError{fmt.Errorf("TIMMYBOT_SPOTIFY_CLIENT_ID: %w", err)}
	}
	return links.New(links.Config{
		Spotify:     sp,
		Deezer:      deezer.New(deezer.Config{HTTPClient: client}),
		AppleMusic:  applemusic.New(applemusic.Config{Token: c.AppleMusicToken, HTTPClient: client, Logger: log}),
		Finder:      finder,
		Concurrency: c.LinkConcurrency,
		MaxTracks:   c.MaxListTracks,
	})
}

// metadataClient reads catalog APIs and pages: the guarded client of user
// URLs, so that no answer (a redirect, a changed DNS record) leads the bot
// to an internal address, with a timeout per request, as their answers
// are small.
func metadataClient(policy fetch.Policy, limits fetch.Limits) *http.Client {
	client := fetch.NewClient(policy, limits)
	client.Timeout = spotify.DefaultTimeout
	return client
}

// readyDetails are the lines /readyz adds to its answer.
func readyDetails(pages *ytdlp.Resolver) func() []string {
	return func() []string {
		if pages.JSRuntime() == "" {
			return []string{"yt-dlp JavaScript runtime (deno): missing, YouTube will not play"}
		}
		return []string{"yt-dlp JavaScript runtime (deno): " + pages.JSRuntime()}
	}
}

// filterNames lists the audio filters users can choose.
func filterNames() []string {
	var names []string
	for _, f := range filter.All() {
		names = append(names, f.Name)
	}
	return names
}

// gatewayError says what to fix when Discord refused the bot for good.
func gatewayError(err error) error {
	switch {
	case errors.Is(err, discord.ErrTokenRefused):
		return configError{fmt.Errorf("DISCORD_TOKEN: %w; reset the token in the Developer Portal (your application → Bot → Reset Token) and put the new one in DISCORD_TOKEN", err)}
	case errors.Is(err, discord.ErrIntentsRefused):
		return configError{fmt.Errorf("%w; TimmyBot asks only for the Guilds and Guild Voice States intents, which need no approval: check the application in the Developer Portal (Bot → Privileged Gateway Intents) and use an unmodified build", err)}
	case errors.Is(err, discord.ErrGatewayRefused):
		return fmt.Errorf("%w; this TimmyBot build speaks a gateway version or shard layout Discord no longer accepts: upgrade TimmyBot", err)
	}
	return err
}

func shutdown(srv *http.Server, done <-chan error, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("stopping the http server", slog.Any("err", err))
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http server", slog.Any("err", err))
	}
}

// connectedChecker tells whether the gateway session is up.
type connectedChecker interface{ Connected() bool }

// httpHandler serves /healthz (the process is alive), /readyz (the
// gateway is connected and the store answers) and /metrics (Prometheus).
// details, when not nil, adds lines that say what works only in part.
func httpHandler(gw connectedChecker, st *stores, metrics *telemetry.Metrics, details func() []string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !gw.Connected() {
			http.Error(w, "gateway not connected", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.ping(ctx); err != nil {
			http.Error(w, "store unreachable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
		if details != nil {
			for _, line := range details() {
				fmt.Fprintln(w, line)
			}
		}
	})
	return mux
}
