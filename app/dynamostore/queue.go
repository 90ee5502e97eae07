package dynamostore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/iddv/timmybot/app/music"
)

// Queue items; the package doc explains the layout.
const (
	pageCap = 100 // entry ids per page: 800 bytes, one write unit

	skMeta      = "meta"
	attrVersion = "v"
	attrPages   = "pages"
	attrRecent  = "recent"
	attrIDs     = "ids"
	attrAdded   = "at"

	pageRefSize = 4 // 3 bytes of page id, 1 byte of count
	pageIDBits  = 24
)

func pageSK(id uint32) string  { return fmt.Sprintf("p#%06x", id) }
func entrySK(id uint64) string { return fmt.Sprintf("e#%016x", id) }

func (s *Store) queueKey(guild music.GuildID, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrGuild: str(string(guild)), attrSort: str(sk)}
}

// pageRef is one page as the meta item lists it.
type pageRef struct {
	id uint32
	n  int
}

// meta is a guild's queue at one version. Version 0 is a queue that has no
// meta item yet. recent holds the tokens of the last changes committed,
// newest first.
type meta struct {
	version int64
	pages   []pageRef
	recent  []uint64
}

// recentTokens is how many change tokens the meta item keeps: a change whose
// commit succeeded but whose answer was lost (so that the SDK's retry then
// failed its condition) finds its token there, and neither applies itself
// twice nor deletes the pages it committed. Eight tokens cost 64 bytes.
const recentTokens = 8

func encodePages(pages []pageRef) []byte {
	b := make([]byte, 0, len(pages)*pageRefSize)
	for _, p := range pages {
		b = append(b, byte(p.id>>16), byte(p.id>>8), byte(p.id), byte(p.n))
	}
	return b
}

func decodePages(b []byte) ([]pageRef, error) {
	if len(b)%pageRefSize != 0 {
		return nil, fmt.Errorf("page list of %d bytes", len(b))
	}
	pages := make([]pageRef, 0, len(b)/pageRefSize)
	for ; len(b) > 0; b = b[pageRefSize:] {
		p := pageRef{id: uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]), n: int(b[3])}
		if p.n == 0 || p.n > pageCap {
			return nil, fmt.Errorf("page %06x has %d entries", p.id, p.n)
		}
		pages = append(pages, p)
	}
	return pages, nil
}

func encodeIDs(ids []uint64) []byte {
	b := make([]byte, 0, 8*len(ids))
	for _, id := range ids {
		b = binary.BigEndian.AppendUint64(b, id)
	}
	return b
}

func decodeIDs(b []byte) []uint64 {
	ids := make([]uint64, len(b)/8)
	for i := range ids {
		ids[i] = binary.BigEndian.Uint64(b[8*i:])
	}
	return ids
}

func (s *Store) readMeta(ctx context.Context, guild music.GuildID) (meta, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Queues),
		Key:            s.queueKey(guild, skMeta),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		return meta{}, err
	}
	v, err := getNum(out.Item, attrVersion)
	if err != nil {
		return meta{}, err
	}
	pages, err := decodePages(getBytes(out.Item, attrPages))
	if err != nil {
		return meta{}, fmt.Errorf("queue of %s: %w", guild, err)
	}
	return meta{version: v, pages: pages, recent: decodeIDs(getBytes(out.Item, attrRecent))}, nil
}

// readPage returns a page's entry ids; errStale when the page is gone.
func (s *Store) readPage(ctx context.Context, guild music.GuildID, p pageRef) ([]uint64, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Queues),
		Key:            s.queueKey(guild, pageSK(p.id)),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	if out.Item == nil {
		return nil, errStale
	}
	return checkedIDs(out.Item, p)
}

func checkedIDs(item map[string]types.AttributeValue, p pageRef) ([]uint64, error) {
	ids := decodeIDs(getBytes(item, attrIDs))
	if len(ids) != p.n {
		return nil, fmt.Errorf("page %06x holds %d entries, its queue says %d", p.id, len(ids), p.n)
	}
	return ids, nil
}

func entryItem(guild music.GuildID, id uint64, e music.Entry) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{attrGuild: str(string(guild)), attrSort: str(entrySK(id))}
	putTrack(item, e.Track)
	putTime(item, attrAdded, e.AddedAt)
	return item
}

