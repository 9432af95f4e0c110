// Helpers shared by the subcommand files.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <utility>

#include "config/config.h"
#include "core/status.h"
#include "server/app.h"
#include "store/store.h"

namespace houston::cli {

void AddServeCommand(CLI::App& app, std::function<int()>* run);
void AddAdminCommands(CLI::App& app, std::function<int()>* run);
void AddClientCommands(CLI::App& app, std::function<int()>* run);
void AddUserCommands(CLI::App& app, std::function<int()>* run);
void AddLearningCommands(CLI::App& app, std::function<int()>* run);

// The help text of every subcommand's --db option.
inline constexpr const char* kDbHelp = "SQLite database path, or a postgres:// URL";

Status SetUpLogging(const std::string& format, const std::string& level);
using server::AbsolutePath;
using server::ApplyOrgToStore;
using server::ParseListen;
using server::ReadFile;

}  // namespace houston::cli
