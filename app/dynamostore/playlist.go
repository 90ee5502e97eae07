package dynamostore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/iddv/timmybot/app/music"
)

// Saved playlists live in the preferences table beside each user's
// preferences item, under keys no user ID can take (IDs are digits only):
//
//	<user>#playlists               the index: version and, per playlist,
//	                               name, content id, chunk and track counts
//	<user>#pl#<content id>#<i>     chunk i of one playlist's tracks (JSON)
//
// The index is the commit point, as a queue's meta item is: a save writes
// new chunks under a fresh content id, then puts the index on condition that
// its version is unchanged, then deletes the chunks it replaced. Chunks never
// change once written, so a reader sees a whole playlist, old or new; one
// that finds a chunk gone read an old index and reads again.
const (
	attrPlaylists = "pl"
	attrTracks    = "tracks"
	// chunkMaxBytes keeps a chunk well under DynamoDB's 400 KB item limit;
	// a track at the bounds of music.Track encodes to about 26 KB at worst.
	chunkMaxBytes = 350_000
)

// playlistRef is one playlist in a user's index.
type playlistRef struct {
	Name    string
	Content string // hex id of the chunks
	Chunks  int
	Tracks  int
	SavedAt time.Time
}

func playlistIndexKey(user music.UserID) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrUser: str(string(user) + "#playlists")}
}

func playlistChunkKey(user music.UserID, content string, i int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrUser: str(fmt.Sprintf("%s#pl#%s#%d", user, content, i))}
}

func (r playlistRef) chunkKeys(user music.UserID) []map[string]types.AttributeValue {
	keys := make([]map[string]types.AttributeValue, r.Chunks)
	for i := range keys {
		keys[i] = playlistChunkKey(user, r.Content, i)
	}
	return keys
}

// readPlaylistIndex returns the user's playlists, ordered by name, and the
// index's version (0: no index yet).
func (s *Store) readPlaylistIndex(ctx context.Context, user music.UserID) ([]playlistRef, int64, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Preferences),
		Key:            playlistIndexKey(user),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		return nil, 0, err
	}
	version, err := getNum(out.Item, attrVersion)
	if err != nil {
		return nil, 0, err
	}
	var refs []playlistRef
	if err := json.Unmarshal(getBytes(out.Item, attrPlaylists), &refs); err != nil {
		return nil, 0, fmt.Errorf("playlist index of %s: %w", user, err)
	}
	return refs, version, nil
}

// putPlaylistIndex replaces the index on condition that its version is
// still base; isConditionFailed tells when another writer came first.
func (s *Store) putPlaylistIndex(ctx context.Context, user music.UserID, refs []playlistRef, base int64) error {
	raw, err := json.Marshal(refs)
	if err != nil {
		return fmt.Errorf("encoding the playlist index: %w", err)
	}
	next := base + 1
	if base == 0 {
		// An index made anew (the first, or one after DeletePlaylists)
		// starts at a random version, so that a writer who read an index
		// deleted since cannot match it.
		next = rand.Int64N(1<<62) + 1
	}
	item := playlistIndexKey(user)
	item[attrVersion] = num(next)
	item[attrPlaylists] = &types.AttributeValueMemberB{Value: raw}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.tables.Preferences), Item: item}
	in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues = versionCondition(base)
	_, err = s.api.PutItem(ctx, in)
	return err
}

// versionCondition is the condition of a write on a preferences-table item
// whose version is base; base 0 means no item.
func versionCondition(base int64) (expr *string, names map[string]string, values map[string]types.AttributeValue) {
	if base == 0 {
		return aws.String("attribute_not_exists(#u)"), map[string]string{"#u": attrUser}, nil
	}
	return aws.String("#v = :v"), map[string]string{"#v": attrVersion}, map[string]types.AttributeValue{":v": num(base)}
}

func findPlaylist(refs []playlistRef, name string) int {
	return slices.IndexFunc(refs, func(r playlistRef) bool { return r.Name == name })
}