func decodeEntry(item map[string]types.AttributeValue) (music.Entry, error) {
	sk := getStr(item, attrSort)
	if len(sk) != len("e#")+16 {
		return music.Entry{}, fmt.Errorf("entry key %q", sk)
	}
	t, err := getTrack(item)
	if err != nil {
		return music.Entry{}, err
	}
	added, err := getTime(item, attrAdded)
	return music.Entry{ID: sk[len("e#"):], Track: t, AddedAt: added}, err
}

// readEntry returns an entry; errStale when it is gone.
func (s *Store) readEntry(ctx context.Context, guild music.GuildID, id uint64) (music.Entry, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Queues),
		Key:            s.queueKey(guild, entrySK(id)),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return music.Entry{}, err
	}
	if out.Item == nil {
		return music.Entry{}, errStale
	}
	return decodeEntry(out.Item)
}

// Enqueue implements music.QueueStore. Entries are written before the
// commit, once, whatever the number of attempts; if the change fails they
// are deleted again.
func (s *Store) Enqueue(ctx context.Context, guild music.GuildID, tracks ...music.Track) (int, error) {
	if err := guild.Validate(); err != nil {
		return 0, err
	}
	if err := music.ValidateTracks(tracks); err != nil {
		return 0, err
	}
	ids := make([]uint64, len(tracks))
	items := make([]map[string]types.AttributeValue, len(tracks))
	now := s.now().UTC()
	for i, t := range tracks {
		ids[i] = rand.Uint64()
		items[i] = entryItem(guild, ids[i], music.Entry{Track: t, AddedAt: now})
	}
	var first int
	written := false
	err := s.mutate(ctx, guild, func(w *work) error {
		first = w.total()
		if err := music.CheckRoom(first, len(tracks)); err != nil {
			return err
		}
		if !written {
			written = true // also when only some were written
			if err := s.putItems(ctx, s.tables.Queues, items); err != nil {
				return err
			}
		}
		return w.appendIDs(ids)
	})
	if err != nil && written && !errors.Is(err, errUncertain) {
		keys := make([]map[string]types.AttributeValue, len(ids))
		for i, id := range ids {
			keys[i] = s.queueKey(guild, entrySK(id))
		}
		s.deleteQuietly(ctx, s.tables.Queues, keys)
	}
	return first, fail("enqueueing", err)
}

// Page implements music.QueueStore. It reads the meta item, the at most
// three pages a window of MaxPageLimit entries spans (two adjacent pages
// hold more than pageCap entries), and the entries.
func (s *Store) Page(ctx context.Context, guild music.GuildID, offset, limit int) (music.QueuePage, error) {
	if err := guild.Validate(); err != nil {
		return music.QueuePage{}, err
	}
	var page music.QueuePage
	err := s.read(ctx, func() error {
		m, err := s.readMeta(ctx, guild)
		if err != nil {
			return err
		}
		total := m.total()
		start, end, err := music.PageWindow(total, offset, limit)
		if err != nil {
			return err
		}
		page = music.QueuePage{Offset: offset, Total: total, Entries: []music.Entry{}}
		if start == end {
			return nil
		}
		var refs []pageRef
		first := -1 // index of the first entry of refs[0]
		for i, pos := 0, 0; i < len(m.pages) && pos < end; pos, i = pos+m.pages[i].n, i+1 {
			if pos+m.pages[i].n > start {
				if first < 0 {
					first = pos
				}
				refs = append(refs, m.pages[i])
			}
		}
		ids, err := s.readPages(ctx, guild, refs)
		if err != nil {
			return err
		}
		ids = ids[start-first : end-first]
		keys := make([]map[string]types.AttributeValue, len(ids))
		for i, id := range ids {
			keys[i] = s.queueKey(guild, entrySK(id))
		}
		items, err := s.getQueueItems(ctx, keys)
		if err != nil {
			return err
		}
		for _, id := range ids {
			item, ok := items[entrySK(id)]
			if !ok {
				return errStale
			}
			e, err := decodeEntry(item)
			if err != nil {
				return err
			}
			page.Entries = append(page.Entries, e)
		}
		return nil
	})
	if err != nil {
		return music.QueuePage{}, fail("reading the queue", err)
	}
	return page, nil
}

