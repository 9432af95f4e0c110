#include "server/app.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "api/api.h"
#include "auth/auth.h"
#include "core/random.h"
#include "core/thread_name.h"
#include "core/time_util.h"
#include "http/http.h"
#include "intake/alert_expiry.h"
#include "intake/alert_retention.h"
#include "learning/noise_rollup.h"
#include "learning/reminders.h"
#include "live/feed.h"
#include "notify/notify.h"
#include "paging/escalation_engine.h"
#include "paging/heartbeat_monitor.h"
#include "paging/incident_fanout.h"
#include "paging/notification_dispatcher.h"
#include "paging/schedules.h"
#include "store/postgres/pg_db.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace houston::server {

Result<std::unique_ptr<store::Store>> OpenStore(const std::string& db, bool synchronous_full,
                                                store::CommitObserver on_commit,
                                                std::string instance,
                                                store::EventObserver on_events,
                                                store::FeedObserver on_feed) {
  const bool pg = store::postgres::IsPostgresUrl(db);
  if (!pg && db.empty()) return std::unexpected(InvalidArgument("--db must not be empty"));
  if (!pg) {
    std::filesystem::path parent = std::filesystem::path(db).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }
  HOUSTON_ASSIGN_OR_RETURN(SecretsKeys keys, OpenSecretsKeys(db));
  Result<std::unique_ptr<store::Store>> opened;
  if (pg) {
    store::postgres::PostgresOptions o;
    o.url = db;
    o.on_commit = std::move(on_commit);
    o.on_events = std::move(on_events);
    o.on_feed = std::move(on_feed);
    o.instance = std::move(instance);
    o.keyring = keys.ring;
    auto s = store::postgres::PostgresStore::Open(std::move(o));
    if (s) {
      opened = std::unique_ptr<store::Store>(std::move(*s));
    } else {
      opened = std::unexpected(s.error());
    }
  } else {
    store::sqlite::SqliteOptions o;
    o.path = db;
    o.synchronous_full = synchronous_full;
    o.on_commit = std::move(on_commit);
    o.on_events = std::move(on_events);
    o.on_feed = std::move(on_feed);
    o.keyring = keys.ring;
    auto s = store::sqlite::SqliteStore::Open(std::move(o));
    if (s) {
      opened = std::unique_ptr<store::Store>(std::move(*s));
    } else {
      opened = std::unexpected(s.error());
    }
  }
  if (!opened && opened.error().code() == StatusCode::kFailedPrecondition && !keys.from.empty() &&
      opened.error().message().find("secrets key") != std::string::npos) {
    opened = std::unexpected(FailedPrecondition(
        fmt::format("{} (the given keys came from {})", opened.error().message(), keys.from)));
  }
  if (!opened && !keys.created_file.empty()) {
    // A key made for a database that turned out to need another one: not worth keeping.
    ::unlink(keys.created_file.c_str());
  } else if (opened && !keys.created_file.empty()) {
    spdlog::warn(
        "secrets: generated the secrets key file {} (key id {}): it encrypts the "
        "secrets in {}; keep a copy apart from the database's backups",
        keys.created_file, keys.ring->primary().id, db);
  }
  return opened;
}

