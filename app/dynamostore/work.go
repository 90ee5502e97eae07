package dynamostore

import (
	"context"
	"slices"

	"github.com/iddv/timmybot/app/music"
)

// slot is one page of a queue being changed. A slot that still is the
// committed page has its id; a changed one has id 0 until commit writes it
// under a new id.
type slot struct {
	id  uint32
	n   int
	ids []uint64 // nil until loaded
}

// work is one attempt at changing a guild's queue: the page list of version
// base, edited in memory, reading pages only as the edit needs them.
//
// Edits keep the page list dense: any two adjacent pages hold more than
// pageCap entries together. Appending fills the last page before starting
// another; a page that shrinks merges with a neighbour when both fit one
// page; a page that overflows splits in halves, each of which merges outward
// when it fits with its neighbour. Each step restores the invariant with at
// most two merges, so an edit reads and writes a bounded number of pages.
type work struct {
	ctx   context.Context
	s     *Store
	guild music.GuildID
	base  int64
	slots []slot

	token  uint64   // identifies this change across attempts
	recent []uint64 // tokens of the changes before base, newest first

	retired     []uint32 // committed pages the new version drops
	deadEntries []uint64 // entries the new version drops
}

func (w *work) total() int {
	n := 0
	for _, sl := range w.slots {
		n += sl.n
	}
	return n
}

func (w *work) changed() bool {
	return len(w.retired) > 0 || len(w.deadEntries) > 0 || slices.ContainsFunc(w.slots, func(sl slot) bool { return sl.id == 0 })
}

// load reads slot i's entry ids if they are not in memory yet.
func (w *work) load(i int) error {
	if w.slots[i].ids != nil || w.slots[i].id == 0 {
		return nil
	}
	ids, err := w.s.readPage(w.ctx, w.guild, pageRef{id: w.slots[i].id, n: w.slots[i].n})
	w.slots[i].ids = ids
	return err
}

// edit marks slot i changed; its committed page is deleted after commit.
func (w *work) edit(i int) {
	if w.slots[i].id != 0 {
		w.retired = append(w.retired, w.slots[i].id)
		w.slots[i].id = 0
	}
}

// locate returns the slot holding index and the position in it. index may
// be total(), which is the end of the last slot.
func (w *work) locate(index int) (i, j int) {
	for i := range w.slots {
		if index <= w.slots[i].n && (index < w.slots[i].n || i == len(w.slots)-1) {
			return i, index
		}
		index -= w.slots[i].n
	}
	return -1, -1
}

// removeAt removes the entry id at index (which the caller checked).
func (w *work) removeAt(index int) (uint64, error) {
	i, j := w.locate(index)
	if err := w.load(i); err != nil {
		return 0, err
	}
	w.edit(i)
	sl := &w.slots[i]
	id := sl.ids[j]
	sl.ids = slices.Delete(sl.ids, j, j+1)
	sl.n--
	if sl.n == 0 {
		// Its neighbours were full (each pair held more than pageCap).
		w.slots = slices.Delete(w.slots, i, i+1)
		return id, nil
	}
	if i > 0 && w.fits(i-1) {
		return id, w.merge(i - 1)
	}
	if w.fits(i) {
		return id, w.merge(i)
	}
	return id, nil
}

// insertAt inserts id so that it ends up at index, 0 <= index <= total().
func (w *work) insertAt(index int, id uint64) error {
	if len(w.slots) == 0 {
		w.slots = []slot{{n: 1, ids: []uint64{id}}}
		return nil
	}
	i, j := w.locate(index)
	if err := w.load(i); err != nil {
		return err
	}
	w.edit(i)
	sl := &w.slots[i]
	sl.ids = slices.Insert(sl.ids, j, id)
	sl.n++
	if sl.n <= pageCap {
		return nil
	}
	half := sl.n / 2
	upper := slot{n: sl.n - half, ids: slices.Clone(sl.ids[half:])}
	sl.ids, sl.n = slices.Clip(sl.ids[:half]), half
	w.slots = slices.Insert(w.slots, i+1, upper)
	if w.fits(i + 1) {
		if err := w.merge(i + 1); err != nil {
			return err
		}
	}
	if i > 0 && w.fits(i-1) {
		return w.merge(i - 1)
	}
	return nil
}

// fits reports whether slots i and i+1 fit one page.
func (w *work) fits(i int) bool {
	return i+1 < len(w.slots) && w.slots[i].n+w.slots[i+1].n <= pageCap
}

// merge joins slot i+1 into slot i.
func (w *work) merge(i int) error {
	if err := w.load(i); err != nil {
		return err
	}
	if err := w.load(i + 1); err != nil {
		return err
	}
	w.edit(i)
	w.edit(i + 1)
	w.slots[i].ids = append(w.slots[i].ids, w.slots[i+1].ids...)
	w.slots[i].n += w.slots[i+1].n
	w.slots = slices.Delete(w.slots, i+1, i+2)
	return nil
}

// appendIDs adds ids at the end, filling the last page first.
func (w *work) appendIDs(ids []uint64) error {
	var tail []uint64
	if last := len(w.slots) - 1; last >= 0 && w.slots[last].n < pageCap {
		if err := w.load(last); err != nil {
			return err
		}
		w.edit(last)
		tail = w.slots[last].ids
		w.slots = w.slots[:last]
	}
	w.slots = append(w.slots, chunk(append(tail, ids...))...)
	return nil
}

// allIDs loads every page and returns the queue's entry ids in order.
func (w *work) allIDs() ([]uint64, error) {
	refs := make([]pageRef, len(w.slots))
	for i, sl := range w.slots {
		refs[i] = pageRef{id: sl.id, n: sl.n}
	}
	return w.s.readPages(w.ctx, w.guild, refs)
}

// replaceAll makes the queue ids, in full pages.
func (w *work) replaceAll(ids []uint64) {
	for i := range w.slots {
		w.edit(i)
	}
	w.slots = chunk(ids)
}

// chunk packs ids into full pages, the last one partly full.
func chunk(ids []uint64) []slot {
	var out []slot
	for len(ids) > 0 {
		k := min(pageCap, len(ids))
		out = append(out, slot{n: k, ids: slices.Clone(ids[:k])})
		ids = ids[k:]
	}
	return out
}
