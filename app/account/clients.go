package account

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Client is a service's OAuth client as the operator registered it.
type Client struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
}

// ParseClients reads the OAuth clients of the services users link from
// JSON, as the AWS deployment keeps them in one secret:
//
//	{"spotify": {"client_id": "...", "client_secret": "..."}, "youtube": {...}, "soundcloud": {...}}
//
// A service missing or without a client_id is not set up. Fields starting
// with "_" are ignored (the deployment's generated placeholder); any other
// unknown service is refused, so that a misspelt one is not silently off.
func ParseClients(raw string) (map[Service]Client, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &fields); err != nil {
		return nil, errors.New("not a JSON object of services (secret values are not shown)")
	}
	clients := map[Service]Client{}
	for name, v := range fields {
		if strings.HasPrefix(name, "_") {
			continue
		}
		service := Service(name)
		if !slices.Contains(Services, service) {
			return nil, fmt.Errorf("%q is not a service TimmyBot links: use spotify, youtube or soundcloud", name)
		}
		var c Client
		if err := json.Unmarshal(v, &c); err != nil {
			return nil, fmt.Errorf("%s: want {\"client_id\": ..., \"client_secret\": ...}", name)
		}
		c.ID, c.Secret = strings.TrimSpace(c.ID), strings.TrimSpace(c.Secret)
		if c.Secret != "" && c.ID == "" {
			return nil, fmt.Errorf("%s: client_secret is set without client_id", name)
		}
		if c.ID != "" {
			clients[service] = c
		}
	}
	return clients, nil
}

// RedirectURI is the callback's address under the web front's public URL,
// with or without its trailing slash: the one address the bot puts in
// authorization URLs and the web front sends with the code, which must be
// the same and registered with every provider.
func RedirectURI(publicURL string) string {
	return strings.TrimRight(publicURL, "/") + CallbackPath
}
