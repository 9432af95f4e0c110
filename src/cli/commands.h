// houston's subcommands. Each returns the process exit code (0 ok, 1 failure, 2 bad usage or
// bad input) after printing what went wrong.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "core/status.h"
#include "store/store.h"

namespace houston::cli {

// Adds every subcommand to `app`; the selected one stores its runner in `*run`.
void AddCommands(CLI::App& app, std::function<int()>* run);

// Opens the store named by --db: a SQLite path (its parent directories are created) or a
// postgres:// URL. `instance` names this server in PostgreSQL change notifications;
// `on_events` receives the domain events of each commit (for metrics).
Result<std::unique_ptr<store::Store>> OpenStore(const std::string& db, bool synchronous_full,
                                                store::CommitObserver on_commit = {},
                                                std::string instance = "houston-cli",
                                                store::EventObserver on_events = {},
                                                store::FeedObserver on_feed = {});

// Prints `st` (message and detail lines) to stderr as "houston: ...".
void PrintError(const Status& st);

}  // namespace houston::cli
