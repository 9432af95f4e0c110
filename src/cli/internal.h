// Helpers shared by the subcommand files.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <utility>

#include "config/config.h"
#include "core/status.h"
#include "store/store.h"

namespace houston::cli {

void AddServeCommand(CLI::App& app, std::function<int()>* run);
void AddAdminCommands(CLI::App& app, std::function<int()>* run);
void AddClientCommands(CLI::App& app, std::function<int()>* run);
void AddUserCommands(CLI::App& app, std::function<int()>* run);

Status SetUpLogging(const std::string& format, const std::string& level);
Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen);
Result<std::string> ReadFile(const std::string& path);
// `path` made absolute and normalised: how an org file is named as the database's org source.
std::string AbsolutePath(const std::string& path);
// Flattens `org` into the store and registers its heartbeats. Returns objects changed.
Result<int> ApplyOrgToStore(store::Store& store, const config::Org& org, std::string yaml,
                            std::string name, store::Actor actor);

}  // namespace houston::cli
