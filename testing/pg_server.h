// PgServer: a throw-away PostgreSQL 15 server for tests.
//
// Start() copies a template cluster (made by initdb once per host, under /tmp) to a fresh
// directory under /tmp and starts it listening on a Unix socket in that directory only (no TCP),
// with durability off (fsync=off) for speed. Role
// `houston` is the superuser and logs in without a password. Tests get a fresh database each with
// NewDatabase(), and can stop, restart or kill the server to exercise reconnection. The
// destructor stops the server and deletes the directory. A test process that dies without
// running it (a crash, a timeout) leaves both behind; the next Start() on the host stops and
// deletes them.
//
// When run as root, initdb and pg_ctl run as the `postgres` system user (PostgreSQL refuses to
// run as root) and the directory belongs to it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace houston::testing {

// Thread-compatible: use from one thread at a time (the server itself takes any number of
// connections from any thread).
class PgServer {
 public:
  // Starts a server with a database `houston` (first reaping any left by dead processes).
  // FailedPrecondition if PostgreSQL 15 is not installed (or, as root, the `postgres` user is
  // missing); Internal if initdb or pg_ctl fail, with the tail of their output.
  static Result<std::unique_ptr<PgServer>> Start();
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // The libpq URL of database `houston`.
  const std::string& url() const { return url_; }
  // The libpq URL of database `database` on this server.
  std::string UrlOf(std::string_view database) const;
  // Creates database `name` (lower-case letters, digits and '_', at most 63, starting with a
  // letter: InvalidArgument otherwise) and returns its URL.
  Result<std::string> NewDatabase(std::string_view name);

  // Stops the server, letting it shut down cleanly (-m fast: sessions are terminated).
  Status Stop();
  // Stops it as a crash would (-m immediate); the next start runs crash recovery.
  Status Kill();
  // Starts it again after Stop() or Kill(), on the same socket and port.
  Status StartAgain();
  // Restarts it (pg_ctl restart -m fast): every open connection is terminated. Returns once the
  // server accepts connections again.
  Status Restart();
  // Whether the last Start/StartAgain/Restart succeeded and no Stop/Kill came after.
  bool running() const { return running_; }

  // The directory holding the cluster (data/), the socket, and the logs (log: the server's,
  // commands.log: initdb's and pg_ctl's output).
  const std::string& dir() const { return dir_; }
  int port() const { return port_; }

 private:
  struct Account {
    uid_t uid;
    gid_t gid;
  };
  PgServer(std::string dir, std::optional<Account> server_account);

  // Stops and deletes the servers of processes that died without doing it.
  static void ReapOrphans(const std::optional<Account>& account);
  // Runs `argv` (argv[0] an absolute path) to completion, with output to commands.log; as the
  // server's account if `as_server` is true. Internal unless it exits with 0.
  Status Run(const std::vector<std::string>& argv, bool as_server) const;
  // Makes the template cluster in this server's directory and moves it into place, unless it
  // exists already.
  Status MakeTemplate();
  // Writes this server's settings (socket, port, durability) to data/houston.conf.
  Status WriteSettings() const;
  // Runs pg_ctl `mode` on the cluster, with `extra` arguments.
  Status PgCtl(std::string_view mode, const std::vector<std::string>& extra = {});

  std::string dir_;
  std::optional<Account> server_account_;  // set when we run as root
  int port_ = 0;
  std::string url_;
  bool running_ = false;
};

}  // namespace houston::testing