// readPages returns the concatenated entry ids of refs, in order.
func (s *Store) readPages(ctx context.Context, guild music.GuildID, refs []pageRef) ([]uint64, error) {
	keys := make([]map[string]types.AttributeValue, len(refs))
	for i, p := range refs {
		keys[i] = s.queueKey(guild, pageSK(p.id))
	}
	items, err := s.getQueueItems(ctx, keys)
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, p := range refs {
		item, ok := items[pageSK(p.id)]
		if !ok {
			return nil, errStale
		}
		got, err := checkedIDs(item, p)
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	return ids, nil
}

func (m meta) total() int {
	n := 0
	for _, p := range m.pages {
		n += p.n
	}
	return n
}

// Peek implements music.QueueStore.
func (s *Store) Peek(ctx context.Context, guild music.GuildID) (music.Entry, error) {
	if err := guild.Validate(); err != nil {
		return music.Entry{}, err
	}
	var e music.Entry
	err := s.read(ctx, func() error {
		m, err := s.readMeta(ctx, guild)
		if err != nil {
			return err
		}
		if err := music.CheckIndex(m.total(), 0); err != nil {
			return err
		}
		ids, err := s.readPage(ctx, guild, m.pages[0])
		if err != nil {
			return err
		}
		e, err = s.readEntry(ctx, guild, ids[0])
		return err
	})
	return e, fail("reading the queue", err)
}

// Pop implements music.QueueStore.
func (s *Store) Pop(ctx context.Context, guild music.GuildID) (music.Entry, error) {
	return s.RemoveAt(ctx, guild, 0)
}

// RemoveAt implements music.QueueStore.
func (s *Store) RemoveAt(ctx context.Context, guild music.GuildID, index int) (music.Entry, error) {
	if err := guild.Validate(); err != nil {
		return music.Entry{}, err
	}
	var e music.Entry
	err := s.mutate(ctx, guild, func(w *work) error {
		if err := music.CheckIndex(w.total(), index); err != nil {
			return err
		}
		id, err := w.removeAt(index)
		if err != nil {
			return err
		}
		if e, err = s.readEntry(ctx, guild, id); err != nil {
			return err
		}
		w.deadEntries = append(w.deadEntries, id)
		return nil
	})
	return e, fail("removing from the queue", err)
}

// Move implements music.QueueStore.
func (s *Store) Move(ctx context.Context, guild music.GuildID, from, to int) error {
	if err := guild.Validate(); err != nil {
		return err
	}
	err := s.mutate(ctx, guild, func(w *work) error {
		if err := music.CheckIndex(w.total(), from); err != nil {
			return err
		}
		if err := music.CheckIndex(w.total(), to); err != nil {
			return err
		}
		if from == to {
			return nil
		}
		id, err := w.removeAt(from)
		if err != nil {
			return err
		}
		return w.insertAt(to, id)
	})
	return fail("moving in the queue", err)
}

// Shuffle implements music.QueueStore. It rewrites every page, not one
// entry: the order lives in the pages.
func (s *Store) Shuffle(ctx context.Context, guild music.GuildID, seed int64) error {
	if err := guild.Validate(); err != nil {
		return err
	}
	err := s.mutate(ctx, guild, func(w *work) error {
		if w.total() < 2 {
			return nil
		}
		ids, err := w.allIDs()
		if err != nil {
			return err
		}
		shuffled := make([]uint64, len(ids))
		for i, from := range music.ShuffleOrder(len(ids), seed) {
			shuffled[i] = ids[from]
		}
		w.replaceAll(shuffled)
		return nil
	})
	return fail("shuffling the queue", err)
}

// Clear implements music.QueueStore.
func (s *Store) Clear(ctx context.Context, guild music.GuildID) (int, error) {
	if err := guild.Validate(); err != nil {
		return 0, err
	}
	var n int
	err := s.mutate(ctx, guild, func(w *work) error {
		if n = w.total(); n == 0 {
			return nil
		}
		ids, err := w.allIDs()
		if err != nil {
			return err
		}
		w.deadEntries = append(w.deadEntries, ids...)
		w.replaceAll(nil)
		return nil
	})
	return n, fail("clearing the queue", err)
}

// Len implements music.QueueStore.
func (s *Store) Len(ctx context.Context, guild music.GuildID) (int, error) {
	if err := guild.Validate(); err != nil {
		return 0, err
	}
	m, err := s.readMeta(ctx, guild)
	return m.total(), fail("reading the queue", err)
}

// read runs fn until it does not find an item removed under it.
func (s *Store) read(ctx context.Context, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if !errors.Is(err, errStale) {
			return err
		}
		if attempt+1 == s.attempts {
			return conflict()
		}
		if err := conflictWait(ctx, attempt); err != nil {
			return err
		}
	}
}

