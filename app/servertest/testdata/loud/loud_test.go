package loud

import (
	"testing"

	"github.com/iddv/timmybot/app/servertest"
)

func TestNeedsTheMissingServer(t *testing.T) {
	servertest.Unavailable(t, "the missing server", "it is never started")
}

func TestAlsoNeedsIt(t *testing.T) {
	servertest.Unavailable(t, "the missing server", "it is never started")
}
