// houston's subcommands. Each returns the process exit code (0 ok, 1 failure, 2 bad usage or
// bad input) after printing what went wrong.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "core/status.h"
#include "server/app.h"
#include "store/store.h"

namespace houston::cli {

// Adds every subcommand to `app`; the selected one stores its runner in `*run`.
void AddCommands(CLI::App& app, std::function<int()>* run);
// analytics incidents|oncall-load|noise, report weekly, record (cli/learning_report.cc).
void AddLearningReportCommands(CLI::App& app, std::function<int()>* run);

// Opens the store named by --db (a SQLite path or a postgres:// URL).
using server::OpenStore;

// Prints `st` (message and detail lines) to stderr as "houston: ...".
void PrintError(const Status& st);

}  // namespace houston::cli