func conflict() error {
	return music.Errorf(music.ECONFLICT, "The queue is changing too fast right now; try again.")
}

// mutate applies edit to the guild's queue and commits the result, starting
// again from the newest version while other writers win (see the package
// doc). edit may run several times; it must not have effects outside w
// other than idempotent ones.
func (s *Store) mutate(ctx context.Context, guild music.GuildID, edit func(w *work) error) error {
	unlock, err := s.lockGuild(ctx, guild)
	if err != nil {
		return err
	}
	defer unlock()
	token := rand.Uint64()
	for attempt := 0; ; attempt++ {
		err := s.tryMutate(ctx, guild, token, edit)
		if !errors.Is(err, errStale) && !errors.Is(err, errConflict) {
			return err
		}
		if attempt+1 == s.attempts {
			return conflict()
		}
		if err := conflictWait(ctx, attempt); err != nil {
			return err
		}
	}
}

func (s *Store) tryMutate(ctx context.Context, guild music.GuildID, token uint64, edit func(w *work) error) error {
	m, err := s.readMeta(ctx, guild)
	if err != nil {
		return err
	}
	w := &work{ctx: ctx, s: s, guild: guild, base: m.version, token: token, recent: m.recent}
	for _, p := range m.pages {
		w.slots = append(w.slots, slot{id: p.id, n: p.n})
	}
	if err := edit(w); err != nil {
		return err
	}
	if !w.changed() {
		return nil
	}
	return s.commit(ctx, w)
}

// commit writes the changed pages, then the meta item on condition that
// nobody committed since w's version; then it deletes what the new version
// no longer references. On failure it deletes the pages it wrote.
func (s *Store) commit(ctx context.Context, w *work) error {
	var (
		mu      sync.Mutex
		written []map[string]types.AttributeValue
		changed []int
	)
	fail := func(err error) error {
		s.deleteQuietly(ctx, s.tables.Queues, written)
		return err
	}
	for i, sl := range w.slots {
		if sl.id == 0 {
			changed = append(changed, i)
		}
	}
	err := inParallel(ctx, len(changed), func(ctx context.Context, k int) error {
		sl := &w.slots[changed[k]]
		id, err := s.putPage(ctx, w.guild, sl.ids)
		if err != nil {
			return err
		}
		sl.id = id
		mu.Lock()
		defer mu.Unlock()
		written = append(written, s.queueKey(w.guild, pageSK(id)))
		return nil
	})
	if err != nil {
		return fail(err)
	}
	refs := make([]pageRef, len(w.slots))
	for i, sl := range w.slots {
		refs[i] = pageRef{id: sl.id, n: sl.n}
	}
	item := s.queueKey(w.guild, skMeta)
	item[attrVersion] = num(w.base + 1)
	if len(refs) > 0 {
		item[attrPages] = &types.AttributeValueMemberB{Value: encodePages(refs)}
	}
	recent := append([]uint64{w.token}, w.recent[:min(len(w.recent), recentTokens-1)]...)
	item[attrRecent] = &types.AttributeValueMemberB{Value: encodeIDs(recent)}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.tables.Queues), Item: item}
	if w.base == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(#sk)")
		in.ExpressionAttributeNames = map[string]string{"#sk": attrSort}
	} else {
		in.ConditionExpression = aws.String("#v = :v")
		in.ExpressionAttributeNames = map[string]string{"#v": attrVersion}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(w.base)}
	}
	if _, err := s.api.PutItem(ctx, in); err != nil {
		// The SDK may have retried a put whose first answer was lost:
		// only the meta item can tell whether this change is in.
		checkCtx, cancel := cleanupContext(ctx) // also when ctx ended
		landed, checkErr := s.landed(checkCtx, w.guild, w.token)
		cancel()
		switch {
		case checkErr != nil:
			// The pages written may be referenced: keep them.
			return fmt.Errorf("%w: %w", errUncertain, err)
		case landed:
			s.collect(ctx, w)
			return nil
		case isConditionFailed(err):
			return fail(errConflict)
		}
		return fail(err)
	}
	s.collect(ctx, w)
	return nil
}