Result<SecretsKeys> OpenSecretsKeys(const std::string& db) {
  const bool pg = store::postgres::IsPostgresUrl(db);
  HOUSTON_ASSIGN_OR_RETURN(
      secrets::ResolvedKeys r,
      secrets::ResolveKeys(secrets::KeySourceFromEnv(""), pg ? std::string() : db));
  SecretsKeys out;
  out.created_file = std::move(r.created_file);
  out.from = std::move(r.from);
  if (!r.warning.empty()) spdlog::warn("secrets: {}", r.warning);
  if (r.ring) {
    out.ring = std::make_shared<const secrets::Keyring>(std::move(*r.ring));
  } else {
    const char* allow = std::getenv("HOUSTON_ALLOW_UNENCRYPTED_SECRETS");
    if (allow == nullptr || std::string_view(allow) != "1") {
      return std::unexpected(FailedPrecondition(
          "a PostgreSQL database needs a secrets key, or the webhook secrets, provider "
          "credentials and integration keys it stores are readable by anyone with a copy of it: "
          "make a key file (head -c 32 /dev/urandom | base64 > houston.key; chmod 600 "
          "houston.key) and start every server with --secrets-key-file houston.key (or "
          "HOUSTON_SECRETS_KEY_FILE / HOUSTON_SECRETS_KEY); --allow-unencrypted-secrets stores "
          "them in clear instead"));
    }
    static std::once_flag warned;
    std::call_once(warned, [] {
      spdlog::warn(
          "secrets: no secrets key (--secrets-key-file, HOUSTON_SECRETS_KEY_FILE or "
          "HOUSTON_SECRETS_KEY): the secrets in this PostgreSQL database are stored "
          "unencrypted");
    });
  }
  return out;
}

Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return std::unexpected(InvalidArgument(
        fmt::format("--listen '{}' must be HOST:PORT, e.g. 127.0.0.1:8080", listen)));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535 || host.empty()) {
    return std::unexpected(InvalidArgument(
        fmt::format("--listen '{}' must be HOST:PORT with a port from 0 to 65535", listen)));
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

Result<int> ApplyOrgToStore(store::Store& store, const config::Org& org, std::string yaml,
                            std::string name, store::Actor actor) {
  std::vector<store::OrgObject> objects;
  for (auto& o : config::Flatten(org)) {
    objects.push_back(store::OrgObject{std::move(o.kind), std::move(o.id), std::move(o.spec_json)});
  }
  std::vector<store::Heartbeat> heartbeats;
  for (const auto& s : org.services) {
    for (const auto& i : s.integrations) {
      if (i.type != core::IntegrationType::kHeartbeat) continue;
      store::Heartbeat h;
      h.integration_key = i.key;
      h.service_id = s.id;
      h.escalation_policy = s.escalation_policy;
      h.interval =
          std::chrono::minutes(i.interval_minutes.value_or(5) + i.grace_minutes.value_or(0));
      heartbeats.push_back(std::move(h));
    }
  }
  return store::Wait<int>([&](auto cb) {
    store.ApplyOrg(std::move(objects), std::move(heartbeats), std::move(yaml), std::move(name),
                   std::move(actor), cb);
  });
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(NotFound(fmt::format("cannot read {}", path)));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

Result<std::optional<ConfigFile>> ReadConfig(const std::string& path) {
  if (path.empty()) return std::nullopt;
  ConfigFile file;
  file.path = AbsolutePath(path);
  HOUSTON_ASSIGN_OR_RETURN(file.yaml, ReadFile(path));
  HOUSTON_ASSIGN_OR_RETURN(file.org, config::ParseOrg(file.yaml, path));
  return file;
}

namespace {

// How often other servers' commits may wake this server's engines (see ListenToOtherServers).
constexpr auto kOthersWakeInterval = std::chrono::milliseconds(10);

StartupError Usage(Status st) { return StartupError{std::move(st), 2}; }
StartupError Failure(Status st) { return StartupError{std::move(st), 1}; }

// The paging and incident metrics (documented in README.md, "Metrics").
void DescribeMetrics(http::Metrics& metrics) {
  metrics.Describe("houston_http_requests_total", "counter",
                   "HTTP requests by route, method and status code.");
  metrics.Describe("houston_http_request_duration_seconds", "histogram",
                   "HTTP request latency by route.");
  metrics.Describe("houston_store_commit_duration_seconds", "histogram",
                   "Store transaction commit latency (including fsync).");
  metrics.Describe("houston_store_commit_batch_size", "histogram",
                   "Writes per group-committed transaction.",
                   {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192});
  metrics.Describe("houston_store_queue_depth", "gauge", "Writes waiting for the store writer.");
  metrics.Describe("houston_notifications_total", "counter",
                   "Notification messages by channel type and result: sent, failed "
                   "(permanently), retried (a transient failure, sent again later), dead (gave "
                   "up after the last retry), unknown (may or may not have arrived).");
  metrics.Describe("houston_notification_send_duration_seconds", "histogram",
                   "Time to send one notification message, by channel type.");
  metrics.Describe("houston_notifications_queued", "gauge",
                   "Notifications in the outbox not sent yet: pending (all) and due (now).");
  metrics.Describe("houston_escalation_steps_total", "counter",
                   "Escalation steps fired (each paged that step's targets).");
  metrics.Describe("houston_pages_total", "counter",
                   "Pages created by escalation steps (one per user and contact method).");
  metrics.Describe("houston_incidents_total", "counter",
                   "Incident lifecycle events: opened, acknowledged, mitigated, resolved, "
                   "reopened.");
  metrics.Describe("houston_incidents_open", "gauge", "Open incidents by status.");
  metrics.Describe("houston_heartbeats_missed_total", "counter",
                   "Heartbeats missed (each opened an alert).");
  metrics.Describe("houston_alerts_expired_total", "counter",
                   "Alerts resolved because their endsAt passed without a newer event.");
  metrics.Describe("houston_alerts_pruned_total", "counter",
                   "Alerts deleted by retention (--alert-retention-days).");
  // Counters start at 0, so that rates and alerts on them work from the first scrape.
  for (const char* event : {"opened", "acknowledged", "mitigated", "resolved", "reopened"}) {
    metrics.Add("houston_incidents_total", fmt::format("event=\"{}\"", event), 0);
  }
  metrics.Add("houston_escalation_steps_total", "", 0);
  metrics.Add("houston_pages_total", "", 0);
  metrics.Add("houston_heartbeats_missed_total", "", 0);
  metrics.Add("houston_alerts_expired_total", "", 0);
  metrics.Add("houston_alerts_pruned_total", "", 0);
}

// The store's committed domain events (store::EventCounts) as counters.
void CountStoreEvents(http::Metrics& metrics, const store::EventCounts& events) {
  for (const auto& [name, n] : events) {
    auto count = static_cast<uint64_t>(n);
    if (name.starts_with("incident.")) {
      metrics.Add("houston_incidents_total", fmt::format("event=\"{}\"", name.substr(9)), count);
    } else if (name == "escalation.step_fired") {
      metrics.Add("houston_escalation_steps_total", "", count);
    } else if (name == "page.created") {
      metrics.Add("houston_pages_total", "", count);
    } else if (name == "heartbeat.missed") {
      metrics.Add("houston_heartbeats_missed_total", "", count);
    } else if (name == "alert.expired") {
      metrics.Add("houston_alerts_expired_total", "", count);
    } else if (name == "alert.pruned") {
      metrics.Add("houston_alerts_pruned_total", "", count);
    }
  }
}

// The open-incident and outbox gauges, read from the store at most once a second (a scrape
// renders both from one read). Thread-safe.
class OpenWorkGauges {
 public:
  OpenWorkGauges(store::Store& store, http::Metrics& metrics) : store_(store) {
    metrics.SetGaugeSeriesSource("houston_incidents_open", [this] {
      http::Metrics::GaugeSeries out;
      auto w = Read();
      if (!w) return out;  // no value rather than a wrong 0
      for (const auto& [status, n] : w->incidents_by_status) {
        out.emplace_back(fmt::format("status=\"{}\"", status), static_cast<double>(n));
      }
      return out;
    });
    metrics.SetGaugeSeriesSource("houston_notifications_queued", [this] {
      auto w = Read();
      if (!w) return http::Metrics::GaugeSeries{};
      return http::Metrics::GaugeSeries{
          {R"(state="pending")", static_cast<double>(w->notifications_pending)},
          {R"(state="due")", static_cast<double>(w->notifications_due)}};
    });
  }

 private:
  std::optional<store::OpenWork> Read() {
    std::lock_guard lock(mu_);
    SteadyPoint now = RealClock().SteadyNow();
    if (!read_ || now - *read_ >= std::chrono::seconds(1)) {
      auto w = store_.CountOpenWork(RealClock().Now());
      if (!w) spdlog::warn("counting open incidents for /metrics: {}", w.error().ToString());
      last_ = w ? std::optional<store::OpenWork>(*w) : std::nullopt;
      read_ = now;
    }
    return last_;
  }

  store::Store& store_;
  std::mutex mu_;
  std::optional<SteadyPoint> read_;      // guarded by mu_
  std::optional<store::OpenWork> last_;  // guarded by mu_
};

// The key that signs acknowledge/resolve links: from --link-key-file, or created once next to
// the database so links keep working across restarts.
Result<std::string> LinkKey(const Options& o, store::Store& st) {
  if (o.link_key_file.empty() && store::postgres::IsPostgresUrl(o.db)) {
    // Every server on the database must sign and check links with the same key: keep it there.
    return store::Wait<std::string>(
        [&](auto cb) { st.SharedSecret("link_key", RandomBase62(32), cb); });
  }
  std::string path = o.link_key_file.empty() ? o.db + ".link-key" : o.link_key_file;
  if (struct stat st{}; ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    // Whoever reads the key can forge acknowledge/resolve links.
    if (::chmod(path.c_str(), S_IRUSR | S_IWUSR) == 0) {
      spdlog::warn(
          "{} was readable by other users (mode {:04o}); it holds the link key: its "
          "mode is now 0600",
          path, st.st_mode & 07777);
    } else {
      spdlog::warn(
          "{} is readable by other users (mode {:04o}) and holds the link key, but its "
          "mode cannot be changed: {}; chmod 600 it",
          path, st.st_mode & 07777, std::strerror(errno));
    }
  }
  if (auto existing = ReadFile(path); existing && !existing->empty()) {
    std::string key = *existing;
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    if (key.size() < 16) {
      return std::unexpected(
          InvalidArgument(fmt::format("link key in {} is shorter than 16 characters", path)));
    }
    return key;
  }
  if (!o.link_key_file.empty()) {
    return std::unexpected(NotFound(fmt::format("cannot read --link-key-file {}", path)));
  }
  std::string key = RandomBase62(32);
  // Created 0600 from the start (O_EXCL: never through a link someone planted meanwhile).
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  std::string line = key + "\n";
  bool written =
      fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  if (fd >= 0 && ::close(fd) != 0) written = false;
  if (!written) {
    return std::unexpected(
        Unavailable(fmt::format("cannot write {}: {}", path, std::strerror(errno))));
  }
  return key;
}

// Whether the database's org source `name` is the file at absolute path `path` (older versions
// recorded the path as it was typed).
bool SameSource(const std::string& name, const std::string& path) {
  if (name == path) return true;
  std::error_code ec1, ec2;
  auto a = std::filesystem::weakly_canonical(name, ec1);
  auto b = std::filesystem::weakly_canonical(path, ec2);
  return !ec1 && !ec2 && a == b;
}

// The database holds the org: one source of truth for every server on it and for `houston
// apply`. --config FILE is applied to the database (at start and on SIGHUP) while the
// database's org came from FILE or it has none yet; once `houston apply` put another file's org
// there, the database wins and FILE is left alone, with a warning that says so.
Result<LoadedOrg> LoadOrg(const Options& o, store::Store& store, std::optional<ConfigFile> file) {
  HOUSTON_ASSIGN_OR_RETURN(store::OrgSnapshot snap, store.LoadOrg());
  if (file && (snap.source_yaml.empty() || SameSource(snap.source_name, file->path))) {
    HOUSTON_ASSIGN_OR_RETURN(int changed,
                             ApplyOrgToStore(store, file->org, file->yaml, file->path,
                                             store::Actor{"system", "serve --config", "cli"}));
    spdlog::info("org loaded from {}: {} services, {} users ({} objects changed in the database)",
                 file->path, file->org.services.size(), file->org.users.size(), changed);
    HOUSTON_ASSIGN_OR_RETURN(auto applied_at, store.OrgAppliedAt());
    return LoadedOrg{std::move(file->org), applied_at};
  }
  if (snap.source_yaml.empty()) {
    spdlog::warn("no --config and no org applied to {}: no integration will accept events", o.db);
    return LoadedOrg{};
  }
  if (file) {
    spdlog::warn(
        "--config {} is not applied: the org in the database was applied from {} at {} (houston "
        "apply), and the database is the one source of truth. Running that org; `houston apply "
        "-f {}` makes the file its source again.",
        file->path, snap.source_name,
        snap.applied_at ? FormatRfc3339(*snap.applied_at) : std::string("an unknown time"),
        o.config);
  }
  HOUSTON_ASSIGN_OR_RETURN(config::Org org, config::ParseOrg(snap.source_yaml, snap.source_name));
  spdlog::info("org loaded from the database (applied from {} at {})", snap.source_name,
               snap.applied_at ? FormatRfc3339(*snap.applied_at) : std::string("?"));
  return LoadedOrg{std::move(org), snap.applied_at};
}

}  // namespace

// Everything built on the store, declared in the order it is built (and destroyed in reverse).
struct App::Runtime {
  std::unique_ptr<live::Feed> feed;  // outlives the HTTP server: its streams read from it
  std::unique_ptr<OpenWorkGauges> open_work;
  std::unique_ptr<notify::Sender> sender;
  std::unique_ptr<paging::NotificationDispatcher> dispatcher;
  std::unique_ptr<paging::EscalationEngine> escalations;
  std::unique_ptr<paging::IncidentFanout> fanout;
  std::unique_ptr<learning::Chaser> chaser;      // postmortem drafts and learning reminders
  std::unique_ptr<learning::NoiseRollUp> noise;  // alert noise roll-ups for the analytics
  std::unique_ptr<api::Api> api;
  std::unique_ptr<http::Server> http;
  std::unique_ptr<paging::HeartbeatMonitor> heartbeats;
  std::unique_ptr<intake::AlertExpiry> expiry;        // alerts whose endsAt passed (Prometheus)
  std::unique_ptr<intake::AlertRetention> retention;  // nullptr: every alert is kept
};

App::App(Options options)
    : o_(std::move(options)),
      instance_("houston-" + RandomBase62(12)),
      metrics_(std::make_unique<http::Metrics>()),
      rt_(std::make_unique<Runtime>()) {}

App::~App() { Shutdown(); }

std::expected<std::unique_ptr<App>, StartupError> App::Create(Options options) {
  std::unique_ptr<App> app(new App(std::move(options)));
  auto built = app->Build();
  if (!built) return std::unexpected(built.error());
  return app;
}

std::shared_ptr<const paging::OrgRuntime> App::Current() const {
  std::lock_guard lock(org_mu_);
  return org_;
}

std::shared_ptr<const config::Org> App::CurrentOrg() const {
  // The org pointer keeps its whole runtime (compiled schedules included) alive.
  auto rt = Current();
  return std::shared_ptr<const config::Org>(rt, rt->org.get());
}

Result<std::vector<std::string>> App::OnCall(const config::Org& org, const std::string& schedule,
                                             TimePoint at) const {
  auto rt = Current();
  if (rt->org.get() == &org) return rt->schedules->OnCall(schedule, at);
  return paging::ScheduleBook::Build(org)->OnCall(schedule, at);
}

std::vector<store::ScheduleOverride> App::ApiOverrides() {
  auto list = store_->ListOverrides("", RealClock().Now() - std::chrono::days(30));
  if (!list) spdlog::error("loading schedule overrides failed: {}", list.error().ToString());
  return list ? *list : std::vector<store::ScheduleOverride>{};
}

void App::OverridesChanged() {
  auto rt = paging::MakeOrgRuntime(Current()->org, ApiOverrides());
  {
    std::lock_guard lock(org_mu_);
    org_ = std::move(rt);
  }
  rt_->api->SetOrg(CurrentOrg());
  rt_->escalations->Wake();
}

std::expected<void, StartupError> App::Build() {
  auto listen = ParseListen(o_.listen);
  if (!listen) return std::unexpected(Usage(listen.error()));
  if (o_.sync != "full" && o_.sync != "normal") {
    return std::unexpected(
        Usage(InvalidArgument("--sync must be 'full' (durable, default) or 'normal'")));
  }
  auto config_file = ReadConfig(o_.config);
  if (!config_file) return std::unexpected(Usage(config_file.error()));

  http::Metrics& metrics = *metrics_;
  DescribeMetrics(metrics);
  auto store = OpenStore(
      o_.db, o_.sync == "full",
      [&metrics](std::chrono::microseconds latency, size_t batch) {
        metrics.Observe("houston_store_commit_duration_seconds", "", latency.count() / 1e6);
        metrics.Observe("houston_store_commit_batch_size", "", static_cast<double>(batch));
      },
      instance_,
      [&metrics](const store::EventCounts& events) { CountStoreEvents(metrics, events); },
      [this](int64_t) {
        if (live::Feed* feed = live_feed_.load()) feed->Wake();
      });
  if (!store) return std::unexpected(Failure(store.error()));
  store_ = std::move(*store);
  store::Store& st = *store_;
  metrics.SetGaugeSource("houston_store_queue_depth",
                         [&st] { return static_cast<double>(st.Stats().queue_depth); });
  rt_->open_work = std::make_unique<OpenWorkGauges>(st, metrics);
  // A live stream's bounded send buffer: the WebSocket's cut-off, and the feed's largest replay.
  const size_t live_buffer_bytes = o_.live_buffer_kib * 1024;
  rt_->feed =
      std::make_unique<live::Feed>(st, RealClock(),
                                   live::FeedOptions{.max_replay_bytes = live_buffer_bytes,
                                                     .max_writes_per_second = o_.live_max_writes,
                                                     .max_ids_per_type = o_.live_max_ids});
  live_feed_ = rt_->feed.get();
  live::Feed& feed = *rt_->feed;
  metrics.Describe("houston_live_streams", "gauge", "Open live feed streams (WebSocket).");
  metrics.SetGaugeSource("houston_live_streams",
                         [&feed] { return static_cast<double>(feed.streams()); });
  metrics.Describe("houston_websocket_slow_clients_total", "counter",
                   "WebSocket clients cut off because their send buffer filled.");
  metrics.Add("houston_websocket_slow_clients_total", "", 0);
  auto loaded = LoadOrg(o_, st, std::move(*config_file));
  if (!loaded) return std::unexpected(Usage(loaded.error()));
  org_applied_at_ = loaded->applied_at;
  // Links in notifications and webhooks: --base-url, else the org's settings.base_url, else the
  // listen address (set in Start).
  base_url_ = o_.base_url;
  if (base_url_.empty() && loaded->org.settings) base_url_ = loaded->org.settings->base_url;
  auto link_key = LinkKey(o_, st);
  if (!link_key) return std::unexpected(Usage(link_key.error()));
  org_ = paging::MakeOrgRuntime(std::make_shared<const config::Org>(std::move(loaded->org)),
                                ApiOverrides());
  paging::OrgProvider org_provider = [this] { return CurrentOrg(); };

  notify::SenderOptions sender_options;
  sender_options.egress.allow_cidrs = o_.allow_egress;
  sender_options.smtp.url = o_.smtp_url;
  sender_options.smtp.from = o_.smtp_from;
  sender_options.smtp.username = o_.smtp_user;
  sender_options.smtp.password = o_.smtp_password;
  sender_options.smtp.require_starttls = o_.smtp_starttls;
  if (Status s = notify::ValidateEgressPolicy(sender_options.egress); !s.ok()) {
    return std::unexpected(Usage(s));
  }
  rt_->sender = notify::NewSender(sender_options);

  paging::DispatcherOptions dopts;
  dopts.base_url = base_url_;
  dopts.link_key = *link_key;
  dopts.workers = o_.notify_workers;
  dopts.lease = std::chrono::seconds(o_.claim_lease_s);
  dopts.lease_margin =
      std::min<std::chrono::milliseconds>(std::chrono::seconds(15), dopts.lease / 4);
  // On PostgreSQL other servers may be sending: only expired claims are taken back.
  dopts.sole_server = !store::postgres::IsPostgresUrl(o_.db);
  dopts.max_per_minute = o_.max_pages_per_minute;
  dopts.on_delivery = [&metrics](std::string_view channel, std::string_view outcome,
                                 std::chrono::microseconds took) {
    metrics.Add("houston_notifications_total",
                fmt::format("channel=\"{}\",result=\"{}\"", channel, outcome));
    if (channel != "unknown") {  // "unknown": its destination is gone, nothing was sent
      metrics.Observe("houston_notification_send_duration_seconds",
                      fmt::format("channel=\"{}\"", channel), took.count() / 1e6);
    }
  };
  rt_->dispatcher = std::make_unique<paging::NotificationDispatcher>(st, RealClock(), *rt_->sender,
                                                                     org_provider, dopts);
  rt_->escalations = std::make_unique<paging::EscalationEngine>(
      st, RealClock(), org_provider,
      [this](const config::Org& o, const std::string& id, TimePoint t) {
        auto users = OnCall(o, id, t);
        if (!users) {
          spdlog::error("on-call lookup for schedule {} failed: {}", id, users.error().ToString());
          return std::vector<std::string>{};
        }
        return *users;
      });
  auto& dispatcher = *rt_->dispatcher;
  rt_->escalations->OnPagesCreated([&dispatcher] { dispatcher.Wake(); });
  paging::FanoutOptions fopts;
  fopts.base_url = base_url_;
  fopts.link_key = *link_key;
  rt_->fanout = std::make_unique<paging::IncidentFanout>(st, RealClock(), org_provider, fopts);
  rt_->fanout->OnMessagesCreated([&dispatcher] { dispatcher.Wake(); });
  learning::ChaserOptions copts;
  copts.base_url = base_url_;
  rt_->chaser = std::make_unique<learning::Chaser>(st, RealClock(), org_provider, copts);
  rt_->chaser->OnMessagesCreated([&dispatcher] { dispatcher.Wake(); });
  rt_->noise = std::make_unique<learning::NoiseRollUp>(st, RealClock());

  api::ApiOptions api_options;
  api_options.link_key = *link_key;
  api_options.on_change = [this] {
    rt_->escalations->Wake();
    rt_->fanout->Wake();
    rt_->chaser->Wake();
  };
  api_options.on_incidents_opened = [this] {
    rt_->escalations->Wake();
    rt_->fanout->Wake();
  };
  api_options.on_call = [this](const config::Org& o, const std::string& id, TimePoint t) {
    return OnCall(o, id, t);
  };
  api_options.base_url = base_url_;
  api_options.tls = !o_.tls_cert.empty();
  auto idle = auth::ParseDuration(o_.session_idle);
  if (!idle) return std::unexpected(Usage(idle.error()));
  auto lifetime = auth::ParseDuration(o_.session_lifetime);
  if (!lifetime) return std::unexpected(Usage(lifetime.error()));
  api_options.sessions.idle = *idle;
  api_options.sessions.lifetime = *lifetime;
  api_options.live = rt_->feed.get();
  api_options.live_socket.max_buffered_bytes = live_buffer_bytes;
  // Kept small: thousands of mostly idle streams, each a few messages a second at most.
  api_options.live_socket.socket_send_buffer = 64 * 1024;
  api_options.max_api_body_bytes = o_.max_api_body_kib * 1024;
  api_options.schedule = [this](const config::Org& o,
                                const std::string& id) -> const core::CompiledSchedule* {
    // Valid while the org snapshot `o` (held by the caller) is alive.
    auto rt = Current();
    return rt->org.get() == &o ? rt->schedules->Find(id) : nullptr;
  };
  api_options.on_overrides_changed = [this] { OverridesChanged(); };
  api_options.workers = o_.api_workers;
  rt_->api = std::make_unique<api::Api>(st, metrics, RealClock(), api_options);
  rt_->api->SetOrg(CurrentOrg());
  http::Router router;
  rt_->api->Register(router);
  http::ServerOptions so;
  so.host = listen->first;
  so.port = listen->second;
  so.threads = o_.threads;
  so.tls_cert_file = o_.tls_cert;
  so.tls_key_file = o_.tls_key;
  so.max_body_bytes = o_.max_body_kib * 1024;
  so.max_header_bytes = o_.max_header_kib * 1024;
  so.header_timeout = std::chrono::seconds(o_.header_timeout_s);
  so.body_timeout = std::chrono::seconds(o_.body_timeout_s);
  so.idle_timeout = std::chrono::seconds(o_.idle_timeout_s);
  so.max_connections = o_.max_connections;
  api::Api& api = *rt_->api;
  metrics.Describe("houston_api_requests_pending", "gauge",
                   "API requests waiting for a worker or running on one (--api-workers).");
  metrics.SetGaugeSource("houston_api_requests_pending",
                         [&api] { return static_cast<double>(api.worker_requests()); });
  so.error_renderer = [&api](std::string_view path, const Status& s) {
    return api.RenderError(path, s);
  };
  rt_->http = std::make_unique<http::Server>(so, std::move(router), metrics);
  rt_->heartbeats = std::make_unique<paging::HeartbeatMonitor>(st, RealClock());
  rt_->expiry = std::make_unique<intake::AlertExpiry>(st, RealClock());
  if (o_.alert_retention_days > 0) {
    rt_->retention = std::make_unique<intake::AlertRetention>(
        st, RealClock(), std::chrono::hours(24) * o_.alert_retention_days);
  }
  return {};
}

std::expected<uint16_t, StartupError> App::Start() {
  // LISTEN before serving: a change another server commits once this one answers must wake
  // it at once, not at the feed's next poll. (Should it fail, the listening thread retries.)
  std::unique_ptr<store::postgres::PgListener> listener;
  if (store::postgres::IsPostgresUrl(o_.db)) {
    auto opened = store::postgres::PgListener::Open(o_.db, store::postgres::kChangeChannel);
    if (opened) {
      listener = std::move(*opened);
    } else {
      spdlog::warn("listening for other servers' changes: {}", opened.error().message());
    }
  }
  rt_->feed->Start();
  auto port = rt_->http->Start();
  if (!port) return std::unexpected(Failure(port.error()));
  port_ = *port;
  started_ = true;
  auto listen = ParseListen(o_.listen);  // valid: Build() checked it
  std::string scheme = o_.tls_cert.empty() ? "http" : "https";
  if (base_url_.empty()) {
    std::string base = fmt::format(
        "{}://{}:{}", scheme,
        listen->first.find(':') != std::string::npos ? "[" + listen->first + "]" : listen->first,
        port_);
    rt_->dispatcher->set_base_url(base);
    rt_->fanout->set_base_url(base);
    rt_->chaser->set_base_url(base);
    rt_->api->set_listen_url(base);  // for requests without a Host header
  }
  rt_->heartbeats->Start();
  rt_->expiry->Start();
  if (rt_->retention) rt_->retention->Start();
  rt_->dispatcher->Start();
  rt_->escalations->Start();
  rt_->fanout->Start();
  rt_->chaser->Start();
  rt_->noise->Start();
  if (store::postgres::IsPostgresUrl(o_.db)) {
    listening_ = true;
    listener_ = std::thread([this, l = std::move(listener)]() mutable {
      NameThisThread("pg-listen");
      ListenToOtherServers(std::move(l));
    });
  }
  spdlog::info("houston listening on {}://{}:{} (db {}, sync={})", scheme, listen->first, port_,
               o_.db, o_.sync);
  return port_;
}

// Other servers on the same PostgreSQL database announce every commit: wake up for their work
// as for ours.
void App::ListenToOtherServers(std::unique_ptr<store::postgres::PgListener> l) {
  while (listening_) {
    if (!l) {
      auto opened = store::postgres::PgListener::Open(o_.db, store::postgres::kChangeChannel);
      if (!opened) {
        spdlog::warn("listening for other servers' changes: {}", opened.error().message());
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      l = std::move(*opened);
    }
    auto got = l->Wait(std::chrono::milliseconds(500));
    if (!got) continue;  // lost: the next Wait reconnects
    bool others = false;
    for (const auto& who : *got) others = others || who != instance_;
    if (others) {
      rt_->feed->Wake();  // their commits may have recorded feed entries: the table says
      rt_->escalations->Wake();
      rt_->fanout->Wake();
      rt_->chaser->Wake();
      rt_->dispatcher->Wake();
      // Coalesce: the notifications of the next few milliseconds queue up on the connection
      // and cost one more wake-up, not one each. A server wakes its own engines directly, so
      // this only delays taking over another server's work, by at most this much; without it,
      // two busy servers tick each other's engines on every commit.
      std::this_thread::sleep_for(kOthersWakeInterval);
    }
  }
}

bool App::SwapOrg(Result<LoadedOrg> reloaded) {
  if (!reloaded) {
    spdlog::error("reload failed, keeping the current org: {}", reloaded.error().ToString());
    for (const auto& d : reloaded.error().details()) spdlog::error("  {}", d);
    return false;
  }
  org_applied_at_ = reloaded->applied_at;
  {
    auto rt = paging::MakeOrgRuntime(std::make_shared<const config::Org>(std::move(reloaded->org)),
                                     ApiOverrides());
    std::lock_guard lock(org_mu_);
    org_ = std::move(rt);
  }
  rt_->api->SetOrg(CurrentOrg());
  rt_->heartbeats->Wake();
  rt_->escalations->Wake();
  rt_->fanout->Wake();
  rt_->chaser->Wake();
  return true;
}

void App::ReloadConfigFile() {
  auto file = ReadConfig(o_.config);
  if (!file) {
    SwapOrg(std::unexpected(file.error()));
    return;
  }
  if (SwapOrg(LoadOrg(o_, *store_, std::move(*file)))) spdlog::info("org reloaded (SIGHUP)");
}

void App::CheckDatabaseForNewOrg() {
  auto applied_at = store_->OrgAppliedAt();
  if (!applied_at) {
    spdlog::warn("checking the database for a new org: {}", applied_at.error().ToString());
  } else if (*applied_at != org_applied_at_) {
    org_applied_at_ = *applied_at;  // one try per revision: a failure is logged once
    if (SwapOrg(LoadOrg(o_, *store_, std::nullopt))) {
      spdlog::info("org reloaded: a new one was applied to the database");
    }
  }
}

void App::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (started_) rt_->http->Shutdown();  // live streams get a close frame
  if (rt_->api) rt_->api->Stop();       // after the server's in-flight requests, before the store
  if (rt_->feed) rt_->feed->Stop();
  listening_ = false;
  if (listener_.joinable()) listener_.join();
  if (started_) {
    rt_->heartbeats->Stop();
    rt_->expiry->Stop();
    if (rt_->retention) rt_->retention->Stop();
    rt_->escalations->Stop();
    rt_->fanout->Stop();
    rt_->chaser->Stop();
    rt_->noise->Stop();
    rt_->dispatcher->Stop();
  }
  if (store_) store_->Shutdown();
  live_feed_ = nullptr;
}

}  // namespace houston::server