// encodeChunks packs the tracks, in order, into JSON arrays of at most
// chunkMaxBytes each.
func encodeChunks(tracks []music.Track) ([][]byte, error) {
	var chunks [][]byte
	var cur bytes.Buffer
	for _, t := range tracks {
		raw, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("encoding a track: %w", err)
		}
		if cur.Len() > 0 && cur.Len()+len(raw)+2 > chunkMaxBytes {
			cur.WriteByte(']')
			chunks = append(chunks, bytes.Clone(cur.Bytes()))
			cur.Reset()
		}
		if cur.Len() == 0 {
			cur.WriteByte('[')
		} else {
			cur.WriteByte(',')
		}
		cur.Write(raw)
	}
	cur.WriteByte(']')
	return append(chunks, cur.Bytes()), nil
}

// SavePlaylist implements music.PlaylistStore.
func (s *Store) SavePlaylist(ctx context.Context, p music.SavedPlaylist, overwrite bool) error {
	if err := p.Validate(); err != nil {
		return err
	}
	chunks, err := encodeChunks(p.Tracks)
	if err != nil {
		return err
	}
	for attempt := 0; attempt < s.attempts; attempt++ {
		if attempt > 0 {
			if err := conflictWait(ctx, attempt); err != nil {
				return fail("saving a playlist", err)
			}
		}
		refs, version, err := s.readPlaylistIndex(ctx, p.User)
		if err != nil {
			return fail("saving a playlist", err)
		}
		i := findPlaylist(refs, p.Name)
		switch {
		case i >= 0 && !overwrite:
			return music.PlaylistExists(p.Name)
		case i < 0 && len(refs) >= music.MaxPlaylists:
			return music.TooManyPlaylists()
		}
		ref := playlistRef{Name: p.Name, Content: fmt.Sprintf("%016x", rand.Uint64()), Chunks: len(chunks), Tracks: len(p.Tracks), SavedAt: s.now().UTC()}
		items := ref.chunkKeys(p.User)
		for j, item := range items {
			item[attrTracks] = &types.AttributeValueMemberB{Value: chunks[j]}
		}
		if err := s.putItems(ctx, s.tables.Preferences, items); err != nil {
			s.deleteQuietly(ctx, s.tables.Preferences, ref.chunkKeys(p.User))
			return fail("saving a playlist", err)
		}
		next := slices.Clone(refs)
		var replaced []map[string]types.AttributeValue
		if i >= 0 {
			replaced = next[i].chunkKeys(p.User)
			next[i] = ref
		} else {
			next = append(next, ref)
			slices.SortFunc(next, func(a, b playlistRef) int { return strings.Compare(a.Name, b.Name) })
		}
		err = s.putPlaylistIndex(ctx, p.User, next, version)
		if isConditionFailed(err) {
			s.deleteQuietly(ctx, s.tables.Preferences, ref.chunkKeys(p.User))
			continue
		}
		if err != nil {
			// The put may have landed: its chunks stay, as they might be referenced.
			return fail("saving a playlist", err)
		}
		s.deleteQuietly(ctx, s.tables.Preferences, replaced)
		return nil
	}
	return playlistConflict()
}

func playlistConflict() error {
	return music.Errorf(music.ECONFLICT, "Your playlists are changing too fast right now; try again.")
}

// Playlist implements music.PlaylistStore.
func (s *Store) Playlist(ctx context.Context, user music.UserID, name string) (music.SavedPlaylist, error) {
	if err := user.Validate(); err != nil {
		return music.SavedPlaylist{}, err
	}
	for attempt := 0; attempt < s.attempts; attempt++ {
		if attempt > 0 {
			if err := conflictWait(ctx, attempt); err != nil {
				return music.SavedPlaylist{}, fail("reading a playlist", err)
			}
		}
		refs, _, err := s.readPlaylistIndex(ctx, user)
		if err != nil {
			return music.SavedPlaylist{}, fail("reading a playlist", err)
		}
		i := findPlaylist(refs, name)
		if i < 0 {
			return music.SavedPlaylist{}, music.PlaylistNotFound(name)
		}
		tracks, complete, err := s.readChunks(ctx, user, refs[i])
		if err != nil {
			return music.SavedPlaylist{}, fail("reading a playlist", err)
		}
		if complete {
			return music.SavedPlaylist{User: user, Name: name, Tracks: tracks, SavedAt: refs[i].SavedAt}, nil
		}
	}
	return music.SavedPlaylist{}, playlistConflict()
}

