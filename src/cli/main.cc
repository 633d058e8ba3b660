// Entry point of the `fo` command-line tool. Owns the error contract: any
// failure becomes exactly one line "error: <message>" on stderr and a
// non-zero exit status, never a stack trace.
#include <exception>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "output.h"
#include "suggest.h"
#include "fo/error.h"

namespace {

// Usage errors (a missing or unknown argument) exit 2, as in argparse and
// most Unix tools; failures of the command itself exit 1.
constexpr int kUsageError = 2;

int Fail(const std::string& message, int code) {
  std::cerr << "error: " << fo::cli::OneLine(message) << '\n';
  return code;
}

// The innermost subcommand the parser got to (the one whose arguments were wrong).
CLI::App* InnermostCommand(CLI::App& app) {
  CLI::App* current = &app;
  for (std::vector<CLI::App*> parsed = current->get_subcommands(); !parsed.empty(); parsed = current->get_subcommands())
    current = parsed.front();
  return current;
}

// "unknown command 'dataset' (did you mean 'datasets'?)": the closest of
// the subcommands or, for an argument starting with '-', of the options.
std::string Unknown(CLI::App& command, const std::string& typed) {
  std::vector<std::string> names;
  const bool option = !typed.empty() && typed[0] == '-';
  if (option) {
    for (const CLI::Option* o : command.get_options()) {
      for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
      for (const std::string& n : o->get_snames()) names.push_back("-" + n);
    }
  } else {
    const std::function<bool(const CLI::App*)> all = [](const CLI::App*) { return true; };
    for (const CLI::App* sub : static_cast<const CLI::App&>(command).get_subcommands(all)) names.push_back(sub->get_name());
  }
  const std::string typed_name = option ? typed.substr(0, typed.find('=')) : typed;
  std::string message = std::string("unknown ") + (option ? "option" : "command") + " '" + typed_name + "'";
  const std::string closest = fo::cli::ClosestMatch(typed_name, names);
  if (!closest.empty()) return message + " (did you mean '" + closest + "'?)";
  const std::string path = command.get_parent() == nullptr ? "fo" : "fo ... " + command.get_name();
  return message + " (see " + path + " --help)";
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
    CLI::App& command = *InnermostCommand(app);
    // CLI11 checks for a missing subcommand before unexpected arguments, so
    // a misspelt command would only be reported as "A subcommand is required".
    std::vector<std::string> unused = app.remaining(true);
    const bool missing_command = dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
                                 command.get_require_subcommand_min() > 0 && command.get_subcommands().empty();
    if (missing_command && unused.empty()) {
      // `fo` or `fo brain` alone: what there is to run, as FiftyOne's CLI does.
      std::cout << command.help();
      return 0;
    }
    if (!unused.empty() && (missing_command || dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr)) {
      return Fail(Unknown(command, unused.front()), kUsageError);
    }
    return Fail(e.what(), kUsageError);
  } catch (const fo::Error& e) {
    return Fail(e.what(), 1);
  } catch (const std::exception& e) {
    return Fail(e.what(), 1);
  } catch (...) {
    return Fail("unexpected failure", 1);
  }
  return 0;
}
