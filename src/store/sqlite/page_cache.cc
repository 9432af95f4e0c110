#include "store/sqlite/page_cache.h"

#include <sqlite3.h>

#include <atomic>
#include <new>

namespace houston::store::sqlite {
namespace {

// SQLite's lock page: the page holding byte 0x40000000 of the file (sqliteInt.h's PENDING_BYTE).
constexpr unsigned kPendingByte = 0x40000000u;

sqlite3_pcache_methods2 base;  // the default cache, set once before SQLite's initialization

std::atomic<int64_t> passed{0};
std::atomic<int64_t> skipped{0};
std::atomic<int64_t> pending_rekeys{0};

struct Cache {
  sqlite3_pcache* real;
  unsigned pending_key;  // the pending-byte page's number at this cache's page size
  // At least the highest number among the pages the cache holds, the pending-byte page's
  // excepted (see page_cache.h).
  unsigned max_key = 0;
};

Cache* Self(sqlite3_pcache* p) { return reinterpret_cast<Cache*>(p); }

void Note(Cache* c, unsigned key) {
  if (key == c->pending_key) return;
  if (key > c->max_key) c->max_key = key;
}

sqlite3_pcache* Create(int page_size, int extra, int purgeable) {
  sqlite3_pcache* real = base.xCreate(page_size, extra, purgeable);
  if (real == nullptr) return nullptr;
  auto* c = static_cast<Cache*>(sqlite3_malloc(sizeof(Cache)));
  if (c == nullptr) {
    base.xDestroy(real);
    return nullptr;
  }
  new (c) Cache{real, kPendingByte / static_cast<unsigned>(page_size) + 1};
  return reinterpret_cast<sqlite3_pcache*>(c);
}

sqlite3_pcache_page* Fetch(sqlite3_pcache* p, unsigned key, int create) {
  Cache* c = Self(p);
  sqlite3_pcache_page* page = base.xFetch(c->real, key, create);
  if (page != nullptr) Note(c, key);
  return page;
}

void Rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  Cache* c = Self(p);
  base.xRekey(c->real, page, old_key, new_key);
  if (new_key == c->pending_key) pending_rekeys.fetch_add(1, std::memory_order_relaxed);
  Note(c, new_key);
}

void Truncate(sqlite3_pcache* p, unsigned limit) {
  Cache* c = Self(p);
  if (limit > c->max_key) {
    skipped.fetch_add(1, std::memory_order_relaxed);
    return;  // no page numbered `limit` or above: nothing to drop
  }
  passed.fetch_add(1, std::memory_order_relaxed);
  base.xTruncate(c->real, limit);
  c->max_key = limit > 0 ? limit - 1 : 0;
}

void Destroy(sqlite3_pcache* p) {
  Cache* c = Self(p);
  base.xDestroy(c->real);
  c->~Cache();
  sqlite3_free(c);
}

}  // namespace

bool InstallPageCache() {
  if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &base) != SQLITE_OK) return false;
  static const sqlite3_pcache_methods2 methods = {
      1,        // iVersion
      nullptr,  // pArg
      [](void*) { return base.xInit(base.pArg); },
      [](void*) { base.xShutdown(base.pArg); },
      Create,
      [](sqlite3_pcache* p, int n) { base.xCachesize(Self(p)->real, n); },
      [](sqlite3_pcache* p) { return base.xPagecount(Self(p)->real); },
      Fetch,
      [](sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
        base.xUnpin(Self(p)->real, page, discard);
      },
      Rekey,
      Truncate,
      Destroy,
      [](sqlite3_pcache* p) { base.xShrink(Self(p)->real); },
  };
  return sqlite3_config(SQLITE_CONFIG_PCACHE2, &methods) == SQLITE_OK;
}

PageCacheCounts GetPageCacheCounts() {
  return {passed.load(std::memory_order_relaxed), skipped.load(std::memory_order_relaxed),
          pending_rekeys.load(std::memory_order_relaxed)};
}

}  // namespace houston::store::sqlite
