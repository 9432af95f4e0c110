// server: the one place that names concrete classes. App builds houston's object graph (the
// store, the org and its compiled schedules, the escalation engine, the incident fan-out, the
// notification dispatcher, the heartbeat monitor, the API and the HTTP server), starts it, and
// stops it in order. `houston serve` (cli/serve.cc) only turns flags into Options and signals
// into calls.
//
// Dependencies point inward: server -> api -> domains (intake, paging, incidents, audit) ->
// foundations -> core.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/status.h"
#include "secrets/secrets.h"
#include "store/store.h"

namespace houston {
namespace api {
class Api;
}
namespace paging {
class EscalationEngine;
class HeartbeatMonitor;
class IncidentFanout;
class NotificationDispatcher;
struct OrgRuntime;
}  // namespace paging
namespace http {
class Metrics;
class Server;
}  // namespace http
namespace live {
class Feed;
}
namespace notify {
class Sender;
}
namespace store::postgres {
class PgListener;
}
}  // namespace houston

namespace houston::server {

// Everything `houston serve` can be told (its flags; see cli/serve.cc for their help).
struct Options {
  std::string config;  // org.yaml applied to the database at start and on reload ("" = none)
  std::string db = "var/houston.db";
  std::string listen = "127.0.0.1:8080";
  std::string tls_cert, tls_key;
  std::string sync = "full";
  int threads = 0;                // HTTP I/O threads; 0: http::DefaultIoThreads()
  int api_workers = 2;            // threads running API handlers (api::ApiOptions::workers)
  size_t max_body_kib = 1024;     // intake routes
  size_t max_api_body_kib = 256;  // every other route (API calls, sign-in, signed links)
  size_t max_header_kib = 8;      // request line and headers
  int header_timeout_s = 10, body_timeout_s = 30, idle_timeout_s = 75;
  size_t max_connections = 10000;
  size_t queue_capacity = 65536;
  std::string base_url;
  std::string link_key_file;
  std::string smtp_url, smtp_from, smtp_user, smtp_password;
  bool smtp_starttls = false;
  std::vector<std::string> allow_egress;
  int notify_workers = 8;
  int claim_lease_s = 120;
  int max_pages_per_minute = 6;
  // Alerts resolved (with their incident) more than this many days ago are deleted
  // (intake::AlertRetention); 0 keeps every alert.
  int alert_retention_days = 400;
  std::string session_idle = "12h", session_lifetime = "7d";  // auth::ParseDuration
  size_t live_buffer_kib = 1024;                              // per live feed stream
  int live_max_ids = 50;                                      // live::FeedOptions::max_ids_per_type
  int live_max_writes = 5000;  // live::FeedOptions::max_writes_per_second
};

// Why the server could not start, and the exit code that says so (2: bad flags or input, such as
// an invalid org file; 1: the environment failed, such as a database or port that cannot be
// opened).
struct StartupError {
  Status status;
  int exit_code = 1;
};

// The org file named by --config, read and checked before the database is opened (a bad file
// must not leave a new, empty database behind).
struct ConfigFile {
  std::string path;  // absolute: the name of the database's org source
  std::string yaml;
  config::Org org;
};
Result<std::optional<ConfigFile>> ReadConfig(const std::string& path);

// The running org, and the revision of the database's org it came from.
struct LoadedOrg {
  config::Org org;
  std::optional<TimePoint> applied_at;
};

// The running server. Create() builds it, Start() listens and starts the workers, Shutdown()
// stops them in order (the HTTP server first, so in-flight requests finish and every answered
// write is durable; then the workers; then the store, which commits what is queued).
// Thread-compatible: call from one thread (the one that handles signals); the components it
// owns are thread-safe and run their own threads.
class App {
 public:
  static std::expected<std::unique_ptr<App>, StartupError> Create(Options options);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Listens and starts the workers. Returns the bound port (useful with port 0).
  std::expected<uint16_t, StartupError> Start();

  // Loads the org again: from the --config file (SIGHUP), or from the database when `houston
  // apply` (or another server) put a new one there. A failure is logged and the current org kept.
  void ReloadConfigFile();
  void CheckDatabaseForNewOrg();

  // Stops everything (idempotent). Returns after the store has committed what was queued.
  void Shutdown();

 private:
  struct Runtime;
  explicit App(Options options);
  std::expected<void, StartupError> Build();
  // The org in use, with its compiled schedules and API overrides.
  std::shared_ptr<const paging::OrgRuntime> Current() const;
  std::shared_ptr<const config::Org> CurrentOrg() const;
  Result<std::vector<std::string>> OnCall(const config::Org& org, const std::string& schedule,
                                          TimePoint at) const;
  std::vector<store::ScheduleOverride> ApiOverrides();
  void OverridesChanged();
  // Swaps in a reloaded org; false (keeping the current one) when it failed.
  bool SwapOrg(Result<LoadedOrg> reloaded);
  void ListenToOtherServers(std::unique_ptr<store::postgres::PgListener> l);

  Options o_;
  std::string instance_;  // this server's name among the servers sharing a PostgreSQL database
  std::unique_ptr<http::Metrics> metrics_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Runtime> rt_;  // everything built on the store, in construction order
  mutable std::mutex org_mu_;
  std::shared_ptr<const paging::OrgRuntime> org_;  // guarded by org_mu_
  std::optional<TimePoint> org_applied_at_;        // the database revision of org_
  std::string base_url_;
  uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  // The live feed, woken by every commit that recorded feed entries (while it exists).
  std::atomic<live::Feed*> live_feed_{nullptr};
  std::atomic<bool> listening_{false};
  std::thread listener_;
};

// Opens the store named by --db: a SQLite path (its parent directories are created) or a
// postgres:// URL. `instance` names this server in PostgreSQL change notifications;
// `on_events` receives the domain events of each commit (for metrics).
Result<std::unique_ptr<store::Store>> OpenStore(const std::string& db, bool synchronous_full,
                                                store::CommitObserver on_commit = {},
                                                std::string instance = "houston-cli",
                                                store::EventObserver on_events = {},
                                                store::FeedObserver on_feed = {});

// The secrets key a store named by --db opens with (secrets::ResolveKeys): the key file
// (--secrets-key-file, which the CLI puts in HOUSTON_SECRETS_KEY_FILE) or HOUSTON_SECRETS_KEY;
// else, for SQLite, "<db>.key", generated on first use. PostgreSQL without a key is refused
// (FailedPrecondition saying how to make one) unless HOUSTON_ALLOW_UNENCRYPTED_SECRETS=1 (the
// CLI's --allow-unencrypted-secrets): then `ring` is null and secrets are stored unencrypted,
// with a warning. OpenStore uses it.
struct SecretsKeys {
  std::shared_ptr<const secrets::Keyring> ring;
  std::string from;
  std::string created_file;
};
Result<SecretsKeys> OpenSecretsKeys(const std::string& db);

// Flattens `org` into the store and registers its heartbeats. Returns objects changed.
Result<int> ApplyOrgToStore(store::Store& store, const config::Org& org, std::string yaml,
                            std::string name, store::Actor actor);

// HOST:PORT (an IPv6 host in brackets) as host and port.
Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen);
Result<std::string> ReadFile(const std::string& path);
// `path` made absolute and normalised: how an org file is named as the database's org source.
std::string AbsolutePath(const std::string& path);

}  // namespace houston::server
