// `rocmforge quantize`: placeholder until the subcommand lands.
#include "command.h"

namespace rf::cli {
void register_quantize(CLI::App& root, CommandContext& ctx) {
    auto* cmd = root.add_subcommand("quantize", "(not implemented yet)");
    cmd->callback([&ctx] { ctx.exit_code = report_error(Status::error("'quantize' is not implemented yet")); });
}
}  // namespace rf::cli
