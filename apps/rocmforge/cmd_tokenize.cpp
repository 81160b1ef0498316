// `rocmforge tokenize`: text -> token ids with the model's own vocabulary.
//   -m MODEL (--file F | -p TEXT) [--raw] [--pieces]
// --raw: the ids of the exact bytes (no BOS/EOS, special-token text left as text).
#include <cstdio>
#include <fstream>
#include <sstream>

#include "command.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace rf::cli {
namespace {

struct TokenizeArgs {
    std::string model;
    std::string file;
    std::string prompt;
    bool raw = false;
    bool pieces = false;
};

Result<std::string> read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return error("cannot open '{}'", path);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) return error("cannot read '{}'", path);
    return buffer.str();
}

// One piece on one line: control bytes, backslash and bytes that are not UTF-8 are escaped.
std::string escape_piece(std::string_view piece) {
    std::string out;
    size_t i = 0;
    while (i < piece.size()) {
        const char c = piece[i];
        const int n = tok::utf8_sequence_length(piece.substr(i));
        if (n > 1) {
            out.append(piece.substr(i, static_cast<size_t>(n)));
            i += static_cast<size_t>(n);
            continue;
        }
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (u < 0x20 || u == 0x7F || n <= 0) {
            out += fmt::format("\\x{:02x}", u);
        } else {
            out += c;
        }
        ++i;
    }
    return out;
}

Status run_tokenize(const TokenizeArgs& args) {
    std::string text = args.prompt;
    if (!args.file.empty()) {
        RF_ASSIGN_OR_RETURN(text, read_all(args.file));
    }
    RF_ASSIGN_OR_RETURN(gguf::GgufFile file, gguf::GgufFile::open(args.model));
    RF_ASSIGN_OR_RETURN(tok::Tokenizer tokenizer, tok::Tokenizer::from_gguf(file));
    const std::vector<int32_t> ids = tokenizer.encode(text, !args.raw, !args.raw);
    std::string out;
    if (args.pieces) {
        for (const int32_t id : ids) {
            out += fmt::format("{}\t{}\n", id, escape_piece(tokenizer.token_to_piece(id)));
        }
    } else {
        for (size_t i = 0; i < ids.size(); ++i) {
            if (i > 0) out += ' ';
            out += std::to_string(ids[i]);
        }
        out += '\n';
    }
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) {
        return error("cannot write to stdout");
    }
    return Status::ok();
}

}  // namespace

void register_tokenize(CLI::App& root, CommandContext& ctx) {
    auto args = std::make_shared<TokenizeArgs>();
    auto* cmd = root.add_subcommand("tokenize", "Print the token ids of a text");
    cmd->add_option("-m,--model", args->model, "GGUF model (or vocabulary-only) file")->required();
    auto* file = cmd->add_option("--file", args->file, "Tokenize this file's exact bytes");
    auto* prompt = cmd->add_option("-p,--prompt", args->prompt, "Tokenize this text");
    file->excludes(prompt);
    prompt->excludes(file);
    cmd->add_flag("--raw", args->raw,
                  "Exact bytes only: no BOS/EOS, special-token text is not parsed");
    cmd->add_flag("--pieces", args->pieces, "Print 'id<TAB>piece' per line");
    cmd->callback([args, file, prompt, &ctx] {
        if (file->count() == 0 && prompt->count() == 0) {
            ctx.exit_code = report_error(Status::error("tokenize: give --file F or -p TEXT"));
            return;
        }
        const Status status = run_tokenize(*args);
        ctx.exit_code = status.is_ok() ? 0 : report_error(status);
    });
}

}  // namespace rf::cli
