// `rocmforge synth`: placeholder until the subcommand lands.
#include "command.h"

namespace rf::cli {
void register_synth(CLI::App& root, CommandContext& ctx) {
    auto* cmd = root.add_subcommand("synth", "(not implemented yet)");
    cmd->callback([&ctx] { ctx.exit_code = report_error(Status::error("'synth' is not implemented yet")); });
}
}  // namespace rf::cli
