// houston: a self-hosted incident-response server. See `houston --help`.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "houston: self-hosted incident response (alerts, on-call, incidents, postmortems).\n"
      "Run `houston <command> --help` for the options of a command."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "houston 0.1.0");
  std::function<int()> run;
  houston::cli::AddCommands(app, &run);
  houston::cli::AddLearningReportCommands(app, &run);
  houston::cli::AddMigrationCommands(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return run ? run() : 2;
}
