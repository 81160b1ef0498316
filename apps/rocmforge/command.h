// The contract between the CLI's main() and its subcommands (one file per subcommand).
#pragma once

#include <CLI/CLI.hpp>

#include "core/status.h"

namespace rf::cli {

// Shared by every subcommand: the exit code its callback leaves for main().
struct CommandContext {
    int exit_code = 0;
};

// Prints "rocmforge: error: <message>" on one line to stderr and returns exit code 1.
int report_error(const Status& status);

// Each subcommand adds itself to `root`; its callback stores the exit code in `ctx`.
void register_inspect(CLI::App& root, CommandContext& ctx);
void register_generate(CLI::App& root, CommandContext& ctx);
void register_chat(CLI::App& root, CommandContext& ctx);
void register_perplexity(CLI::App& root, CommandContext& ctx);
void register_bench(CLI::App& root, CommandContext& ctx);
void register_tensor(CLI::App& root, CommandContext& ctx);
void register_quantize(CLI::App& root, CommandContext& ctx);
void register_synth(CLI::App& root, CommandContext& ctx);
void register_convert(CLI::App& root, CommandContext& ctx);
void register_tokenize(CLI::App& root, CommandContext& ctx);
void register_detokenize(CLI::App& root, CommandContext& ctx);
void register_serve(CLI::App& root, CommandContext& ctx);
void register_bench_serve(CLI::App& root, CommandContext& ctx);
void register_template(CLI::App& root, CommandContext& ctx);

}  // namespace rf::cli
