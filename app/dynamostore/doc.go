// Package dynamostore implements the music ports (queues, allowlist, user
// preferences, saved playlists, track cache), account linking's flows
// under way (account.PendingFlows) and the index of linked accounts that
// app/account/awstokens keeps beside their secrets, on DynamoDB. It owns the
// tables' key schema,
// which Tables exports once, as data, for CreateTables and for the
// infrastructure code that must create the same tables. It does not own the
// tables in AWS (the Data stack does) nor reading configuration.
//
// # Tables and keys
//
//	table        partition key   sort key   items
//	queues       guild (S)       sk (S)     "meta", "p#<page id>", "e#<entry id>"
//	preferences  user (S)        -          one per user, and per user with saved
//	                                        playlists "<user>#playlists" (the index)
//	                                        and "<user>#pl#<id>#<i>" (their tracks;
//	                                        see playlist.go); per linked account
//	                                        "link#<user>#<service>" (no tokens;
//	                                        see links.go); link flows under way,
//	                                        "flow#<state hash>" and
//	                                        "<user>#flow#<service>" (linkflows.go),
//	                                        which alone carry ttl (N, epoch s)
//	track-cache  key (S)         -          one per lookup; key is the SHA-256 of
//	                                        the lookup, ttl (N, epoch s) is the TTL
//	allowlist    guild (S)       -          one per guild: approved, or its pending
//	                                        request (askers, count, last notification)
//
// No table has a secondary index, and none is needed: every access is by
// primary key, except the owner-only allowlist listings, which scan a table
// of one item per guild with consistent reads, and /forget-me, rare enough
// to scan the allowlist for the user's asks and the queues table for the
// entries they queued.
//
// # Queues: bounded items per operation
//
// A guild's queue is three kinds of item under its partition:
//
//   - entry items ("e#" + 16 hex digits of a random 64-bit id) hold one
//     track each and never change once written, but for /forget-me
//     removing who queued it (ForgetRequester);
//   - page items ("p#" + 6 hex digits of a random 24-bit id) hold the ids of
//     up to pageCap (100) consecutive entries, in order, 8 bytes each, and
//     never change once written either;
//   - the meta item ("meta") holds a version number, the ordered list of the
//     queue's pages with their entry counts (4 bytes per page), and the
//     tokens of the last eight changes (64 bytes).
//
// Index i is found from the meta item alone (running sum of the counts),
// then one page read gives the entry id. Pages are kept dense: any two
// adjacent pages hold more than pageCap entries together (a page that
// shrinks merges with a neighbour, one that overflows splits and merges its
// halves outward), so a queue of n entries has at most 2n/pageCap+1 pages and
// the meta item of a full queue (10,000 entries, at most 201 pages: about
// 930 bytes in all) stays under 1 KB: one write unit, one read unit,
// whatever the length.
//
// Operations read the meta item, the pages they touch and the entries they
// return, and write new page items, entry items and the meta item; replaced
// pages and removed entries are deleted after the commit. Reads are strongly
// consistent. Units per operation, as BenchmarkQueue measures them with
// typical entries (TestCapacityIndependentOfLength holds the first four to
// the same values at 10 and 10,000 entries):
//
//	operation       reads                            writes                           RCU  WCU
//	enqueue one     meta, last page                  entry, page, meta, -old page       2    4
//	enqueue k       meta, last page                  k entries, k/100+1 pages, meta    1-2 ~1.01k+3
//	peek            meta, first page, entry          -                                  3    0
//	page (<= 100)   meta, <= 3 pages, <= 100 entries -                               <=104   0
//	skip / remove   meta, page, entry                page, meta, -old page, -entry      3    4
//	move            meta, 1-6 pages                  1-4 pages, meta, -old pages       2-7 3-10
//	shuffle         meta, all pages                  all pages, meta, -old pages     n/100 2n/100
//	clear           meta, all pages                  meta, -all pages, -all entries  n/100 1.01n
//
// (A "-" marks a delete.) Enqueueing onto a full last page reads and writes
// one page less (1 RCU, 3 WCU). An entry at the bounds of music.Track (256-rune
// title, 2 KB URL) is about 3 KB: one read unit, up to four write units.
//
// # Concurrency without transactions
//
// The meta item is the single commit point. A change writes its new entries
// and pages first (pages with a condition that the key is new), then puts
// the meta item on condition that its version is still the one read. If
// another writer committed first, the condition fails, the change deletes
// what it wrote and starts again from the new state; after a number of
// attempts it returns ECONFLICT. Readers see either the old list of pages or
// the new one, never a mixture, because pages and entries are immutable;
// only after a successful commit are the replaced pages and removed entries
// deleted. A reader that finds one of those gone has read an old meta item
// and reads again. Nothing depends on TransactWriteItems.
//
// Within one process a Store also serialises changes to a guild's queue
// (striped locks), so that retries are spent only on writers in other
// processes; correctness does not depend on it.
//
// A change carries a random token into the meta item. When the put of the
// meta item fails, the change reads the meta item again: if its token is
// there, the put did land (its answer was lost and the SDK's retry then
// failed the condition), and the change counts as done, not repeated.
//
// A change that fails before its commit (conflict exhausted, endpoint gone)
// leaves the queue exactly as it was; the items it wrote are unreachable
// and, where the endpoint still answers, deleted. When not even the meta item
// can be read to tell, they are kept, since they might be referenced.
//
// # Access requests
//
// A guild's pending request is one item carrying a version number. An ask
// reads it, adds itself with music.AccessRequest.AddAsk (which bounds the
// askers kept) and puts it back on condition that the version is unchanged,
// or that no item exists; the loser of a race reads again and retries, so
// simultaneous asks are all recorded and exactly one of them notifies the
// owners.
//
// # Failures
//
// Throttling and 5xx answers are retried by the SDK's retryer (see
// NewClient); a connection that cannot be made is not, and the operation
// fails at once with EUNAVAILABLE.
package dynamostore
