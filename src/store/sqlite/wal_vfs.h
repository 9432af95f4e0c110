// A SQLite VFS that writes a transaction's WAL frames to the file in a few large writes.
//
// SQLite's own (unix) VFS writes a WAL frame as two pwrite calls, its 24-byte header and its
// page, so a group commit of 50 pages makes 100 system calls before its fsync; on the machines
// houston is measured on a system call costs microseconds of CPU (docs/BENCHMARKS.md). This VFS
// wraps the default one and, for WAL files only, keeps consecutive writes in memory until
// SQLite syncs, reads, truncates, asks the size of or closes the file, and then writes them in
// calls of up to 64 KiB. Every other file (the database, its journal) is the default VFS's own,
// unwrapped.
//
// Only for connections with `PRAGMA synchronous = FULL`: there SQLite syncs the WAL at every
// commit, before it publishes the new frames to other connections in the WAL index, so a reader
// never looks for a frame still in this memory. With NORMAL, a commit publishes frames without
// a sync, and they would be missing from the file for a moment: SqliteDb::Open uses this VFS
// only when asked to, and SqliteStore asks only with synchronous FULL.
#pragma once

namespace houston::store::sqlite {

// Registers the VFS with SQLite once per process (not as the default) and returns its name for
// sqlite3_open_v2, or nullptr if it could not be registered (then the default VFS is used).
const char* BatchedWalVfs();

}  // namespace houston::store::sqlite
