// `rocmforge tensor`: placeholder until the subcommand lands.
#include "command.h"

namespace rf::cli {
void register_tensor(CLI::App& root, CommandContext& ctx) {
    auto* cmd = root.add_subcommand("tensor", "(not implemented yet)");
    cmd->callback([&ctx] { ctx.exit_code = report_error(Status::error("'tensor' is not implemented yet")); });
}
}  // namespace rf::cli
