package dynamostore

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestWorkKeepsPagesDense edits a queue in memory (every page new, so no
// page is ever read) with random appends, removals and moves, and checks
// after each step the order against a model and the invariant that bounds
// the meta item: pages hold 1..pageCap entries and any two adjacent pages
// more than pageCap together.
func TestWorkKeepsPagesDense(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	w := &work{}
	var model []uint64
	next := uint64(1)
	for step := range 8000 {
		n := len(model)
		switch op := r.IntN(10); {
		case op < 3 && n < 10000:
			k := 1 + r.IntN(min(120, 10000-n))
			if r.IntN(4) == 0 {
				k = 1
			}
			ids := make([]uint64, k)
			for i := range ids {
				ids[i], next = next, next+1
			}
			if err := w.appendIDs(ids); err != nil {
				t.Fatal(err)
			}
			model = append(model, ids...)
		case op < 6 && n > 0:
			at := r.IntN(n)
			id, err := w.removeAt(at)
			if err != nil {
				t.Fatal(err)
			}
			if id != model[at] {
				t.Fatalf("step %d: removeAt(%d) = %d, want %d", step, at, id, model[at])
			}
			model = slices.Delete(model, at, at+1)
		case n > 0:
			from, to := r.IntN(n), r.IntN(n)
			id, err := w.removeAt(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.insertAt(to, id); err != nil {
				t.Fatal(err)
			}
			v := model[from]
			model = slices.Insert(slices.Delete(model, from, from+1), to, v)
		}
		checkDense(t, step, w, model)
	}
}

func checkDense(t *testing.T, step int, w *work, model []uint64) {
	t.Helper()
	var got []uint64
	for i, sl := range w.slots {
		if sl.n < 1 || sl.n > pageCap || sl.n != len(sl.ids) {
			t.Fatalf("step %d: page %d has n=%d and %d ids", step, i, sl.n, len(sl.ids))
		}
		if i > 0 && w.slots[i-1].n+sl.n <= pageCap {
			t.Fatalf("step %d: pages %d and %d hold %d+%d entries, which fit one page", step, i-1, i, w.slots[i-1].n, sl.n)
		}
		got = append(got, sl.ids...)
	}
	if !slices.Equal(got, model) {
		t.Fatalf("step %d: order differs from the model", step)
	}
	if limit := 2*len(model)/pageCap + 1; len(w.slots) > limit {
		t.Fatalf("step %d: %d pages for %d entries, more than %d", step, len(w.slots), len(model), limit)
	}
}
