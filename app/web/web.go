package web

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// Notifier sends a direct message to a user; the bot implements it.
type Notifier interface {
	DirectMessage(ctx context.Context, user music.UserID, text string) error
}

// Figure is one live number on the owners' dashboard.
type Figure struct {
	Name  string
	Value string
}

// Config is what the web front needs.
type Config struct {
	// PublicURL is the address browsers reach the front at, such as
	// https://bot.example.com; the OAuth redirect URI is
	// PublicURL/auth/callback. It must be https unless its host is a
	// loopback address.
	PublicURL string
	// Secret seals the session cookie and derives the CSRF tokens; at
	// least MinSecretLen bytes.
	Secret []byte
	// ApplicationID is the Discord application: the OAuth client ID and the
	// bot that invite links add.
	ApplicationID string
	// ClientSecret is the application's OAuth client secret. Without it
	// the pages say that sign-in is not configured.
	ClientSecret string
	// DiscordURL is Discord's address. Default: https://discord.com.
	DiscordURL string
	// HTTPClient talks to Discord. Default: a client with a 10 s timeout.
	HTTPClient *http.Client
	Owners     []music.UserID
	Allowlist  music.AllowlistStore
	Notifier   Notifier
	// Figures returns the dashboard's live numbers beside the allowlist's
	// own counts. Default: none.
	Figures func() []Figure
	// Now is the clock. Default: time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Rate limits: sign-ins per client address, access requests per user.
const (
	signInsPerWindow  = 10
	requestsPerWindow = 5
	signInWindow      = 10 * time.Minute
)

// Handler is the web front.
type Handler struct {
	cfg     Config
	public  string // PublicURL without a trailing slash
	oauth   *discordOAuth
	cookies *sealer
	signIns *limiter
	asks    *limiter
	used    usedStates
	pages   map[string]*template.Template
	mux     *http.ServeMux
}

//go:embed templates
var templateFS embed.FS

// New checks cfg and builds the handler.
func New(cfg Config) (*Handler, error) {
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("the public URL must be an absolute http(s) URL such as https://bot.example.com, got %q", cfg.PublicURL)
	}
	loopback := isLoopback(u.Hostname())
	if u.Scheme == "http" && !loopback {
		return nil, fmt.Errorf("the public URL must be https unless it is a loopback address, got %q", cfg.PublicURL)
	}
	if err := music.UserID(cfg.ApplicationID).Validate(); err != nil {
		return nil, fmt.Errorf("the application ID must be numeric, got %q", cfg.ApplicationID)
	}
	if cfg.Allowlist == nil || cfg.Notifier == nil {
		return nil, fmt.Errorf("the web front needs an allowlist and a notifier")
	}
	cookies, err := newSealer(cfg.Secret, u.Scheme == "https")
	if err != nil {
		return nil, err
	}
	if cfg.DiscordURL == "" {
		cfg.DiscordURL = "https://discord.com"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Figures == nil {
		cfg.Figures = func() []Figure { return nil }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	public := strings.TrimRight(u.String(), "/")
	h := &Handler{
		cfg:     cfg,
		public:  public,
		cookies: cookies,
		signIns: newLimiter(signInsPerWindow, signInWindow, cfg.Now),
		asks:    newLimiter(requestsPerWindow, signInWindow, cfg.Now),
		oauth: &discordOAuth{
			base: strings.TrimRight(cfg.DiscordURL, "/"), clientID: cfg.ApplicationID, clientSecret: cfg.ClientSecret,
			redirectURI: public + "/auth/callback", client: cfg.HTTPClient,
		},
	}
	if h.pages, err = parsePages(); err != nil {
		return nil, err
	}
	h.routes()
	return h, nil
}

// RedirectURI is the OAuth redirect URI to register with Discord.
func (h *Handler) RedirectURI() string { return h.oauth.redirectURI }

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost")
}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range []string{"home", "request", "status", "dashboard", "message"} {
		t, err := template.New("layout.html").Funcs(template.FuncMap{"since": since}).
			ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parsing the %s page: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

func since(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func (h *Handler) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", h.home)
	m.HandleFunc("GET /style.css", serveCSS)
	m.HandleFunc("POST /auth/login", h.login)
	m.HandleFunc("GET /auth/callback", h.callback)
	m.HandleFunc("POST /auth/logout", h.logout)
	m.HandleFunc("GET /request", h.requestPage)
	m.HandleFunc("POST /request", h.submitRequest)
	m.HandleFunc("GET /status", h.statusPage)
	m.HandleFunc("GET /dashboard", h.dashboard)
	m.HandleFunc("POST /dashboard/{action}", h.dashboardAction)
	h.mux = m
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' "+h.oauth.base)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// isOwner reports whether user is one of the configured owners.
func (h *Handler) isOwner(user *member) bool {
	return user != nil && slices.Contains(h.cfg.Owners, user.ID)
}

// signInReady reports whether sign-in can work.
func (h *Handler) signInReady() bool { return h.cfg.ClientSecret != "" }

// clientAddr is the key of the sign-in limit.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