// errUncertain marks a change that failed in a way that leaves open whether
// it was committed: what it wrote must stay.
var errUncertain = errors.New("cannot tell whether the change was committed")

// landed reports whether the change with token is committed.
func (s *Store) landed(ctx context.Context, guild music.GuildID, token uint64) (bool, error) {
	m, err := s.readMeta(ctx, guild)
	return slices.Contains(m.recent, token), err
}

// collect deletes what a committed change no longer references.
func (s *Store) collect(ctx context.Context, w *work) {
	garbage := make([]map[string]types.AttributeValue, 0, len(w.retired)+len(w.deadEntries))
	for _, id := range w.retired {
		garbage = append(garbage, s.queueKey(w.guild, pageSK(id)))
	}
	for _, id := range w.deadEntries {
		garbage = append(garbage, s.queueKey(w.guild, entrySK(id)))
	}
	s.deleteQuietly(ctx, s.tables.Queues, garbage)
}

// pageIDAttempts bounds the search for an unused random page id; a guild
// has at most a few hundred pages among 2^24 ids.
const pageIDAttempts = 5

// putPage writes a new page under a random id no other item has.
func (s *Store) putPage(ctx context.Context, guild music.GuildID, ids []uint64) (uint32, error) {
	for range pageIDAttempts {
		id := 1 + rand.Uint32N(1<<pageIDBits-1)
		item := s.queueKey(guild, pageSK(id))
		item[attrIDs] = &types.AttributeValueMemberB{Value: encodeIDs(ids)}
		_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                aws.String(s.tables.Queues),
			Item:                     item,
			ConditionExpression:      aws.String("attribute_not_exists(#sk)"),
			ExpressionAttributeNames: map[string]string{"#sk": attrSort},
		})
		if !isConditionFailed(err) {
			return id, err
		}
	}
	return 0, fmt.Errorf("no unused page id after %d attempts", pageIDAttempts)
}

// deleteQuietly deletes items nothing references any more. Failing leaves
// unreachable items behind, which no read can see, so the caller's outcome
// does not depend on it.
func (s *Store) deleteQuietly(ctx context.Context, table string, keys []map[string]types.AttributeValue) {
	if len(keys) == 0 {
		return
	}
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	_ = s.deleteItems(ctx, table, keys)
}

// ForgetRequester clears RequestedBy of every entry user queued, in every
// guild's queue, and returns how many entries it changed; ids and order
// stay. Autoplay's entries are no user's.
//
// No key leads from a user to their entries, so it scans the whole queues
// table with a filter, a page at a time, as long as ctx allows: /forget-me
// is rare, and the scan's cost is the table's size in read units. Each
// entry found is put back without its requester on condition that it
// still names user, so an entry removed meanwhile stays removed; this is
// the one change an entry item sees after it is written, and a reader sees
// the entry whole either way. A put whose answer was lost reads as an
// entry removed meanwhile and goes uncounted.
func (s *Store) ForgetRequester(ctx context.Context, user music.UserID) (int, error) {
	if err := user.Validate(); err != nil {
		return 0, err
	}
	p := dynamodb.NewScanPaginator(s.api, &dynamodb.ScanInput{
		TableName:                 aws.String(s.tables.Queues),
		ConsistentRead:            aws.Bool(true),
		FilterExpression:          aws.String("begins_with(#sk, :entry) AND #by = :user"),
		ExpressionAttributeNames:  map[string]string{"#sk": attrSort, "#by": attrBy},
		ExpressionAttributeValues: map[string]types.AttributeValue{":entry": str("e#"), ":user": str(string(user))},
	})
	var changed atomic.Int64
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, fail("forgetting a requester", err)
		}
		err = inParallel(ctx, len(page.Items), func(ctx context.Context, i int) error {
			item := page.Items[i]
			delete(item, attrBy)
			_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
				TableName:                 aws.String(s.tables.Queues),
				Item:                      item,
				ConditionExpression:       aws.String("#by = :user"),
				ExpressionAttributeNames:  map[string]string{"#by": attrBy},
				ExpressionAttributeValues: map[string]types.AttributeValue{":user": str(string(user))},
			})
			if isConditionFailed(err) {
				return nil
			}
			if err == nil {
				changed.Add(1)
			}
			return err
		})
		if err != nil {
			return 0, fail("forgetting a requester", err)
		}
	}
	return int(changed.Load()), nil
}
