// `rocmforge inspect`: placeholder until the subcommand lands.
#include "command.h"

namespace rf::cli {
void register_inspect(CLI::App& root, CommandContext& ctx) {
    auto* cmd = root.add_subcommand("inspect", "(not implemented yet)");
    cmd->callback([&ctx] { ctx.exit_code = report_error(Status::error("'inspect' is not implemented yet")); });
}
}  // namespace rf::cli
