package loud

import (
	"testing"

	"github.com/iddv/timmybot/app/testenv"
)

func TestNeedsTheMissingServer(t *testing.T) {
	testenv.Unavailable(t, "the missing server", "it is never started")
}

func TestAlsoNeedsIt(t *testing.T) {
	testenv.Unavailable(t, "the missing server", "it is never started")
}
