// Entry point of the `fo` command-line tool. Owns the error contract: any
// failure becomes exactly one line "error: <message>" on stderr and a
// non-zero exit status, never a stack trace.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "output.h"
#include "fo/error.h"

namespace {

int Fail(const std::string& message, int code) {
  std::cerr << "error: " << fo::cli::OneLine(message) << '\n';
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fo: FiftyOne similarity search from the command line", "fo"};
  app.require_subcommand(1);
  fo::cli::AddDatasetsCommands(app);
  CLI::App* brain = app.add_subcommand("brain", "Compute, query and manage brain runs");
  brain->require_subcommand(1);
  fo::cli::AddSimilarityCommands(*brain);
  fo::cli::AddBrainRunCommands(*brain);
  fo::cli::AddDemoCommand(app);
  fo::cli::AddIndexCommands(app, *brain);
  fo::cli::AddEmbeddingsCommands(app);
  fo::cli::AddZooCommands(app);
  fo::cli::AddAppCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; let CLI11 print them.
    if (e.get_exit_code() == 0) return app.exit(e);
    // CLI11 checks for a missing subcommand before unexpected arguments, so
    // a misspelt command would only be reported as "A subcommand is required".
    std::vector<std::string> unused = app.remaining(true);
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && !unused.empty()) {
      return Fail("unknown command or option '" + unused.front() + "' (see --help)", e.get_exit_code());
    }
    return Fail(e.what(), e.get_exit_code());
  } catch (const fo::Error& e) {
    return Fail(e.what(), 1);
  } catch (const std::exception& e) {
    return Fail(e.what(), 1);
  } catch (...) {
    return Fail("unexpected failure", 1);
  }
  return 0;
}
