// `houston serve`: the wiring point. The only place that names concrete classes.
#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <pthread.h>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "api/api.h"
#include "cli/commands.h"
#include "cli/internal.h"
#include "config/config.h"
#include "core/json_util.h"
#include "core/random.h"
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

namespace {

// How often other servers' commits may wake this server's engines (see the listener in Serve).
constexpr auto kOthersWakeInterval = std::chrono::milliseconds(10);

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
  std::ofstream out(path, std::ios::trunc);
  out << key << "\n";
  if (!out) return std::unexpected(Unavailable(fmt::format("cannot write {}", path)));
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return key;
}

// Loads the org: from --config (and records it in the store), else the one last applied.
Result<config::Org> LoadOrg(const ServeFlags& f, store::Store& store) {
  if (!f.config.empty()) {
    HOUSTON_ASSIGN_OR_RETURN(std::string yaml, ReadFile(f.config));
    HOUSTON_ASSIGN_OR_RETURN(config::Org org, config::ParseOrg(yaml, f.config));
    HOUSTON_ASSIGN_OR_RETURN(int changed,
                             ApplyOrgToStore(store, org, yaml, f.config,
                                             store::Actor{"system", "serve --config", "cli"}));
    spdlog::info("org loaded from {}: {} services, {} users ({} objects changed in the store)",
                 f.config, org.services.size(), org.users.size(), changed);
    return org;
  }
  HOUSTON_ASSIGN_OR_RETURN(store::OrgSnapshot snap, store.LoadOrg());
  if (snap.source_yaml.empty()) {
    spdlog::warn("no --config and no org applied to {}: no integration will accept events", f.db);
    return config::Org();
  }
  HOUSTON_ASSIGN_OR_RETURN(config::Org org, config::ParseOrg(snap.source_yaml, snap.source_name));
  spdlog::info("org loaded from the store (last applied from {})", snap.source_name);
  return org;
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
  // This server's name among the servers sharing a PostgreSQL database.
  const std::string instance = "houston-" + RandomBase62(12);
  auto store = OpenStore(
      f.db, f.sync == "full",
      [&metrics](std::chrono::microseconds latency, size_t batch) {
        metrics.Observe("houston_store_commit_duration_seconds", "", latency.count() / 1e6);
        metrics.Observe("houston_store_commit_batch_size", "", static_cast<double>(batch));
      },
      instance);
  if (!store) {
    PrintError(store.error());
    return 1;
  }
  store::Store& st = **store;
  metrics.SetGaugeSource("houston_store_queue_depth",
                         [&st] { return static_cast<double>(st.Stats().queue_depth); });
  auto org = LoadOrg(f, st);
  if (!org) {
    PrintError(org.error());
    return 2;
  }
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

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      auto reloaded = LoadOrg(f, st);
      if (!reloaded) {
        spdlog::error("reload failed, keeping the current org: {}", reloaded.error().ToString());
        for (const auto& d : reloaded.error().details()) spdlog::error("  {}", d);
        continue;
      }
      {
        auto rt = engine::MakeOrgRuntime(std::make_shared<const config::Org>(std::move(*reloaded)),
                                         api_overrides());
        std::lock_guard lock(org_mu);
        runtime = std::move(rt);
      }
      api.SetOrg(org_provider());
      heartbeats.Wake();
      escalations.Wake();
      fanout.Wake();
      spdlog::info("org reloaded");
      continue;
    }
    spdlog::info("received {}, shutting down: finishing in-flight requests",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  server.Shutdown();
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
                  "org.yaml to load and apply at start (and on SIGHUP). Without it, the org last "
                  "applied to --db is used.");
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
  cmd->add_option("--port-file", flags->port_file,
                  "write the bound port to this file once listening (for scripts using port 0)");
  cmd->callback([flags, run] { *run = [flags] { return Serve(*flags); }; });
}

}  // namespace houston::cli
