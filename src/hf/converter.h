// `rocmforge convert`: a Hugging Face folder (config.json, *.safetensors, tokenizer files) ->
// a GGUF file written by our writer, with llama.cpp's tensor names and metadata keys.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "gguf/gguf_writer.h"
#include "hf/hf_config.h"
#include "hf/safetensors.h"
#include "quant/types.h"

namespace rf::hf {

struct ConvertOptions {
    quant::GgmlType type = quant::GgmlType::kF16;  // matrices; vectors and routers stay F32
    std::string name;                               // general.name; default: the folder's name
};

// Types `convert` accepts: f32, f16, bf16 and the block types with a matching llama.cpp file type.
bool is_convert_type(quant::GgmlType type);

// The prepared conversion: metadata set, tensors registered lazily (they are converted while the
// file is written). Keeps the checkpoint mapped for as long as it lives.
class HfConversion {
public:
    static Result<HfConversion> prepare(const std::string& dir, const ConvertOptions& options);

    const HfConfig& config() const { return config_; }
    const gguf::GgufWriter& writer() const { return writer_; }
    const std::vector<std::string>& warnings() const { return warnings_; }
    const std::string& tokenizer_summary() const { return tokenizer_summary_; }
    size_t n_tensors() const { return writer_.n_tensors(); }

    Status write(const std::string& out_path, int n_threads) const { return writer_.write_file(out_path, n_threads); }

private:
    HfConversion() = default;

    std::shared_ptr<const SafetensorsModel> model_;
    HfConfig config_;
    gguf::GgufWriter writer_;
    std::vector<std::string> warnings_;
    std::string tokenizer_summary_;
};

}  // namespace rf::hf
