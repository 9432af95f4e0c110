// houston user: people's passwords and sessions, on the database directly.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>

#include "auth/auth.h"
#include "cli/commands.h"
#include "cli/internal.h"

namespace houston::cli {

namespace {

// Reads one line from the terminal without echoing it. nullopt on end of input.
std::optional<std::string> ReadHidden(const char* prompt) {
  // Echo goes off before the prompt shows, so that nothing typed after it is ever echoed.
  termios old{};
  bool restore = tcgetattr(STDIN_FILENO, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::fputs(prompt, stderr);
  std::fflush(stderr);
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (restore) tcsetattr(STDIN_FILENO, TCSANOW, &old);
  if (!got) return std::nullopt;
  return line;
}

// The new password: prompted for twice without echo on a terminal, else all of stdin (one
// trailing newline removed, so `echo pw | houston user set-password` works).
Result<std::string> ReadNewPassword(const std::string& user) {
  if (isatty(STDIN_FILENO)) {
    auto first = ReadHidden(fmt::format("New password for {}: ", user).c_str());
    if (!first) return std::unexpected(InvalidArgument("no password given"));
    HOUSTON_RETURN_IF_ERROR(auth::CheckPasswordPolicy(*first));
    auto again = ReadHidden("The same password again: ");
    if (!again || *again != *first) {
      return std::unexpected(InvalidArgument("the passwords do not match; nothing was changed"));
    }
    return *first;
  }
  std::string text(std::istreambuf_iterator<char>(std::cin), {});
  if (text.ends_with('\n')) text.pop_back();
  if (text.ends_with('\r')) text.pop_back();
  if (text.find('\n') != std::string::npos) {
    return std::unexpected(InvalidArgument(
        "the password read from standard input has several lines; give it on one line"));
  }
  return text;
}

// OK if `user` is a user of the org applied to the database; else why not.
Status CheckUserInOrg(store::Store& store, const std::string& user, const std::string& db) {
  HOUSTON_ASSIGN_OR_RETURN(store::OrgSnapshot snap, store.LoadOrg());
  std::vector<std::string> users;
  for (const auto& o : snap.objects) {
    if (o.kind != "user") continue;
    if (o.id == user) return OkStatus();
    users.push_back(o.id);
  }
  if (users.empty()) {
    return InvalidArgument(fmt::format(
        "no org with users has been applied to {}: apply one first (houston apply -f org.yaml "
        "--db {})",
        db, db));
  }
  return InvalidArgument(fmt::format("user '{}' is not in the org applied to {} (users: {})", user,
                                     db, fmt::join(users, ", ")));
}

int SetPassword(const std::string& user, const std::string& db) {
  auto store = OpenStore(db, true);
  if (!store) {
    PrintError(store.error());
    return 1;
  }
  if (Status st = CheckUserInOrg(**store, user, db); !st.ok()) {
    PrintError(st);
    return st.code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  auto password = ReadNewPassword(user);
  if (!password) {
    PrintError(password.error());
    return 2;
  }
  if (Status st = auth::CheckPasswordPolicy(*password); !st.ok()) {
    PrintError(st);
    return 2;
  }
  auto hash = auth::HashPassword(*password);
  if (!hash) {
    PrintError(hash.error());
    return 1;
  }
  auto revoked = store::Wait<int>([&](auto cb) {
    (*store)->SetPassword(user, *hash, store::Actor{"user", "", "cli"}, cb);
  });
  if (!revoked) {
    PrintError(revoked.error());
    return 1;
  }
  std::printf("password set for %s; they can sign in (POST /api/v1/session)", user.c_str());
  if (*revoked > 0) std::printf("; %d earlier session(s) were signed out", *revoked);
  std::printf("\n");
  return 0;
}

int RevokeSessions(const std::string& user, const std::string& db) {
  auto store = OpenStore(db, true);
  if (!store) {
    PrintError(store.error());
    return 1;
  }
  auto revoked = store::Wait<int>([&](auto cb) {
    (*store)->RevokeUserSessions(user, store::Actor{"user", "", "cli"}, cb);
  });
  if (!revoked) {
    PrintError(revoked.error());
    return 1;
  }
  std::printf("revoked %d session(s) of %s; they stop working at once\n", *revoked, user.c_str());
  return 0;
}

}  // namespace

void AddUserCommands(CLI::App& app, std::function<int()>* run) {
  auto* cmd = app.add_subcommand("user", "Manage people's sign-in: passwords and sessions.");
  cmd->require_subcommand(1);
  {
    auto user = std::make_shared<std::string>();
    auto db = std::make_shared<std::string>("var/houston.db");
    auto* set = cmd->add_subcommand(
        "set-password",
        fmt::format("Set a user's password (Argon2id; at least {} characters), read from standard "
                    "input, or prompted for without echo on a terminal. Signs out the user's "
                    "sessions.",
                    auth::kMinPasswordLength));
    set->add_option("USER", *user, "the user's id in the org applied to --db")->required();
    set->add_option("--db", *db, kDbHelp)->capture_default_str();
    set->callback([=] { *run = [=] { return SetPassword(*user, *db); }; });
  }
  {
    auto user = std::make_shared<std::string>();
    auto db = std::make_shared<std::string>("var/houston.db");
    auto* revoke = cmd->add_subcommand(
        "revoke-sessions", "Sign a user out everywhere: every session stops working at once.");
    revoke->add_option("USER", *user, "the user's id")->required();
    revoke->add_option("--db", *db, kDbHelp)->capture_default_str();
    revoke->callback([=] { *run = [=] { return RevokeSessions(*user, *db); }; });
  }
}

}  // namespace houston::cli
