// `rocmforge detokenize`: token ids -> text, printed exactly (no newline added).
//   -m MODEL --ids "1 2 3" [--skip-special] [--clean-spaces]
#include <cstdio>

#include "command.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace rf::cli {
namespace {

struct DetokenizeArgs {
    std::string model;
    std::string ids;
    bool skip_special = false;
    bool clean_spaces = false;
};

// Ids separated by spaces, commas or newlines; brackets are ignored ("[1, 2, 3]" works).
Result<std::vector<int32_t>> parse_ids(std::string_view text, int32_t n_vocab) {
    std::vector<int32_t> ids;
    size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c == ' ' || c == ',' || c == '\n' || c == '\t' || c == '\r' || c == '[' || c == ']') {
            ++i;
            continue;
        }
        int64_t value = 0;
        const size_t start = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            value = value * 10 + (text[i] - '0');
            if (value > n_vocab) break;
            ++i;
        }
        if (i == start) {
            return error("--ids: unexpected '{}' at position {} (expected token ids)", c, i);
        }
        if (value >= n_vocab) {
            return error("--ids: token id {} is out of range (the vocabulary has {} tokens)",
                         text.substr(start, std::min<size_t>(i - start + 1, 20)), n_vocab);
        }
        ids.push_back(static_cast<int32_t>(value));
    }
    return ids;
}

Status run_detokenize(const DetokenizeArgs& args) {
    RF_ASSIGN_OR_RETURN(gguf::GgufFile file, gguf::GgufFile::open(args.model));
    RF_ASSIGN_OR_RETURN(tok::Tokenizer tokenizer, tok::Tokenizer::from_gguf(file));
    RF_ASSIGN_OR_RETURN(const std::vector<int32_t> ids, parse_ids(args.ids, tokenizer.n_vocab()));
    tok::DecodeOptions options;
    options.render_special = !args.skip_special;
    options.clean_spaces = args.clean_spaces;
    const std::string text = tokenizer.decode(ids, options);
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) {
        return error("cannot write to stdout");
    }
    return Status::ok();
}

}  // namespace

void register_detokenize(CLI::App& root, CommandContext& ctx) {
    auto args = std::make_shared<DetokenizeArgs>();
    auto* cmd = root.add_subcommand("detokenize", "Print the text of token ids");
    cmd->add_option("-m,--model", args->model, "GGUF model (or vocabulary-only) file")->required();
    cmd->add_option("--ids", args->ids, "Token ids, e.g. \"1 2 3\"")->required();
    cmd->add_flag("--skip-special", args->skip_special, "Leave out control tokens (BOS, EOS...)");
    cmd->add_flag("--clean-spaces", args->clean_spaces,
                  "Apply the model's clean-up of spaces before punctuation");
    cmd->callback([args, &ctx] {
        const Status status = run_detokenize(*args);
        ctx.exit_code = status.is_ok() ? 0 : report_error(status);
    });
}

}  // namespace rf::cli