// readChunks reads a playlist's tracks; complete is false when a chunk is
// gone, replaced since the index was read.
func (s *Store) readChunks(ctx context.Context, user music.UserID, ref playlistRef) (tracks []music.Track, complete bool, err error) {
	tracks = make([]music.Track, 0, ref.Tracks)
	for _, key := range ref.chunkKeys(user) {
		out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(s.tables.Preferences),
			Key:            key,
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, false, err
		}
		if out.Item == nil {
			return nil, false, nil
		}
		var chunk []music.Track
		if err := json.Unmarshal(getBytes(out.Item, attrTracks), &chunk); err != nil {
			return nil, false, fmt.Errorf("playlist %q of %s: %w", ref.Name, user, err)
		}
		tracks = append(tracks, chunk...)
	}
	return tracks, true, nil
}

// Playlists implements music.PlaylistStore.
func (s *Store) Playlists(ctx context.Context, user music.UserID) ([]music.PlaylistSummary, error) {
	if err := user.Validate(); err != nil {
		return nil, err
	}
	refs, _, err := s.readPlaylistIndex(ctx, user)
	if err != nil {
		return nil, fail("listing playlists", err)
	}
	list := make([]music.PlaylistSummary, len(refs))
	for i, r := range refs {
		list[i] = music.PlaylistSummary{Name: r.Name, Tracks: r.Tracks, SavedAt: r.SavedAt}
	}
	return list, nil
}

// DeletePlaylist implements music.PlaylistStore.
func (s *Store) DeletePlaylist(ctx context.Context, user music.UserID, name string) error {
	if err := user.Validate(); err != nil {
		return err
	}
	for attempt := 0; attempt < s.attempts; attempt++ {
		if attempt > 0 {
			if err := conflictWait(ctx, attempt); err != nil {
				return fail("deleting a playlist", err)
			}
		}
		refs, version, err := s.readPlaylistIndex(ctx, user)
		if err != nil {
			return fail("deleting a playlist", err)
		}
		i := findPlaylist(refs, name)
		if i < 0 {
			return music.PlaylistNotFound(name)
		}
		err = s.putPlaylistIndex(ctx, user, slices.Delete(slices.Clone(refs), i, i+1), version)
		if isConditionFailed(err) {
			continue
		}
		if err != nil {
			return fail("deleting a playlist", err)
		}
		s.deleteQuietly(ctx, s.tables.Preferences, refs[i].chunkKeys(user))
		return nil
	}
	return playlistConflict()
}

// DeletePlaylists implements music.PlaylistStore. It deletes the chunks
// before the index, so that an attempt cut short leaves the index naming
// everything still stored, for the next attempt to find.
func (s *Store) DeletePlaylists(ctx context.Context, user music.UserID) (int, error) {
	if err := user.Validate(); err != nil {
		return 0, err
	}
	for attempt := 0; attempt < s.attempts; attempt++ {
		if attempt > 0 {
			if err := conflictWait(ctx, attempt); err != nil {
				return 0, fail("deleting playlists", err)
			}
		}
		refs, version, err := s.readPlaylistIndex(ctx, user)
		if err != nil {
			return 0, fail("deleting playlists", err)
		}
		if version == 0 {
			return 0, nil
		}
		var chunks []map[string]types.AttributeValue
		for _, r := range refs {
			chunks = append(chunks, r.chunkKeys(user)...)
		}
		if err := s.deleteItems(ctx, s.tables.Preferences, chunks); err != nil {
			return 0, fail("deleting playlists", err)
		}
		_, err = s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 aws.String(s.tables.Preferences),
			Key:                       playlistIndexKey(user),
			ConditionExpression:       aws.String("#v = :v"),
			ExpressionAttributeNames:  map[string]string{"#v": attrVersion},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(version)},
		})
		if isConditionFailed(err) {
			continue
		}
		if err != nil {
			return 0, fail("deleting playlists", err)
		}
		return len(refs), nil
	}
	return 0, playlistConflict()
}
