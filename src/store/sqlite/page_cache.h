// SQLite's default page cache, with one cost removed from every write transaction.
//
// When SQLite splits or merges B-tree pages it may swap two new pages' numbers, and to swap them
// it gives one page, for a moment, the number of the pending-byte page (page 262,145 with 4 KiB
// pages), which no database page ever has. The default cache (pcache1) remembers the highest
// page number it has seen, and only forgets it at a truncation. Each transaction's end asks the
// cache to drop the pages beyond the end of the database, and while that remembered number is
// far beyond the end, pcache1 walks its whole hash table (about one slot per page it holds) to
// find none: with the writer's 64 MiB cache, 16,384 slots at the end of every transaction that
// swapped pages, about a tenth of the store writer's CPU at 10,000 new alerts a second
// (docs/BENCHMARKS.md).
//
// This cache forwards every call to the default one, and keeps its own bound on the highest page
// number among the pages it holds, which leaves the pending-byte page out: the swap that uses it
// always moves the page on to its real number before it returns. A truncation below that bound
// is passed on; one above it has nothing to drop and is answered at once.
#pragma once

#include <cstdint>

namespace houston::store::sqlite {

// Installs the cache for every connection in the process. Call before SQLite is initialized
// (SqliteDb::Open does, once); returns false if SQLite refused (it was already initialized),
// and then the default cache stays.
bool InstallPageCache();

// Counts since the process started, for tests: truncations passed to the default cache, and
// those answered without it.
struct PageCacheCounts {
  int64_t truncations_passed = 0;
  int64_t truncations_skipped = 0;
  int64_t pending_page_rekeys = 0;  // pages given the pending-byte page's number for a swap
};
PageCacheCounts GetPageCacheCounts();

}  // namespace houston::store::sqlite
