package music

import "context"

// Progress hears how far a long read of a list got: done of total tracks
// ready, total 0 while the list's length is not known yet. It may be
// called from several goroutines, one call at a time, and must return at
// once.
type Progress func(done, total int)

type progressKey struct{}

// WithProgress returns ctx carrying p, for the sources that read and
// mirror lists to report to; a context carries no Progress by default.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

// ReportProgress tells ctx's Progress, if any, that done of total tracks
// are ready.
func ReportProgress(ctx context.Context, done, total int) {
	if p, ok := ctx.Value(progressKey{}).(Progress); ok && p != nil {
		p(done, total)
	}
}
