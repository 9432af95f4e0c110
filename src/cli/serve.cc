// `houston serve`: flags in, signals handled; server::App (src/server) builds and runs the
// server itself.
#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <pthread.h>

#include <charconv>
#include <csignal>
#include <fstream>

#include "auth/auth.h"
#include "cli/commands.h"
#include "cli/internal.h"
#include "core/json_util.h"
#include "server/app.h"

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

namespace {

// How often a server looks for an org applied to its database by `houston apply`.
constexpr auto kOrgPollInterval = std::chrono::seconds(2);

// The flags of `houston serve`: the server's options plus how this process logs and reports.
struct ServeFlags {
  server::Options server;
  std::string log_format = "text";
  std::string log_level = "info";
  std::string port_file;
};

int Serve(ServeFlags f) {
  if (Status st = SetUpLogging(f.log_format, f.log_level); !st.ok()) {
    PrintError(st);
    return 2;
  }
  // Signals are handled by this thread with sigtimedwait; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (const char* pw = std::getenv("HOUSTON_SMTP_PASSWORD")) f.server.smtp_password = pw;

  auto app = server::App::Create(f.server);
  if (!app) {
    PrintError(app.error().status);
    return app.error().exit_code;
  }
  auto port = (*app)->Start();
  if (!port) {
    PrintError(port.error().status);
    return port.error().exit_code;
  }
  if (!f.port_file.empty()) {
    std::ofstream(f.port_file) << *port << "\n";
  }
  for (;;) {
    // Waits for a signal, and meanwhile looks for an org that `houston apply` (or another
    // server) wrote to the database.
    timespec poll{.tv_sec = kOrgPollInterval.count(), .tv_nsec = 0};
    int sig = sigtimedwait(&signals, nullptr, &poll);
    if (sig < 0) {
      (*app)->CheckDatabaseForNewOrg();
      continue;
    }
    if (sig == SIGHUP) {
      (*app)->ReloadConfigFile();
      continue;
    }
    spdlog::info("received {}, shutting down: finishing in-flight requests",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  (*app)->Shutdown();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand("serve", "Run the houston server.");
  cmd->add_option("--config", flags->server.config,
                  "org.yaml to apply to --db at start and on SIGHUP, while the database's org "
                  "came from this file (or it has none yet); after `houston apply` of another "
                  "file the database's org wins. Without it, the org last applied to --db is "
                  "used. Servers pick up `houston apply` by themselves within 2 seconds.");
  cmd->add_option("--db", flags->server.db,
                  "SQLite database path, or a postgres:// URL (several servers may share one "
                  "PostgreSQL database)")
      ->capture_default_str();
  cmd->add_option("--claim-lease", flags->server.claim_lease_s,
                  "seconds a server holds a notification it is sending; after that (it died or "
                  "stalled) another server sends it again")
      ->capture_default_str()
      ->check(CLI::Range(5, 3600));
  cmd->add_option("--listen", flags->server.listen,
                  "HOST:PORT to listen on (port 0 picks a free port)")
      ->capture_default_str();
  cmd->add_option("--tls-cert", flags->server.tls_cert, "PEM certificate chain: serve HTTPS");
  cmd->add_option("--tls-key", flags->server.tls_key, "PEM private key for --tls-cert");
  cmd->add_option("--threads", flags->server.threads,
                  "HTTP I/O threads; 0: one per CPU this process may run on, at most 2")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  cmd->add_option("--api-workers", flags->server.api_workers,
                  "threads running API requests (reads, changes, sign-in), so that intake's I/O "
                  "threads never wait for them; 0: run them on the I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  cmd->add_option("--sync", flags->server.sync,
                  "full: every answered write is fsynced (survives power loss). normal: faster, "
                  "survives a process crash but may lose the last writes on power loss")
      ->capture_default_str();
  cmd->add_option("--log-format", flags->log_format, "text or json")->capture_default_str();
  cmd->add_option("--log-level", flags->log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  cmd->add_option("--max-body-kib", flags->server.max_body_kib,
                  "largest request body accepted on intake routes (KiB)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1024 * 1024}));
  cmd->add_option("--max-api-body-kib", flags->server.max_api_body_kib,
                  "largest request body accepted on every other route: the API, sign-in, "
                  "signed links (KiB)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1024 * 1024}));
  cmd->add_option("--max-header-kib", flags->server.max_header_kib,
                  "largest request head (request line and headers, KiB); at most 100 header "
                  "fields")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1024}));
  cmd->add_option("--header-timeout", flags->server.header_timeout_s,
                  "seconds from a request's first byte to the end of its headers")
      ->capture_default_str();
  cmd->add_option("--body-timeout", flags->server.body_timeout_s,
                  "seconds to receive a request body")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", flags->server.idle_timeout_s,
                  "seconds a keep-alive connection may wait for its next request")
      ->capture_default_str();
  cmd->add_option("--max-connections", flags->server.max_connections,
                  "connections held open at most (also kept below the open-file limit); at the "
                  "bound a new connection closes the longest-idle one")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  cmd->add_option("--base-url", flags->server.base_url,
                  "public URL of this server, for links in notifications (default: the "
                  "listen address)");
  cmd->add_option("--link-key-file", flags->server.link_key_file,
                  "file holding the key that signs acknowledge/resolve links (default: "
                  "<db>.link-key, created on first start; on PostgreSQL, a key kept in the "
                  "database and shared by every server)");
  cmd->add_option("--smtp-url", flags->server.smtp_url,
                  "SMTP server for email notifications, smtp://host:port or smtps://host:port");
  cmd->add_option("--smtp-from", flags->server.smtp_from, "sender address of notification emails");
  cmd->add_option("--smtp-user", flags->server.smtp_user,
                  "SMTP AUTH user (password from env HOUSTON_SMTP_PASSWORD)");
  cmd->add_flag("--smtp-starttls", flags->server.smtp_starttls,
                "refuse to send mail without STARTTLS");
  cmd->add_option("--allow-egress", flags->server.allow_egress,
                  "CIDR that notifications may reach although private or loopback (repeatable), "
                  "e.g. 127.0.0.1/32; by default such addresses are refused (SSRF guard)");
  cmd->add_option("--notify-workers", flags->server.notify_workers, "threads sending notifications")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--max-pages-per-minute", flags->server.max_pages_per_minute,
                  "messages per contact method per minute; more are bundled")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--alert-retention-days", flags->server.alert_retention_days,
                  "delete alerts resolved (with their incident) more than this many days ago, "
                  "in the background; incidents, timelines and audit records stay; 0 keeps "
                  "every alert")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& text) {
            int days = -1;
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), days);
            if (ec != std::errc() || end != text.data() + text.size() || days < 0 || days > 36500 ||
                (days > 0 && days < 7)) {
              return std::string(
                  "must be 0 (keep every alert) or a number of days from 7 to "
                  "36500, not '" +
                  text + "'");
            }
            return std::string();
          },
          "0 or 7..36500"));
  auto duration = CLI::Validator(
      [](std::string& text) {
        auto d = auth::ParseDuration(text);
        return d ? std::string() : d.error().message();
      },
      "DURATION");
  cmd->add_option("--session-idle", flags->server.session_idle,
                  "a signed-in session unused this long ends (e.g. 30m, 12h)")
      ->capture_default_str()
      ->check(duration);
  cmd->add_option("--session-lifetime", flags->server.session_lifetime,
                  "a signed-in session ends this long after sign-in, however much it is used "
                  "(e.g. 12h, 7d)")
      ->capture_default_str()
      ->check(duration);
  cmd->add_option("--live-buffer-kib", flags->server.live_buffer_kib,
                  "bytes (KiB) queued for one live feed stream at most; a client that reads "
                  "slower is disconnected")
      ->capture_default_str()
      ->check(CLI::Range(size_t{4}, size_t{65536}));
  cmd->add_option("--live-max-ids", flags->server.live_max_ids,
                  "live feed streams are sent what changed every 100 ms, one message per object; "
                  "a type with more objects changed than this in that time gets one message "
                  "that counts them (an alert storm: reload the list)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  cmd->add_option("--live-max-writes", flags->server.live_max_writes,
                  "with many live feed streams, each is sent what changed less often than every "
                  "100 ms, so that all of them together take at most this many writes per second "
                  "(2,000 streams at 5000: every 400 ms)")
      ->capture_default_str()
      ->check(CLI::Range(100, 10'000'000));
  cmd->add_option("--port-file", flags->port_file,
                  "write the bound port to this file once listening (for scripts using port 0)");
  cmd->callback([flags, run] { *run = [flags] { return Serve(*flags); }; });
}

}  // namespace houston::cli
