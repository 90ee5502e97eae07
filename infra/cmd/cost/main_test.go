package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name, dir, want string
		wantErr         bool
	}{
		{name: "prices the templates with the committed table", dir: "../../cost/testdata", want: "Monthly cost in eu-central-1"},
		{name: "asks for a synth when there are no templates", dir: t.TempDir(), want: "run make synth first", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(tt.dir, &out)
			got := out.String()
			if err != nil {
				got = err.Error()
			}
			if (err != nil) != tt.wantErr || !strings.Contains(got, tt.want) {
				t.Errorf("run(%s) = %q, err %v; want %q", tt.dir, got, err, tt.want)
			}
		})
	}
}
