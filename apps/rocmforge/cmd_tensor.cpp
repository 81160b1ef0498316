// `rocmforge tensor MODEL NAME --out FILE`: one tensor dequantized to little-endian float32,
// row-major with ne[0] fastest, streamed in row chunks so large tensors need little memory.
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "core/log.h"
#include "gguf/gguf_file.h"
#include "quant/reference.h"

namespace rf::cli {
namespace {

static_assert(std::endian::native == std::endian::little,
              "float output assumes a little-endian host");

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

// Levenshtein distance, for suggesting names close to a mistyped one.
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            const size_t substitute = diagonal + (a[i - 1] != b[j - 1] ? 1 : 0);
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
            diagonal = up;
        }
    }
    return row[b.size()];
}

Status unknown_tensor(const gguf::GgufFile& file, const std::string& name) {
    std::vector<std::pair<size_t, const std::string*>> ranked;
    for (const gguf::TensorInfo& t : file.tensors()) {
        const bool contains = t.name.find(name) != std::string::npos;
        ranked.emplace_back(contains ? 0 : edit_distance(name, t.name), &t.name);
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first < b.first : *a.second < *b.second;
    });
    std::string close;
    for (size_t i = 0; i < ranked.size() && i < 5; ++i) {
        close += (i == 0 ? "" : ", ") + *ranked[i].second;
    }
    if (close.empty()) return error("no tensor named '{}' (the file has no tensors)", name);
    return error("no tensor named '{}'; close names: {}", name, close);
}

// Dequantizes `t` row by row into `path`.
Status write_tensor(const gguf::TensorInfo& t, const std::string& path) {
    std::unique_ptr<std::FILE, FileCloser> out(std::fopen(path.c_str(), "wb"));
    if (!out) return error("cannot create '{}': {}", path, std::strerror(errno));
    const int64_t n_cols = static_cast<int64_t>(t.ne[0]);
    const size_t row_bytes = quant::row_bytes(t.type, static_cast<size_t>(n_cols));
    // About 4 MiB of floats per chunk, at least one row.
    const uint64_t rows_per_chunk =
        std::max<uint64_t>(1, (uint64_t{1} << 20) / static_cast<uint64_t>(n_cols));
    std::vector<float> buffer(static_cast<size_t>(rows_per_chunk * static_cast<uint64_t>(n_cols)));
    for (uint64_t r0 = 0; r0 < t.n_rows(); r0 += rows_per_chunk) {
        const uint64_t n = std::min(rows_per_chunk, t.n_rows() - r0);
        for (uint64_t r = 0; r < n; ++r) {
            quant::dequantize_row(t.type, t.data.data() + (r0 + r) * row_bytes,
                                  buffer.data() + r * static_cast<uint64_t>(n_cols), n_cols);
        }
        const size_t count = static_cast<size_t>(n * static_cast<uint64_t>(n_cols));
        if (std::fwrite(buffer.data(), sizeof(float), count, out.get()) != count) {
            return error("cannot write '{}': {}", path, std::strerror(errno));
        }
    }
    if (std::fclose(out.release()) != 0) {
        return error("cannot write '{}': {}", path, std::strerror(errno));
    }
    return Status::ok();
}

Status run_tensor(const std::string& model, const std::string& name, const std::string& out_path) {
    RF_ASSIGN_OR_RETURN(gguf::GgufFile file, gguf::GgufFile::open(model));
    const gguf::TensorInfo* t = file.find_tensor(name);
    if (t == nullptr) return unknown_tensor(file, name);
    RF_RETURN_IF_ERROR(write_tensor(*t, out_path));
    log::info("wrote {} {} as {} float32 values ({} bytes) to {}", name, t->shape_string(),
              t->n_elements(), t->n_elements() * sizeof(float), out_path);
    return Status::ok();
}

}  // namespace

void register_tensor(CLI::App& root, CommandContext& ctx) {
    struct Options {
        std::string model;
        std::string name;
        std::string out;
    };
    auto opts = std::make_shared<Options>();
    auto* cmd = root.add_subcommand("tensor", "Dequantize one tensor to a raw float32 file");
    cmd->add_option("MODEL", opts->model, "GGUF file")->required();
    cmd->add_option("NAME", opts->name, "Tensor name, e.g. blk.0.attn_q.weight")->required();
    cmd->add_option("--out,-o", opts->out, "Output file (little-endian float32, ne[0] fastest)")
        ->required();
    cmd->callback([opts, &ctx] {
        const Status s = run_tensor(opts->model, opts->name, opts->out);
        ctx.exit_code = s.is_ok() ? 0 : report_error(s);
    });
}

}  // namespace rf::cli
