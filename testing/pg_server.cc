#include "testing/pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace houston::testing {
namespace {

constexpr std::string_view kBin = "/usr/lib/postgresql/15/bin";

std::string Tool(std::string_view name) { return fmt::format("{}/{}", kBin, name); }

std::string Errno(std::string_view what) {
  return fmt::format("{}: {}", what, std::strerror(errno));
}

// The last `max` bytes of the file at `path` (empty if unreadable).
std::string Tail(const std::string& path, size_t max = 2000) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  return text.size() > max ? text.substr(text.size() - max) : text;
}

// A loopback TCP port nobody listens on right now. The server only listens on its Unix socket,
// whose name carries the port, so this merely keeps the port plausible should TCP be enabled.
Result<int> FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(Internal(Errno("socket")));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Status st = Internal(Errno("finding a free port"));
    close(fd);
    return std::unexpected(st);
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// The template cluster that every server starts as a copy of: initdb's output plus database
// `houston`, shut down cleanly. One per host, user and recipe (bump the "v1" when MakeTemplate
// changes); copying it takes about a tenth of initdb's time.
std::string TemplateDir() { return fmt::format("/tmp/houston-pgtemplate-v1-15-{}", geteuid()); }

bool ValidDatabaseName(std::string_view name) {
  if (name.empty() || name.size() > 63 || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// "<host> <pid>": who owns a server directory (its file "owner").
std::string OwnerTag(pid_t pid) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return fmt::format("{} {}", host, pid);
}

// Whether the directory belongs to a process on this host that no longer exists. Directories
// of live processes, of other hosts (a shared /tmp) and without an owner are left alone.
bool Orphaned(const std::filesystem::path& dir) {
  std::ifstream in(dir / "owner");
  std::string host;
  pid_t pid = 0;
  if (!(in >> host >> pid) || pid <= 0) return false;
  if (OwnerTag(pid) != fmt::format("{} {}", host, pid)) return false;
  return kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

PgServer::PgServer(std::string dir, std::optional<Account> server_account)
    : dir_(std::move(dir)), server_account_(server_account) {}

Result<std::unique_ptr<PgServer>> PgServer::Start() {
  for (std::string_view tool : {"initdb", "pg_ctl", "postgres", "createdb"}) {
    if (access(Tool(tool).c_str(), X_OK) != 0) {
      return std::unexpected(FailedPrecondition(
          "PostgreSQL 15 is not installed: run scripts/install-deps.sh (package postgresql-15)"));
    }
  }
  std::optional<Account> account;
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return std::unexpected(FailedPrecondition(
          "PostgreSQL refuses to run as root and there is no `postgres` user to run it as: run "
          "scripts/install-deps.sh (package postgresql-15)"));
    }
    account = Account{pw->pw_uid, pw->pw_gid};
  }
  ReapOrphans(account);
  // Under /tmp, not $TMPDIR: a Unix socket's path must stay under 108 bytes.
  char dir[] = "/tmp/houston-pg-XXXXXX";
  if (mkdtemp(dir) == nullptr) return std::unexpected(Internal(Errno("mkdtemp")));
  // From here on the destructor removes the directory.
  auto server = std::unique_ptr<PgServer>(new PgServer(dir, account));
  if (!(std::ofstream(server->dir_ + "/owner") << OwnerTag(getpid()) << "\n")) {
    return std::unexpected(Internal(fmt::format("cannot write {}/owner", dir)));
  }
  if (account && chown(dir, account->uid, account->gid) != 0) {
    return std::unexpected(Internal(Errno(fmt::format("chown {} to postgres", dir))));
  }
  HOUSTON_ASSIGN_OR_RETURN(server->port_, FreePort());
  server->url_ = server->UrlOf("houston");

  HOUSTON_RETURN_IF_ERROR(server->MakeTemplate());
  HOUSTON_RETURN_IF_ERROR(
      server->Run({"/bin/cp", "-a", TemplateDir(), server->dir_ + "/data"}, /*as_server=*/true));
  HOUSTON_RETURN_IF_ERROR(server->WriteSettings());
  Status started = server->StartAgain();
  if (!started.ok()) {
    return std::unexpected(Internal(fmt::format(
        "{}\n(the cluster is a copy of {}: delete it if it is damaged, the next test makes it "
        "again)",
        started.message(), TemplateDir())));
  }
  return server;
}

