package infra

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestDockerfilePinsWhatStaysReproducible(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	// Join continued lines so each instruction is one line.
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	var froms, installs []string
	args := map[string]int{}
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch fields[0] {
		case "FROM":
			froms = append(froms, line)
		case "ARG":
			name, _, _ := strings.Cut(fields[1], "=")
			if strings.Contains(fields[1], "=") {
				args[name]++
			}
		case "RUN":
			if strings.Contains(line, "apt-get install") {
				installs = append(installs, line)
			}
		}
	}

	// THEN every base image can be pinned by digest: FROM image:tag@digest
	// once its digest argument is set
	digestRef := regexp.MustCompile(`:[^ ]*\$\{[A-Z_]+\}[^ ]*?\$\{([A-Z]+_DIGEST):\+@\}\$\{([A-Z]+_DIGEST)\}`)
	for _, f := range froms {
		m := digestRef.FindStringSubmatch(f)
		if m == nil || m[1] != m[2] {
			t.Errorf("%q: want image:${VERSION}${X_DIGEST:+@}${X_DIGEST}", f)
			continue
		}
		if args[m[1]] != 1 {
			t.Errorf("%s is declared with a default %d times before the stages, want once", m[1], args[m[1]])
		}
	}
	if len(froms) < 2 {
		t.Fatalf("found %d FROM lines: the parse is broken", len(froms))
	}
	// AND no apt package is pinned to an exact version, which Debian's next
	// security update would remove from the archive
	exactVersion := regexp.MustCompile(`(^|\s)"?[a-z0-9.+-]+=[^ ]+`)
	for _, in := range installs {
		_, pkgs, _ := strings.Cut(in, "apt-get install")
		pkgs, _, _ = strings.Cut(pkgs, "&&")
		if m := exactVersion.FindString(pkgs); m != "" {
			t.Errorf("apt installs %s: an exact version breaks the build at the next Debian update", strings.TrimSpace(m))
		}
	}
	if len(installs) == 0 {
		t.Fatal("found no apt-get install: the parse is broken")
	}
	// AND yt-dlp's version has one default, in one place, as do its sums
	for _, name := range []string{"YT_DLP_VERSION", "DENO_VERSION", "YT_DLP_SHA256_ARM64", "YT_DLP_SHA256_AMD64"} {
		if args[name] != 1 {
			t.Errorf("%s has %d defaults, want 1", name, args[name])
		}
	}
	version := regexp.MustCompile(`(?m)^ARG YT_DLP_VERSION=(\S+)$`).FindStringSubmatch(string(b))
	if version == nil {
		t.Fatal("no YT_DLP_VERSION default")
	}
	if n := strings.Count(string(b), version[1]); n != 1 {
		t.Errorf("yt-dlp version %s appears %d times in the Dockerfile, want once", version[1], n)
	}
	if !strings.Contains(text, `sha256sum -c -`) || !strings.Contains(text, `$YT_DLP_SHA256_ARM64`) {
		t.Error("the yt-dlp download is not checked against its sums")
	}
}
