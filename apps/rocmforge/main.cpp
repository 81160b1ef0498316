// rocmforge: one binary, one subcommand per task. Results go to stdout, logs to stderr.
#include <cstdio>

#include "backend/select/device_select.h"
#include "command.h"
#include "core/log.h"

namespace rf::cli {
int report_error(const Status& status) {
    std::fprintf(stderr, "rocmforge: error: %s\n", status.message().c_str());
    return 1;
}
}  // namespace rf::cli

int main(int argc, char** argv) {
    CLI::App app{"rocmforge: run GGUF language models on AMD and NVIDIA GPUs or the CPU"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "rocmforge 0.1.0");
    bool verbose = false;
    bool quiet = false;
    app.add_flag("-v,--verbose", verbose, "Debug logging on stderr");
    app.add_flag("-q,--quiet", quiet, "Only errors on stderr");
    app.add_flag_callback(
        "--list-devices",
        [] {
            std::fputs(rf::backend::describe_devices(/*measure_bandwidth=*/true).c_str(), stdout);
            throw CLI::Success();
        },
        "List the GPUs found (with their copy bandwidth) and the CPU, and exit");
    app.parse_complete_callback([&] {
        if (verbose) rf::log::set_level(rf::log::Level::kDebug);
        if (quiet) rf::log::set_level(rf::log::Level::kError);
    });

    rf::cli::CommandContext ctx;
    rf::cli::register_generate(app, ctx);
    rf::cli::register_chat(app, ctx);
    rf::cli::register_perplexity(app, ctx);
    rf::cli::register_bench(app, ctx);
    rf::cli::register_inspect(app, ctx);
    rf::cli::register_tensor(app, ctx);
    rf::cli::register_quantize(app, ctx);
    rf::cli::register_synth(app, ctx);
    rf::cli::register_convert(app, ctx);
    rf::cli::register_tokenize(app, ctx);
    rf::cli::register_detokenize(app, ctx);
    rf::cli::register_serve(app, ctx);
    rf::cli::register_bench_serve(app, ctx);
    rf::cli::register_template(app, ctx);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : 1;
    }
    return ctx.exit_code;
}
