package fetch

import (
	"net/http"
	"strings"
)

// notForwarded are the request headers a stream's host may not choose:
// Host and the hop-by-hop headers belong to the connection, and the bot
// sets the rest itself so that lengths and byte ranges stay its own.
var notForwarded = map[string]bool{
	"Host": true, "Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Proxy-Authenticate": true, "Proxy-Authorization": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Content-Length": true,
	"Range": true, "If-Range": true, "Accept-Encoding": true,
}

// setForwarded sets on req the headers a resolver gave for a stream (from
// yt-dlp's http_headers: a User-Agent, a Referer, a Cookie), less those in
// notForwarded, those a Connection header names, and any name or value
// that is not a valid header. A redirect to another host drops Cookie and
// Authorization, as net/http does for every client.
func setForwarded(req *http.Request, h http.Header) {
	named := map[string]bool{}
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			named[http.CanonicalHeaderKey(strings.TrimSpace(name))] = true
		}
	}
	for name, values := range h {
		key := http.CanonicalHeaderKey(name)
		if notForwarded[key] || named[key] || !validName(name) || len(values) == 0 {
			continue
		}
		value := values[len(values)-1]
		if strings.ContainsAny(value, "\r\n\x00") {
			continue
		}
		req.Header.Set(key, value)
	}
}

// validName reports whether name is an HTTP token (RFC 9110 section 5.6.2).
func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
