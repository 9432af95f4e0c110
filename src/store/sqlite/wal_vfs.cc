#include "store/sqlite/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <vector>

namespace houston::store::sqlite {
namespace {

constexpr char kName[] = "houston-batched-wal";
// Bytes kept before they are written (one write may take the buffer past it once).
constexpr size_t kMaxPending = size_t{1} << 20;
// The size of one write. The unix VFS writes at most 128 KiB - 1 bytes per call (it masks the
// length with 0x1ffff) and reports a longer write as a full disk.
constexpr size_t kChunk = size_t{1} << 16;

sqlite3_vfs* Base(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

// A WAL file: SQLite's handle (`base`, whose methods are kWalMethods), then the default VFS's
// own file object, which SQLite sized for through szOsFile.
struct WalFile {
  sqlite3_file base;
  sqlite3_file* real;
  std::vector<char> pending;  // bytes not yet written, for the file from `start` on
  sqlite3_int64 start = 0;
};

constexpr size_t kRealOffset = (sizeof(WalFile) + 15) & ~size_t{15};

WalFile* Self(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }
sqlite3_file* Real(sqlite3_file* f) { return Self(f)->real; }

// Writes the pending bytes; they are dropped whatever the outcome (a failed write fails the
// transaction, and SQLite writes its frames again in the next).
int Flush(WalFile* w) {
  int rc = SQLITE_OK;
  for (size_t done = 0; done < w->pending.size() && rc == SQLITE_OK; done += kChunk) {
    const size_t n = std::min(kChunk, w->pending.size() - done);
    rc = w->real->pMethods->xWrite(w->real, w->pending.data() + done, static_cast<int>(n),
                                   w->start + static_cast<sqlite3_int64>(done));
  }
  w->pending.clear();
  return rc;
}

int Close(sqlite3_file* f) {
  WalFile* w = Self(f);
  int flushed = Flush(w);
  int closed = w->real->pMethods->xClose(w->real);
  w->~WalFile();
  return flushed != SQLITE_OK ? flushed : closed;
}

int Read(sqlite3_file* f, void* out, int n, sqlite3_int64 off) {
  if (int rc = Flush(Self(f)); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xRead(Real(f), out, n, off);
}

int Write(sqlite3_file* f, const void* data, int n, sqlite3_int64 off) {
  WalFile* w = Self(f);
  const auto size = static_cast<sqlite3_int64>(w->pending.size());
  // SQLite rewrites a frame of the current transaction in place when a page changes again.
  if (size > 0 && off >= w->start && off + n <= w->start + size) {
    std::memcpy(w->pending.data() + (off - w->start), data, static_cast<size_t>(n));
    return SQLITE_OK;
  }
  if (size > 0 &&
      (off != w->start + size || w->pending.size() + static_cast<size_t>(n) > kMaxPending)) {
    if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  }
  // Even a write larger than kMaxPending is kept: Flush writes it in chunks the unix VFS takes.
  if (w->pending.empty()) w->start = off;
  const auto* bytes = static_cast<const char*>(data);
  w->pending.insert(w->pending.end(), bytes, bytes + n);
  return SQLITE_OK;
}

int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (int rc = Flush(Self(f)); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xTruncate(Real(f), size);
}

int Sync(sqlite3_file* f, int flags) {
  if (int rc = Flush(Self(f)); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xSync(Real(f), flags);
}

int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  if (int rc = Flush(Self(f)); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xFileSize(Real(f), size);
}

int Fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  *out = nullptr;
  if (int rc = Flush(Self(f)); rc != SQLITE_OK) return rc;
  if (Real(f)->pMethods->iVersion < 3) return SQLITE_OK;  // no memory map: SQLite reads
  return Real(f)->pMethods->xFetch(Real(f), off, n, out);
}

const sqlite3_io_methods kWalMethods = {
    3,  // iVersion
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    [](sqlite3_file* f, int lock) { return Real(f)->pMethods->xLock(Real(f), lock); },
    [](sqlite3_file* f, int lock) { return Real(f)->pMethods->xUnlock(Real(f), lock); },
    [](sqlite3_file* f, int* out) { return Real(f)->pMethods->xCheckReservedLock(Real(f), out); },
    [](sqlite3_file* f, int op, void* arg) {
      return Real(f)->pMethods->xFileControl(Real(f), op, arg);
    },
    [](sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); },
    [](sqlite3_file* f) { return Real(f)->pMethods->xDeviceCharacteristics(Real(f)); },
    // SQLite maps shared memory through the database file, never the WAL; these forward anyway.
    [](sqlite3_file* f, int region, int size, int extend, void volatile** out) {
      if (Real(f)->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
      return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
    },
    [](sqlite3_file* f, int offset, int n, int flags) {
      if (Real(f)->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
      return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
    },
    [](sqlite3_file* f) {
      if (Real(f)->pMethods->iVersion >= 2) Real(f)->pMethods->xShmBarrier(Real(f));
    },
    [](sqlite3_file* f, int remove) {
      if (Real(f)->pMethods->iVersion < 2) return SQLITE_OK;
      return Real(f)->pMethods->xShmUnmap(Real(f), remove);
    },
    Fetch,
    [](sqlite3_file* f, sqlite3_int64 off, void* p) {
      if (Real(f)->pMethods->iVersion < 3) return SQLITE_OK;
      return Real(f)->pMethods->xUnfetch(Real(f), off, p);
    },
};

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  sqlite3_vfs* base = Base(vfs);
  // Anything but a WAL is the default VFS's file, in the same memory, with its own methods.
  if ((flags & SQLITE_OPEN_WAL) == 0) return base->xOpen(base, name, f, flags, out_flags);
  auto* real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + kRealOffset);
  real->pMethods = nullptr;
  int rc = base->xOpen(base, name, real, flags, out_flags);
  if (rc != SQLITE_OK) {
    // SQLite calls xClose only on a file whose pMethods is set; the default VFS may have set
    // its own before failing.
    if (real->pMethods != nullptr) real->pMethods->xClose(real);
    f->pMethods = nullptr;
    return rc;
  }
  WalFile* w = new (f) WalFile{};
  w->real = real;
  w->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

sqlite3_vfs* Make(sqlite3_vfs* base) {
  static sqlite3_vfs vfs{};
  vfs.iVersion = base->iVersion < 3 ? base->iVersion : 3;
  vfs.szOsFile = static_cast<int>(kRealOffset) + base->szOsFile;
  vfs.mxPathname = base->mxPathname;
  vfs.zName = kName;
  vfs.pAppData = base;
  vfs.xOpen = Open;
  vfs.xDelete = [](sqlite3_vfs* v, const char* path, int sync) {
    return Base(v)->xDelete(Base(v), path, sync);
  };
  vfs.xAccess = [](sqlite3_vfs* v, const char* path, int flags, int* out) {
    return Base(v)->xAccess(Base(v), path, flags, out);
  };
  vfs.xFullPathname = [](sqlite3_vfs* v, const char* path, int n, char* out) {
    return Base(v)->xFullPathname(Base(v), path, n, out);
  };
  vfs.xDlOpen = [](sqlite3_vfs* v, const char* path) { return Base(v)->xDlOpen(Base(v), path); };
  vfs.xDlError = [](sqlite3_vfs* v, int n, char* out) { Base(v)->xDlError(Base(v), n, out); };
  vfs.xDlSym = [](sqlite3_vfs* v, void* lib, const char* sym) {
    return Base(v)->xDlSym(Base(v), lib, sym);
  };
  vfs.xDlClose = [](sqlite3_vfs* v, void* lib) { Base(v)->xDlClose(Base(v), lib); };
  vfs.xRandomness = [](sqlite3_vfs* v, int n, char* out) {
    return Base(v)->xRandomness(Base(v), n, out);
  };
  vfs.xSleep = [](sqlite3_vfs* v, int us) { return Base(v)->xSleep(Base(v), us); };
  vfs.xCurrentTime = [](sqlite3_vfs* v, double* out) {
    return Base(v)->xCurrentTime(Base(v), out);
  };
  vfs.xGetLastError = [](sqlite3_vfs* v, int n, char* out) {
    return Base(v)->xGetLastError(Base(v), n, out);
  };
  if (vfs.iVersion >= 2) {
    vfs.xCurrentTimeInt64 = [](sqlite3_vfs* v, sqlite3_int64* out) {
      return Base(v)->xCurrentTimeInt64(Base(v), out);
    };
  }
  if (vfs.iVersion >= 3) {
    vfs.xSetSystemCall = [](sqlite3_vfs* v, const char* name, sqlite3_syscall_ptr p) {
      return Base(v)->xSetSystemCall(Base(v), name, p);
    };
    vfs.xGetSystemCall = [](sqlite3_vfs* v, const char* name) {
      return Base(v)->xGetSystemCall(Base(v), name);
    };
    vfs.xNextSystemCall = [](sqlite3_vfs* v, const char* name) {
      return Base(v)->xNextSystemCall(Base(v), name);
    };
  }
  return &vfs;
}

}  // namespace

const char* BatchedWalVfs() {
  static const char* name = []() -> const char* {
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    if (base == nullptr || sqlite3_vfs_register(Make(base), 0) != SQLITE_OK) return nullptr;
    return kName;
  }();
  return name;
}

}  // namespace houston::store::sqlite