Status PgServer::MakeTemplate() {
  const std::string tmpl = TemplateDir();
  std::error_code ec;
  if (std::filesystem::exists(tmpl + "/PG_VERSION", ec)) return OkStatus();
  const std::string data = dir_ + "/data";
  HOUSTON_RETURN_STATUS_IF_ERROR(Run({Tool("initdb"), "-D", data, "-U", "houston", "--auth=trust",
                                      "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
                                     /*as_server=*/true));
  {
    // Each copy's own settings live in houston.conf (WriteSettings), which the template includes.
    std::ofstream conf(data + "/postgresql.conf", std::ios::app);
    conf << "\n# houston::testing::PgServer: this server's settings\n"
         << "include_if_exists = 'houston.conf'\n";
    if (!conf.flush()) return Internal(fmt::format("cannot write {}/postgresql.conf", data));
  }
  HOUSTON_RETURN_STATUS_IF_ERROR(WriteSettings());
  HOUSTON_RETURN_STATUS_IF_ERROR(StartAgain());
  HOUSTON_RETURN_STATUS_IF_ERROR(Run(
      {Tool("createdb"), "-h", dir_, "-p", std::to_string(port_), "-U", "houston", "-w", "houston"},
      /*as_server=*/false));
  HOUSTON_RETURN_STATUS_IF_ERROR(Stop());  // a clean shutdown: copies start without recovery
  std::filesystem::remove(data + "/houston.conf", ec);
  // Whole or not at all: the rename is atomic. Should another process have made the template
  // meanwhile, its copy stays and ours goes.
  if (rename(data.c_str(), tmpl.c_str()) != 0) {
    if (errno != EEXIST && errno != ENOTEMPTY) {
      return Internal(Errno(fmt::format("rename {} to {}", data, tmpl)));
    }
    std::filesystem::remove_all(data, ec);
  }
  return OkStatus();
}

Status PgServer::WriteSettings() const {
  // With fsync off, a commit only reaches the OS's cache, which is durable enough for Kill():
  // synchronous_commit stays on so that no commit is lost.
  const std::string path = dir_ + "/data/houston.conf";
  std::ofstream conf(path, std::ios::trunc);
  conf << "listen_addresses = ''\n"
       << "unix_socket_directories = '" << dir_ << "'\n"
       << "port = " << port_ << "\n"
       << "max_connections = 200\n"
       << "fsync = off\n"
       << "full_page_writes = off\n"
       << "timezone = 'UTC'\n";
  if (!conf.flush()) return Internal(fmt::format("cannot write {}", path));
  return OkStatus();
}

void PgServer::ReapOrphans(const std::optional<Account>& account) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/tmp", ec)) {
    if (!entry.path().filename().string().starts_with("houston-pg-") || !Orphaned(entry.path())) {
      continue;
    }
    PgServer orphan(entry.path().string(), account);  // its destructor stops and removes it
  }
}

PgServer::~PgServer() {
  // Whatever running_ says (a failed Restart() may have left it either way): a server is up,
  // or was when it crashed, while its postmaster.pid exists.
  std::error_code ignored;
  if (std::filesystem::exists(dir_ + "/data/postmaster.pid", ignored)) {
    (void)PgCtl("stop", {"-m", "immediate"});
  }
  std::filesystem::remove_all(dir_, ignored);
}

std::string PgServer::UrlOf(std::string_view database) const {
  return fmt::format("postgresql://houston@/{}?host={}&port={}", database, dir_, port_);
}

Result<std::string> PgServer::NewDatabase(std::string_view name) {
  if (!ValidDatabaseName(name)) {
    return std::unexpected(InvalidArgument(fmt::format("bad database name {:?}", name)));
  }
  HOUSTON_RETURN_IF_ERROR(Run({Tool("createdb"), "-h", dir_, "-p", std::to_string(port_), "-U",
                               "houston", "-w", std::string(name)},
                              /*as_server=*/false));
  return UrlOf(name);
}

Status PgServer::Stop() {
  if (!running_) return OkStatus();
  HOUSTON_RETURN_STATUS_IF_ERROR(PgCtl("stop", {"-m", "fast"}));
  running_ = false;
  return OkStatus();
}

Status PgServer::Kill() {
  if (!running_) return OkStatus();
  HOUSTON_RETURN_STATUS_IF_ERROR(PgCtl("stop", {"-m", "immediate"}));
  running_ = false;
  return OkStatus();
}

Status PgServer::StartAgain() {
  if (running_) return OkStatus();
  HOUSTON_RETURN_STATUS_IF_ERROR(PgCtl("start", {"-l", dir_ + "/log"}));
  running_ = true;
  return OkStatus();
}

Status PgServer::Restart() {
  running_ = false;  // unless it comes back: then StartAgain() tries again
  HOUSTON_RETURN_STATUS_IF_ERROR(PgCtl("restart", {"-m", "fast", "-l", dir_ + "/log"}));
  running_ = true;
  return OkStatus();
}

Status PgServer::PgCtl(std::string_view mode, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {
      Tool("pg_ctl"), std::string(mode), "-D", dir_ + "/data", "-w", "-t", "60", "-s"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Status st = Run(argv, /*as_server=*/true);
  if (!st.ok() && mode != "stop") {
    return Internal(fmt::format("{}\nserver log:\n{}", st.message(), Tail(dir_ + "/log")));
  }
  return st;
}

Status PgServer::Run(const std::vector<std::string>& argv, bool as_server) const {
  const std::string log = dir_ + "/commands.log";
  // Everything the child needs is prepared here: between fork and exec only async-signal-safe
  // calls are allowed.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // A fixed environment: no PG* variables, locale or preloads of the test process leak in.
  static const char* const kEnv[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC", nullptr};
  const bool switch_user = as_server && server_account_.has_value();
  const uid_t uid = switch_user ? server_account_->uid : 0;
  const gid_t gid = switch_user ? server_account_->gid : 0;
  const char* dir = dir_.c_str();

  int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) return Internal(Errno(fmt::format("open {}", log)));
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    close(out);
    return Internal(Errno("open /dev/null"));
  }
  std::string header = fmt::format("$ {}\n", fmt::join(argv, " "));
  (void)!write(out, header.data(), header.size());

  pid_t pid = fork();
  if (pid == 0) {
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(126);
    // The server must not inherit the test's descriptors (sockets, files).
    close_range(3, ~0U, 0);
    if (chdir(dir) != 0) _exit(126);
    if (switch_user) {
      if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
    }
    execve(args[0], args.data(), const_cast<char* const*>(kEnv));
    _exit(127);
  }
  close(in);
  close(out);
  if (pid < 0) return Internal(Errno("fork"));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Internal(Errno(fmt::format("waitpid for {}", argv[0])));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return OkStatus();
  std::string how = WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                      : fmt::format("signal {}", WTERMSIG(status));
  return Internal(fmt::format("{} failed ({}); output:\n{}", fmt::join(argv, " "), how, Tail(log)));
}

}  // namespace houston::testing
