// `houston serve`: the wiring point. The only place that names concrete classes.
#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "api/api.h"
#include "cli/commands.h"
#include "cli/internal.h"
#include "config/config.h"
#include "core/json_util.h"
#include "core/random.h"
#include "core/time_util.h"
#include "engine/escalation_engine.h"
#include "engine/heartbeat_monitor.h"
#include "engine/incident_fanout.h"
#include "engine/notification_dispatcher.h"
#include "engine/schedules.h"
#include "http/http.h"
#include "notify/notify.h"
#include "store/postgres/pg_db.h"
#include "store/postgres/postgres_store.h"

namespace houston::cli {
namespace {

// %j: the log message as a JSON string body (escaped, without quotes).
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string quoted = JsonQuote(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(quoted.data() + 1, quoted.data() + quoted.size() - 1);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

}  // namespace

Status SetUpLogging(const std::string& format, const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return InvalidArgument(fmt::format(
        "--log-level '{}' is not one of trace, debug, info, warn, error, critical, off", level));
  }
  auto logger = std::make_shared<spdlog::logger>("houston",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == "json") {
    auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    f->add_flag<JsonMessageFlag>('j').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%j"})");
    logger->set_formatter(std::move(f));
  } else if (format == "text") {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  } else {
    return InvalidArgument(fmt::format("--log-format '{}' is not one of text, json", format));
  }
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
  return OkStatus();
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

namespace {

// How often other servers' commits may wake this server's engines (see the listener in Serve).
constexpr auto kOthersWakeInterval = std::chrono::milliseconds(10);
// How often a server looks for an org applied to its database by `houston apply`.
constexpr auto kOrgPollInterval = std::chrono::seconds(2);

// The paging and incident metrics (documented in README.md, "Metrics").
void DescribePagingMetrics(http::Metrics& metrics) {
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
  // Counters start at 0, so that rates and alerts on them work from the first scrape.
  for (const char* event : {"opened", "acknowledged", "mitigated", "resolved", "reopened"}) {
    metrics.Add("houston_incidents_total", fmt::format("event=\"{}\"", event), 0);
  }
  metrics.Add("houston_escalation_steps_total", "", 0);
  metrics.Add("houston_pages_total", "", 0);
  metrics.Add("houston_heartbeats_missed_total", "", 0);
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

struct ServeFlags {
  std::string config;
  std::string db = "var/houston.db";
  std::string listen = "127.0.0.1:8080";
  std::string tls_cert, tls_key;
  std::string log_format = "text";
  std::string log_level = "info";
  std::string sync = "full";
  std::string port_file;
  int threads = 2;
  size_t max_body_kib = 1024;
  int header_timeout_s = 10, body_timeout_s = 30, idle_timeout_s = 75;
  size_t max_connections = 10000;
  size_t queue_capacity = 65536;
  std::string base_url;
  std::string link_key_file;
  std::string smtp_url, smtp_from, smtp_user;
  bool smtp_starttls = false;
  std::vector<std::string> allow_egress;
  int notify_workers = 8;
  int claim_lease_s = 120;
  int max_pages_per_minute = 6;
  size_t live_buffer_kib = 1024;
};

// The key that signs acknowledge/resolve links: from --link-key-file, or created once next to
// the database so links keep working across restarts.
Result<std::string> LinkKey(const ServeFlags& f, store::Store& st) {
  if (f.link_key_file.empty() && store::postgres::IsPostgresUrl(f.db)) {
    // Every server on the database must sign and check links with the same key: keep it there.
    return store::Wait<std::string>(
        [&](auto cb) { st.SharedSecret("link_key", RandomBase62(32), cb); });
  }
  std::string path = f.link_key_file.empty() ? f.db + ".link-key" : f.link_key_file;
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
  if (!f.link_key_file.empty()) {
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

// The org file named by --config, read and checked before the database is opened (a bad file
// must not leave a new, empty database behind).
struct ConfigFile {
  std::string path;  // absolute: the name of the database's org source
  std::string yaml;
  config::Org org;
};

Result<std::optional<ConfigFile>> ReadConfig(const ServeFlags& f) {
  if (f.config.empty()) return std::nullopt;
  ConfigFile file;
  file.path = AbsolutePath(f.config);
  HOUSTON_ASSIGN_OR_RETURN(file.yaml, ReadFile(f.config));
  HOUSTON_ASSIGN_OR_RETURN(file.org, config::ParseOrg(file.yaml, f.config));
  return file;
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

// The running org, and the revision of the database's org it came from.
struct LoadedOrg {
  config::Org org;
  std::optional<TimePoint> applied_at;
};

// The database holds the org: one source of truth for every server on it and for `houston
// apply`. --config FILE is applied to the database (at start and on SIGHUP) while the
// database's org came from FILE or it has none yet; once `houston apply` put another file's org
// there, the database wins and FILE is left alone, with a warning that says so.
Result<LoadedOrg> LoadOrg(const ServeFlags& f, store::Store& store,
                          std::optional<ConfigFile> file) {
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
    spdlog::warn("no --config and no org applied to {}: no integration will accept events", f.db);
    return LoadedOrg{};
  }
  if (file) {
    spdlog::warn(
        "--config {} is not applied: the org in the database was applied from {} at {} (houston "
        "apply), and the database is the one source of truth. Running that org; `houston apply "
        "-f {}` makes the file its source again.",
        file->path, snap.source_name,
        snap.applied_at ? FormatRfc3339(*snap.applied_at) : std::string("an unknown time"),
        f.config);
  }
  HOUSTON_ASSIGN_OR_RETURN(config::Org org, config::ParseOrg(snap.source_yaml, snap.source_name));
  spdlog::info("org loaded from the database (applied from {} at {})", snap.source_name,
               snap.applied_at ? FormatRfc3339(*snap.applied_at) : std::string("?"));
  return LoadedOrg{std::move(org), snap.applied_at};
}

int Serve(const ServeFlags& f) {
  if (Status st = SetUpLogging(f.log_format, f.log_level); !st.ok()) {
    PrintError(st);
    return 2;
  }
  auto listen = ParseListen(f.listen);
  if (!listen) {
    PrintError(listen.error());
    return 2;
  }
  if (f.sync != "full" && f.sync != "normal") {
    PrintError(InvalidArgument("--sync must be 'full' (durable, default) or 'normal'"));
    return 2;
  }
  // Signals are handled by one thread with sigwait; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto config_file = ReadConfig(f);
  if (!config_file) {
    PrintError(config_file.error());
    return 2;
  }

  http::Metrics metrics;
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
  DescribePagingMetrics(metrics);
  // This server's name among the servers sharing a PostgreSQL database.
  const std::string instance = "houston-" + RandomBase62(12);
  // The live feed, woken by every commit that recorded feed entries (set once it exists).
  std::atomic<live::Feed*> live_feed{nullptr};
  auto store = OpenStore(
      f.db, f.sync == "full",
      [&metrics](std::chrono::microseconds latency, size_t batch) {
        metrics.Observe("houston_store_commit_duration_seconds", "", latency.count() / 1e6);
        metrics.Observe("houston_store_commit_batch_size", "", static_cast<double>(batch));
      },
      instance, [&metrics](const store::EventCounts& events) { CountStoreEvents(metrics, events); },
      [&live_feed](int64_t) {
        if (live::Feed* feed = live_feed.load()) feed->Wake();
      });
  if (!store) {
    PrintError(store.error());
    return 1;
  }
  store::Store& st = **store;
  metrics.SetGaugeSource("houston_store_queue_depth",
                         [&st] { return static_cast<double>(st.Stats().queue_depth); });
  OpenWorkGauges open_work(st, metrics);
  live::Feed feed(st, RealClock());
  live_feed = &feed;
  struct ForgetFeed {  // before `feed` is destroyed, on every way out
    std::atomic<live::Feed*>& feed;
    ~ForgetFeed() { feed = nullptr; }
  } forget_feed{live_feed};
  metrics.Describe("houston_live_streams", "gauge", "Open live feed streams (WebSocket).");
  metrics.SetGaugeSource("houston_live_streams",
                         [&feed] { return static_cast<double>(feed.streams()); });
  metrics.Describe("houston_websocket_slow_clients_total", "counter",
                   "WebSocket clients cut off because their send buffer filled.");
  metrics.Add("houston_websocket_slow_clients_total", "", 0);
  auto loaded = LoadOrg(f, st, std::move(*config_file));
  if (!loaded) {
    PrintError(loaded.error());
    return 2;
  }
  std::optional<TimePoint> org_applied_at = loaded->applied_at;
  config::Org* org = &loaded->org;
  // Links in notifications and webhooks: --base-url, else the org's settings.base_url, else the
  // listen address (below).
  std::string base_url = f.base_url;
  if (base_url.empty() && org->settings) base_url = org->settings->base_url;

  auto link_key = LinkKey(f, st);
  if (!link_key) {
    PrintError(link_key.error());
    return 2;
  }
  // The org and its compiled schedules, swapped whole on SIGHUP.
  std::mutex org_mu;
  // Overrides made through the API, on top of the org's; reloaded whenever one changes.
  auto api_overrides = [&st] {
    auto list = st.ListOverrides("", RealClock().Now() - std::chrono::days(30));
    if (!list) spdlog::error("loading schedule overrides failed: {}", list.error().ToString());
    return list ? *list : std::vector<store::ScheduleOverride>{};
  };
  std::shared_ptr<const engine::OrgRuntime> runtime =
      engine::MakeOrgRuntime(std::make_shared<const config::Org>(std::move(*org)), api_overrides());
  auto current = [&] {
    std::lock_guard lock(org_mu);
    return runtime;
  };
  // The org pointer keeps its whole runtime (compiled schedules included) alive.
  engine::OrgProvider org_provider = [&current] {
    auto rt = current();
    return std::shared_ptr<const config::Org>(rt, rt->org.get());
  };
  auto on_call = [&current](const config::Org& o, const std::string& id,
                            TimePoint t) -> Result<std::vector<std::string>> {
    auto rt = current();
    if (rt->org.get() == &o) return rt->schedules->OnCall(id, t);
    return engine::ScheduleBook::Build(o)->OnCall(id, t);
  };

  notify::SenderOptions sender_options;
  sender_options.egress.allow_cidrs = f.allow_egress;
  sender_options.smtp.url = f.smtp_url;
  sender_options.smtp.from = f.smtp_from;
  sender_options.smtp.username = f.smtp_user;
  if (const char* pw = std::getenv("HOUSTON_SMTP_PASSWORD")) sender_options.smtp.password = pw;
  sender_options.smtp.require_starttls = f.smtp_starttls;
  if (Status st = notify::ValidateEgressPolicy(sender_options.egress); !st.ok()) {
    PrintError(st);
    return 2;
  }
  auto sender = notify::NewSender(sender_options);
  engine::DispatcherOptions dopts;
  std::string scheme = f.tls_cert.empty() ? "http" : "https";
  dopts.base_url = base_url;
  dopts.link_key = *link_key;
  dopts.workers = f.notify_workers;
  dopts.lease = std::chrono::seconds(f.claim_lease_s);
  dopts.lease_margin =
      std::min<std::chrono::milliseconds>(std::chrono::seconds(15), dopts.lease / 4);
  // On PostgreSQL other servers may be sending: only expired claims are taken back.
  dopts.sole_server = !store::postgres::IsPostgresUrl(f.db);
  dopts.max_per_minute = f.max_pages_per_minute;
  dopts.on_delivery = [&metrics](std::string_view channel, std::string_view outcome,
                                 std::chrono::microseconds took) {
    metrics.Add("houston_notifications_total",
                fmt::format("channel=\"{}\",result=\"{}\"", channel, outcome));
    if (channel != "unknown") {  // "unknown": its destination is gone, nothing was sent
      metrics.Observe("houston_notification_send_duration_seconds",
                      fmt::format("channel=\"{}\"", channel), took.count() / 1e6);
    }
  };
  engine::NotificationDispatcher dispatcher(st, RealClock(), *sender, org_provider, dopts);
  engine::EscalationEngine escalations(
      st, RealClock(), org_provider,
      [&on_call](const config::Org& o, const std::string& id, TimePoint t) {
        auto users = on_call(o, id, t);
        if (!users) {
          spdlog::error("on-call lookup for schedule {} failed: {}", id, users.error().ToString());
          return std::vector<std::string>{};
        }
        return *users;
      });
  escalations.OnPagesCreated([&dispatcher] { dispatcher.Wake(); });
  engine::FanoutOptions fopts;
  fopts.base_url = base_url;
  fopts.link_key = *link_key;
  engine::IncidentFanout fanout(st, RealClock(), org_provider, fopts);
  fanout.OnMessagesCreated([&dispatcher] { dispatcher.Wake(); });

  api::ApiOptions api_options;
  api_options.link_key = *link_key;
  api_options.on_change = [&escalations, &fanout] {
    escalations.Wake();
    fanout.Wake();
  };
  api_options.on_call = on_call;
  api_options.base_url = base_url;
  api_options.tls = !f.tls_cert.empty();
  api_options.live = &feed;
  api_options.live_socket.max_buffered_bytes = f.live_buffer_kib * 1024;
  // Kept small: thousands of mostly idle streams, each a few messages a second at most.
  api_options.live_socket.socket_send_buffer = 64 * 1024;
  api_options.schedule = [&current](const config::Org& o,
                                    const std::string& id) -> const core::CompiledSchedule* {
    // Valid while the org snapshot `o` (held by the caller) is alive.
    auto rt = current();
    return rt->org.get() == &o ? rt->schedules->Find(id) : nullptr;
  };
  api::Api* api_ptr = nullptr;
  api_options.on_overrides_changed = [&] {
    auto rt = engine::MakeOrgRuntime(current()->org, api_overrides());
    {
      std::lock_guard lock(org_mu);
      runtime = std::move(rt);
    }
    api_ptr->SetOrg(org_provider());
    escalations.Wake();
  };
  api::Api api(st, metrics, RealClock(), api_options);
  api_ptr = &api;
  api.SetOrg(org_provider());
  http::Router router;
  api.Register(router);
  http::ServerOptions so;
  so.host = listen->first;
  so.port = listen->second;
  so.threads = f.threads;
  so.tls_cert_file = f.tls_cert;
  so.tls_key_file = f.tls_key;
  so.max_body_bytes = f.max_body_kib * 1024;
  so.header_timeout = std::chrono::seconds(f.header_timeout_s);
  so.body_timeout = std::chrono::seconds(f.body_timeout_s);
  so.idle_timeout = std::chrono::seconds(f.idle_timeout_s);
  so.max_connections = f.max_connections;
  so.error_renderer = [&api](std::string_view path, const Status& s) {
    return api.RenderError(path, s);
  };
  http::Server server(so, std::move(router), metrics);
  feed.Start();
  auto port = server.Start();
  if (!port) {
    PrintError(port.error());
    return 1;
  }
  if (base_url.empty()) {
    std::string base = fmt::format(
        "{}://{}:{}", scheme,
        listen->first.find(':') != std::string::npos ? "[" + listen->first + "]" : listen->first,
        *port);
    dispatcher.set_base_url(base);
    fanout.set_base_url(base);
    api.set_listen_url(base);  // for requests without a Host header
  }
  engine::HeartbeatMonitor heartbeats(st, RealClock());
  heartbeats.Start();
  dispatcher.Start();
  escalations.Start();
  fanout.Start();
  // Other servers on the same PostgreSQL database announce every commit: wake up for their
  // work as for ours.
  std::atomic<bool> listening{store::postgres::IsPostgresUrl(f.db)};
  std::thread listener;
  if (listening) {
    listener = std::thread([&] {
      std::unique_ptr<store::postgres::PgListener> l;
      while (listening) {
        if (!l) {
          auto opened = store::postgres::PgListener::Open(f.db, store::postgres::kChangeChannel);
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
        for (const auto& who : *got) others = others || who != instance;
        if (others) {
          feed.Wake();  // their commits may have recorded feed entries: the table says
          escalations.Wake();
          fanout.Wake();
          dispatcher.Wake();
          // Coalesce: the notifications of the next few milliseconds queue up on the connection
          // and cost one more wake-up, not one each. A server wakes its own engines directly, so
          // this only delays taking over another server's work, by at most this much; without
          // it, two busy servers tick each other's engines on every commit.
          std::this_thread::sleep_for(kOthersWakeInterval);
        }
      }
    });
  }
  spdlog::info("houston listening on {}://{}:{} (db {}, sync={})", scheme, listen->first, *port,
               f.db, f.sync);
  if (!f.port_file.empty()) {
    std::ofstream(f.port_file) << *port << "\n";
  }

  // Swaps in a reloaded org. Returns false (keeping the current one) when it failed.
  auto swap_org = [&](Result<LoadedOrg> reloaded) {
    if (!reloaded) {
      spdlog::error("reload failed, keeping the current org: {}", reloaded.error().ToString());
      for (const auto& d : reloaded.error().details()) spdlog::error("  {}", d);
      return false;
    }
    org_applied_at = reloaded->applied_at;
    {
      auto rt = engine::MakeOrgRuntime(
          std::make_shared<const config::Org>(std::move(reloaded->org)), api_overrides());
      std::lock_guard lock(org_mu);
      runtime = std::move(rt);
    }
    api.SetOrg(org_provider());
    heartbeats.Wake();
    escalations.Wake();
    fanout.Wake();
    return true;
  };
  for (;;) {
    // Waits for a signal, and meanwhile looks for an org that `houston apply` (or another
    // server) wrote to the database.
    timespec poll{.tv_sec = kOrgPollInterval.count(), .tv_nsec = 0};
    int sig = sigtimedwait(&signals, nullptr, &poll);
    if (sig < 0) {
      auto applied_at = st.OrgAppliedAt();
      if (!applied_at) {
        spdlog::warn("checking the database for a new org: {}", applied_at.error().ToString());
      } else if (*applied_at != org_applied_at) {
        org_applied_at = *applied_at;  // one try per revision: a failure is logged once
        if (swap_org(LoadOrg(f, st, std::nullopt))) {
          spdlog::info("org reloaded: a new one was applied to the database");
        }
      }
      continue;
    }
    if (sig == SIGHUP) {
      auto file = ReadConfig(f);
      if (!file) {
        swap_org(std::unexpected(file.error()));
        continue;
      }
      if (swap_org(LoadOrg(f, st, std::move(*file)))) spdlog::info("org reloaded (SIGHUP)");
      continue;
    }
    spdlog::info("received {}, shutting down: finishing in-flight requests",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  server.Shutdown();  // live streams get a close frame
  feed.Stop();
  listening = false;
  if (listener.joinable()) listener.join();
  heartbeats.Stop();
  escalations.Stop();
  fanout.Stop();
  dispatcher.Stop();
  st.Shutdown();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand("serve", "Run the houston server.");
  cmd->add_option("--config", flags->config,
                  "org.yaml to apply to --db at start and on SIGHUP, while the database's org "
                  "came from this file (or it has none yet); after `houston apply` of another "
                  "file the database's org wins. Without it, the org last applied to --db is "
                  "used. Servers pick up `houston apply` by themselves within 2 seconds.");
  cmd->add_option("--db", flags->db,
                  "SQLite database path, or a postgres:// URL (several servers may share one "
                  "PostgreSQL database)")
      ->capture_default_str();
  cmd->add_option("--claim-lease", flags->claim_lease_s,
                  "seconds a server holds a notification it is sending; after that (it died or "
                  "stalled) another server sends it again")
      ->capture_default_str()
      ->check(CLI::Range(5, 3600));
  cmd->add_option("--listen", flags->listen, "HOST:PORT to listen on (port 0 picks a free port)")
      ->capture_default_str();
  cmd->add_option("--tls-cert", flags->tls_cert, "PEM certificate chain: serve HTTPS");
  cmd->add_option("--tls-key", flags->tls_key, "PEM private key for --tls-cert");
  cmd->add_option("--threads", flags->threads, "HTTP I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--sync", flags->sync,
                  "full: every answered write is fsynced (survives power loss). normal: faster, "
                  "survives a process crash but may lose the last writes on power loss")
      ->capture_default_str();
  cmd->add_option("--log-format", flags->log_format, "text or json")->capture_default_str();
  cmd->add_option("--log-level", flags->log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  cmd->add_option("--max-body-kib", flags->max_body_kib, "largest request body accepted (KiB)")
      ->capture_default_str();
  cmd->add_option("--header-timeout", flags->header_timeout_s,
                  "seconds from a request's first byte to the end of its headers")
      ->capture_default_str();
  cmd->add_option("--body-timeout", flags->body_timeout_s, "seconds to receive a request body")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", flags->idle_timeout_s,
                  "seconds a keep-alive connection may wait for its next request")
      ->capture_default_str();
  cmd->add_option("--max-connections", flags->max_connections,
                  "connections held open at most (also kept below the open-file limit); at the "
                  "bound a new connection closes the longest-idle one")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  cmd->add_option("--base-url", flags->base_url,
                  "public URL of this server, for links in notifications (default: the "
                  "listen address)");
  cmd->add_option("--link-key-file", flags->link_key_file,
                  "file holding the key that signs acknowledge/resolve links (default: "
                  "<db>.link-key, created on first start; on PostgreSQL, a key kept in the "
                  "database and shared by every server)");
  cmd->add_option("--smtp-url", flags->smtp_url,
                  "SMTP server for email notifications, smtp://host:port or smtps://host:port");
  cmd->add_option("--smtp-from", flags->smtp_from, "sender address of notification emails");
  cmd->add_option("--smtp-user", flags->smtp_user,
                  "SMTP AUTH user (password from env HOUSTON_SMTP_PASSWORD)");
  cmd->add_flag("--smtp-starttls", flags->smtp_starttls, "refuse to send mail without STARTTLS");
  cmd->add_option("--allow-egress", flags->allow_egress,
                  "CIDR that notifications may reach although private or loopback (repeatable), "
                  "e.g. 127.0.0.1/32; by default such addresses are refused (SSRF guard)");
  cmd->add_option("--notify-workers", flags->notify_workers, "threads sending notifications")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--max-pages-per-minute", flags->max_pages_per_minute,
                  "messages per contact method per minute; more are bundled")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--live-buffer-kib", flags->live_buffer_kib,
                  "bytes (KiB) queued for one live feed stream at most; a client that reads "
                  "slower is disconnected")
      ->capture_default_str()
      ->check(CLI::Range(size_t{4}, size_t{65536}));
  cmd->add_option("--port-file", flags->port_file,
                  "write the bound port to this file once listening (for scripts using port 0)");
  cmd->callback([flags, run] { *run = [flags] { return Serve(*flags); }; });
}

}  // namespace houston::cli
