package lambdaurl

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

func readEvent(t *testing.T, name string) events.LambdaFunctionURLRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var e events.LambdaFunctionURLRequest
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return e
}

// seen is what a handler saw of a request.
type seen struct {
	Method, URL, Host, RequestURI, RemoteAddr string
	Path, RawQuery                            string
	Cookie, ContentType, UserAgent            string
	Body                                      string
}

func record(got *seen) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		*got = seen{
			Method: r.Method, URL: r.URL.String(), Host: r.Host, RequestURI: r.RequestURI, RemoteAddr: r.RemoteAddr,
			Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Cookie: r.Header.Get("Cookie"), ContentType: r.Header.Get("Content-Type"), UserAgent: r.Header.Get("User-Agent"),
			Body: string(body),
		}
	}
}

const host = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-central-1.on.aws"

func TestRequest(t *testing.T) {
	encodedPath := readEvent(t, "get-page.json")
	encodedPath.RawPath = "/dashboard/a%2Fb"
	encodedPath.RawQueryString = ""
	noHost := readEvent(t, "get-page.json")
	delete(noHost.Headers, "host")
	tests := []struct {
		name  string
		event events.LambdaFunctionURLRequest
		want  seen
	}{
		{
			name:  "GET page with a query string",
			event: readEvent(t, "get-page.json"),
			want: seen{
				Method: "GET", URL: "https://" + host + "/status?guild=200000000000000001&tab=a%20b", Host: host,
				RequestURI: "/status?guild=200000000000000001&tab=a%20b", RemoteAddr: "198.51.100.7:0",
				Path: "/status", RawQuery: "guild=200000000000000001&tab=a%20b", UserAgent: "Mozilla/5.0 (X11; Linux aarch64)",
			},
		},
		{
			name:  "POST form in base64 with cookies",
			event: readEvent(t, "post-form.json"),
			want: seen{
				Method: "POST", URL: "https://" + host + "/request", Host: host, RequestURI: "/request", RemoteAddr: "[2001:db8::7]:0",
				Path: "/request", Cookie: "timmybot_session=sealed.value-1; theme=dark", ContentType: "application/x-www-form-urlencoded",
				Body: "guild=200000000000000001&csrf=t",
			},
		},
		{
			name:  "raw path kept encoded",
			event: encodedPath,
			want: seen{
				Method: "GET", URL: "https://" + host + "/dashboard/a%2Fb", Host: host, RequestURI: "/dashboard/a%2Fb",
				RemoteAddr: "198.51.100.7:0", Path: "/dashboard/a/b", UserAgent: "Mozilla/5.0 (X11; Linux aarch64)",
			},
		},
		{
			name:  "host from the request context",
			event: noHost,
			want: seen{
				Method: "GET", URL: "https://" + host + "/status?guild=200000000000000001&tab=a%20b", Host: host,
				RequestURI: "/status?guild=200000000000000001&tab=a%20b", RemoteAddr: "198.51.100.7:0",
				Path: "/status", RawQuery: "guild=200000000000000001&tab=a%20b", UserAgent: "Mozilla/5.0 (X11; Linux aarch64)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got seen
			if _, err := Serve(context.Background(), record(&got), tt.event); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequestRefusesBadBase64(t *testing.T) {
	e := readEvent(t, "post-form.json")
	e.Body = "not base64!"
	var got seen
	if _, err := Serve(context.Background(), record(&got), e); err == nil {
		t.Fatal("Serve accepted a body that is not base64")
	}
}

func TestResponse(t *testing.T) {
	binary := []byte{0x89, 'P', 'N', 'G', 0xff, 0x00}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    events.LambdaFunctionURLResponse
	}{
		{
			name: "page with cookies and a repeated header",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Header().Add("Vary", "Cookie")
				w.Header().Add("Vary", "Accept-Encoding")
				http.SetCookie(w, &http.Cookie{Name: "timmybot_session", Value: "v1", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
				http.SetCookie(w, &http.Cookie{Name: "old", Value: "", Path: "/", MaxAge: -1})
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, "<p>héllo</p>")
			},
			want: events.LambdaFunctionURLResponse{
				StatusCode: http.StatusCreated,
				Headers:    map[string]string{"Content-Type": "text/html; charset=utf-8", "Vary": "Cookie, Accept-Encoding"},
				Cookies:    []string{"timmybot_session=v1; Path=/; HttpOnly; Secure; SameSite=Lax", "old=; Path=/; Max-Age=0"},
				Body:       "<p>héllo</p>",
			},
		},
		{
			name: "redirect without a body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", "https://discord.com/oauth2/authorize?state=s")
				w.WriteHeader(http.StatusSeeOther)
			},
			want: events.LambdaFunctionURLResponse{
				StatusCode: http.StatusSeeOther,
				Headers:    map[string]string{"Location": "https://discord.com/oauth2/authorize?state=s"},
			},
		},
		{
			name: "binary body in base64, type sniffed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(binary)
			},
			want: events.LambdaFunctionURLResponse{
				StatusCode:      http.StatusOK,
				Headers:         map[string]string{"Content-Type": "application/octet-stream"},
				Body:            base64.StdEncoding.EncodeToString(binary),
				IsBase64Encoded: true,
			},
		},
		{
			name:    "nothing written",
			handler: func(w http.ResponseWriter, r *http.Request) {},
			want:    events.LambdaFunctionURLResponse{StatusCode: http.StatusOK, Headers: map[string]string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Serve(context.Background(), tt.handler, readEvent(t, "get-page.json"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}
