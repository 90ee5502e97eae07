package account

import (
	"html/template"
	"log/slog"
	"net/http"

	"github.com/iddv/timmybot/app/music"
)

// page is the callback's answer: a plain page without scripts or links
// out, so the code in its URL reaches nobody through a Referer.
var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>TimmyBot: {{.Title}}</title></head>
<body><main><h1>{{.Title}}</h1><p>{{.Text}}</p></main></body></html>
`))

// ServeHTTP serves GET CallbackPath, where providers send the browser back
// with the state and a code (or an error).
func (l *Linker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet || r.URL.Path != CallbackPath {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	state, code := q.Get("state"), q.Get("code")
	if state == "" || code == "" {
		// Refused at the provider, or not a provider's redirect: the
		// state, if any, stays unusable for a retry of its code.
		if state != "" {
			_, _ = l.take(r.Context(), state, "", false)
		}
		l.render(w, http.StatusBadRequest, "Not linked", "Nothing was linked: the sign-in was cancelled or refused. Run /link again in Discord.")
		return
	}
	browser, signedIn := l.cfg.SignedIn(r)
	link, err := l.Complete(r.Context(), state, code, browser, signedIn)
	if err != nil {
		status := http.StatusBadGateway
		if music.ErrorCode(err) == music.EINVALID {
			status = http.StatusBadRequest
		}
		text := music.ErrorMessage(err)
		if music.ErrorCode(err) == music.EINTERNAL {
			l.cfg.Logger.Error("completing a link", slog.Any("err", err))
		}
		l.render(w, status, "Not linked", text)
		return
	}
	l.render(w, http.StatusOK, "Linked", "Your "+link.Service.Title()+" account "+link.AccountName+" is linked to TimmyBot. You can close this page.")
}

func (l *Linker) render(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = page.Execute(w, struct{ Title, Text string }{title, text})
}
