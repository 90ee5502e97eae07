// Command vectorgen copies the official MLS test vectors this package uses into
// testdata, keeping only the entries for cipher suite 2 (entries without a
// cipher suite, such as tree math, are kept whole).
//
// Usage: go run ./internal/vectorgen -src <dir with the vector JSON files> -dst testdata
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

// files are the vector files the tests read.
var files = []string{
	"tree-math.json",
	"deserialization.json",
	"crypto-basics.json",
	"key-schedule.json",
	"secret-tree.json",
	"message-protection.json",
	"welcome.json",
	"treekem.json",
	"tree-validation.json",
	"transcript-hashes.json",
	"passive-client-welcome.json",
	"passive-client-handling-commit.json",
	"messages.json",
	"psk_secret.json",
}

// messagesKept caps messages.json, whose entries carry no cipher suite field
// and are large: the first entries whose key package uses suite 2 are enough
// to exercise every structure.
const messagesKept = 25

const suite = 2

func main() {
	src := flag.String("src", "", "directory holding the official vector files")
	dst := flag.String("dst", "testdata", "output directory")
	flag.Parse()
	if *src == "" {
		log.Fatal("vectorgen: -src is required")
	}
	for _, name := range files {
		if err := filter(filepath.Join(*src, name), filepath.Join(*dst, name)); err != nil {
			log.Fatalf("vectorgen: %s: %v", name, err)
		}
	}
}

func filter(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return fmt.Errorf("decoding: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString("[\n")
	kept := 0
	for _, e := range entries {
		keep, err := wanted(e)
		if err != nil {
			return err
		}
		if !keep {
			continue
		}
		if filepath.Base(in) == "messages.json" && kept == messagesKept {
			break
		}
		if kept > 0 {
			buf.WriteString(",\n")
		}
		if err := json.Compact(&buf, e); err != nil {
			return fmt.Errorf("compacting entry: %w", err)
		}
		kept++
	}
	buf.WriteString("\n]\n")
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// wanted reports whether an entry is for cipher suite 2: by its cipher_suite
// field, or for messages.json by its key package's suite; entries with
// neither are suite-independent.
func wanted(e json.RawMessage) (bool, error) {
	var head struct {
		CipherSuite *int   `json:"cipher_suite"`
		KeyPackage  string `json:"mls_key_package"`
	}
	if err := json.Unmarshal(e, &head); err != nil {
		return false, fmt.Errorf("decoding entry: %w", err)
	}
	if head.CipherSuite != nil {
		return *head.CipherSuite == suite, nil
	}
	if head.KeyPackage != "" {
		// MLSMessage version and wire format, then the KeyPackage's version
		// and cipher suite: the suite is hex characters 12 to 16.
		if len(head.KeyPackage) < 16 {
			return false, fmt.Errorf("short key package %q", head.KeyPackage)
		}
		return head.KeyPackage[12:16] == fmt.Sprintf("%04x", suite), nil
	}
	return true, nil
}
