// Package dynamostore implements the music ports (queues, allowlist, user
// preferences, track cache) on DynamoDB. It owns the tables' key schema,
// which Tables exports once, as data, for CreateTables and for the
// infrastructure code that must create the same tables. It does not own the
// tables in AWS (the Data stack does) nor reading configuration.
//
// # Tables and keys
//
//	table        partition key   sort key   items
//	queues       guild (S)       sk (S)     "meta", "p#<page id>", "e#<entry id>"
//	preferences  user (S)        -          one per user
//	track-cache  key (S)         -          one per lookup; key is the SHA-256 of
//	                                        the lookup, ttl (N, epoch s) is the TTL
//	allowlist    guild (S)       -          one per guild: approved or requested
//
// No table has a secondary index, and none is needed: every access is by
// primary key, except the owner-only allowlist listings, which scan a table
// of one item per guild with consistent reads.
//
// # Queues: bounded items per operation
//
// A guild's queue is three kinds of item under its partition:
//
//   - entry items ("e#" + 16 hex digits of a random 64-bit id) hold one
//     track each and never change once written;
//   - page items ("p#" + 6 hex digits of a random 24-bit id) hold the ids of
//     up to pageCap (100) consecutive entries, in order, 8 bytes each, and
//     never change once written either;
//   - the meta item ("meta") holds a version number and the ordered list of
//     the queue's pages with their entry counts (4 bytes per page).
//
// Index i is found from the meta item alone (running sum of the counts),
// then one page read gives the entry id. Pages are kept dense: any two
// adjacent pages hold more than pageCap entries together (a page that
// shrinks merges with a neighbour, one that overflows splits and merges its
// halves outward), so a queue of n entries has at most 2n/pageCap+1 pages and
// the meta item of a full queue (10,000 entries, at most 201 pages) stays
// under 1 KB: one write unit, one read unit, whatever the length.
//
// Operations read the meta item, the pages they touch and the entries they
// return, and write new page items, entry items and the meta item:
//
//	enqueue one     meta, last page, 1 entry        -> new last page, meta
//	enqueue k       meta, last page, k entries      -> ceil(k/pageCap)+1 pages, meta
//	peek            meta, first page, 1 entry
//	page (<= 100)   meta, <= 3 pages, <= 100 entries
//	skip/remove     meta, 1-2 pages, 1 entry        -> 1 page, meta; delete old page, entry
//	move            meta, <= 6 pages                -> <= 4 pages, meta; delete old pages
//	shuffle         meta, all pages                 -> all pages, meta (entries untouched)
//	clear           meta, all pages                 -> meta; delete all pages and entries
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
// A change that fails before its commit (conflict exhausted, endpoint gone)
// leaves the queue exactly as it was; the items it wrote are unreachable
// and, where the endpoint still answers, deleted.
//
// # Failures
//
// Throttling and 5xx answers are retried by the SDK's retryer (see
// NewClient); a connection that cannot be made is not, and the operation
// fails at once with EUNAVAILABLE.
package dynamostore
