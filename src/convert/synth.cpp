// `rocmforge synth`: the tensor list and metadata of a LLaMA-family model as llama.cpp's llama
// and qwen2 architectures load them, with seeded random weights produced tensor by tensor.
#include "convert/synth.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "convert/quant_plan.h"
#include "convert/tensor_codec.h"
#include "core/log.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf/keys.h"

namespace rf::convert {
namespace {

// clang-format off
constexpr SynthShape kShapes[] = {
    // name, arch, n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx, rope freq base,
    // rms eps, qkv bias, tied embeddings
    {"tiny",           "llama", 256,  2,  4,  2,  512,   32000,  512,   1e4f,   1e-5f, false, false},
    {"tinyllama-1.1b", "llama", 2048, 22, 32, 4,  5632,  32000,  2048,  1e4f,   1e-5f, false, false},
    {"llama2-7b",      "llama", 4096, 32, 32, 32, 11008, 32000,  4096,  1e4f,   1e-5f, false, false},
    {"llama3-8b",      "llama", 4096, 32, 32, 8,  14336, 128256, 8192,  5e5f,   1e-5f, false, false},
    {"qwen2-0.5b",     "qwen2", 896,  24, 14, 2,  4864,  151936, 32768, 1e6f,   1e-6f, true,  true},
    // Small qwen2 for tests: QKV biases, tied embeddings, n_embd 320 (not a multiple of 256).
    {"tiny-qwen2",     "qwen2", 320,  2,  5,  1,  512,   151936, 512,   1e6f,   1e-6f, true,  true},
};
// clang-format on

// xoshiro256+ seeded through splitmix64: fast, and good enough for random weights.
class Rng {
  public:
    explicit Rng(uint64_t seed) {
        for (uint64_t& s : s_) {
            seed += 0x9e3779b97f4a7c15ull;
            uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            s = z ^ (z >> 31);
        }
    }
    uint64_t next() {
        const uint64_t result = s_[0] + s_[3];
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = (s_[3] << 45) | (s_[3] >> 19);
        return result;
    }
    // Approximately standard normal: the sum of four 16-bit uniforms (Irwin-Hall), centred and
    // scaled to unit variance; tails end at +-3.46 sigma, which random weights do not miss.
    float normal() {
        const uint64_t r = next();
        const auto sum = static_cast<float>((r & 0xffff) + ((r >> 16) & 0xffff) +
                                            ((r >> 32) & 0xffff) + (r >> 48));
        constexpr float kMean = 2.0f * 65535.0f;
        constexpr float kScale = 1.7320508f / 65536.0f;  // sqrt(12 / 4) / 2^16
        return (sum - kMean) * kScale;
    }

  private:
    uint64_t s_[4];
};

enum class Init { kOnes, kNormal };

// One tensor to generate: ne[0] fastest; values N(0, sigma) or all ones.
struct TensorSpec {
    std::string name;
    std::vector<uint64_t> ne;
    Init init = Init::kNormal;
    float sigma = 0.0f;
};

// The llama / qwen2 tensor list in llama.cpp's names and GGUF shapes.
std::vector<TensorSpec> tensor_specs(const SynthShape& s) {
    const auto embd = static_cast<uint64_t>(s.n_embd);
    const uint64_t head_dim = embd / static_cast<uint64_t>(s.n_head);
    const uint64_t q_dim = head_dim * static_cast<uint64_t>(s.n_head);
    const uint64_t kv_dim = head_dim * static_cast<uint64_t>(s.n_head_kv);
    const auto ff = static_cast<uint64_t>(s.n_ff);
    // GPT-2 style: the projections that add into the residual stream are scaled down with
    // depth, so the residual norm stays O(1) through all layers.
    constexpr float kSigma = 0.02f;
    const float residual_sigma = kSigma / std::sqrt(2.0f * static_cast<float>(s.n_layer));
    std::vector<TensorSpec> specs;
    const auto vocab = static_cast<uint64_t>(s.n_vocab);
    specs.push_back({"token_embd.weight", {embd, vocab}, Init::kNormal, kSigma});
    for (int il = 0; il < s.n_layer; ++il) {
        const std::string p = "blk." + std::to_string(il) + ".";
        specs.push_back({p + "attn_norm.weight", {embd}, Init::kOnes, 0.0f});
        specs.push_back({p + "attn_q.weight", {embd, q_dim}, Init::kNormal, kSigma});
        if (s.qkv_bias) specs.push_back({p + "attn_q.bias", {q_dim}, Init::kNormal, kSigma});
        specs.push_back({p + "attn_k.weight", {embd, kv_dim}, Init::kNormal, kSigma});
        if (s.qkv_bias) specs.push_back({p + "attn_k.bias", {kv_dim}, Init::kNormal, kSigma});
        specs.push_back({p + "attn_v.weight", {embd, kv_dim}, Init::kNormal, kSigma});
        if (s.qkv_bias) specs.push_back({p + "attn_v.bias", {kv_dim}, Init::kNormal, kSigma});
        specs.push_back({p + "attn_output.weight", {q_dim, embd}, Init::kNormal, residual_sigma});
        specs.push_back({p + "ffn_norm.weight", {embd}, Init::kOnes, 0.0f});
        specs.push_back({p + "ffn_gate.weight", {embd, ff}, Init::kNormal, kSigma});
        specs.push_back({p + "ffn_up.weight", {embd, ff}, Init::kNormal, kSigma});
        specs.push_back({p + "ffn_down.weight", {ff, embd}, Init::kNormal, residual_sigma});
    }
    specs.push_back({"output_norm.weight", {embd}, Init::kOnes, 0.0f});
    if (!s.tied_embeddings) {
        specs.push_back({"output.weight", {embd, vocab}, Init::kNormal, kSigma});
    }
    return specs;
}

// Hyper-parameters under the architecture's keys, as llama.cpp reads them.
void set_hparams(const SynthShape& s, const std::string& shape_name, gguf::FileType ftype,
                 gguf::GgufWriter& w) {
    namespace k = gguf::keys;
    using gguf::Value;
    const std::string a(s.arch);
    w.set(std::string(k::kGeneralArchitecture), Value::string(a));
    w.set(std::string(k::kGeneralType), Value::string("model"));
    w.set(std::string(k::kGeneralName), Value::string(shape_name + " (random weights)"));
    w.set(std::string(k::kGeneralFileType), Value::u32(static_cast<uint32_t>(ftype)));
    w.set(std::string(k::kGeneralQuantizationVersion), Value::u32(2));
    const auto u32 = [](int v) { return Value::u32(static_cast<uint32_t>(v)); };
    w.set(k::arch_key(a, k::kVocabSize), u32(s.n_vocab));
    w.set(k::arch_key(a, k::kContextLength), u32(s.n_ctx));
    w.set(k::arch_key(a, k::kEmbeddingLength), u32(s.n_embd));
    w.set(k::arch_key(a, k::kBlockCount), u32(s.n_layer));
    w.set(k::arch_key(a, k::kFeedForwardLength), u32(s.n_ff));
    w.set(k::arch_key(a, k::kAttentionHeadCount), u32(s.n_head));
    w.set(k::arch_key(a, k::kAttentionHeadCountKv), u32(s.n_head_kv));
    w.set(k::arch_key(a, k::kAttentionLayerNormRmsEpsilon), Value::f32(s.rms_eps));
    w.set(k::arch_key(a, k::kRopeFreqBase), Value::f32(s.rope_freq_base));
    w.set(k::arch_key(a, k::kRopeDimensionCount), u32(s.n_embd / s.n_head));
}

// Copies every tokenizer.* key of the vocabulary file; returns its token count.
Result<int> copy_vocabulary(const std::string& vocab_path, gguf::GgufWriter& w) {
    RF_ASSIGN_OR_RETURN(gguf::GgufFile vocab, gguf::GgufFile::open(vocab_path));
    RF_ASSIGN_OR_RETURN(const gguf::Array* tokens, vocab.get_array(gguf::keys::kTokenizerTokens));
    if (tokens->items.empty() || tokens->items.size() > (size_t{1} << 24)) {
        return error("{}: tokenizer.ggml.tokens holds {} tokens", vocab_path, tokens->items.size());
    }
    for (const auto& [key, value] : vocab.metadata()) {
        if (key.starts_with(gguf::keys::kTokenizerPrefix)) w.set(key, value);
    }
    return static_cast<int>(tokens->items.size());
}

// Fills `out` (the tensor in `type`) with the spec's values, one generated float row at a time.
// Random weights gain nothing from the searching quantizers, so rows are rounded to nearest.
void produce(const TensorSpec& spec, quant::GgmlType type, uint64_t seed, std::span<uint8_t> out) {
    const auto n_cols = static_cast<int64_t>(spec.ne[0]);
    int64_t n_rows = 1;
    for (size_t d = 1; d < spec.ne.size(); ++d) n_rows *= static_cast<int64_t>(spec.ne[d]);
    const size_t row_bytes = quant::row_bytes(type, static_cast<size_t>(n_cols));
    std::vector<float> row(static_cast<size_t>(n_cols), 1.0f);
    Rng rng(seed);
    for (int64_t r = 0; r < n_rows; ++r) {
        if (spec.init == Init::kNormal) {
            for (float& x : row) x = spec.sigma * rng.normal();
        }
        encode_row(row.data(), type, out.data() + static_cast<size_t>(r) * row_bytes, n_cols,
                   Encoding::kFast);
    }
}

uint64_t tensor_seed(uint64_t seed, size_t index) {
    return seed * 0x2545f4914f6cdd1dull + (index + 1) * 0x9e3779b97f4a7c15ull;
}

// Adds every tensor of `shape` lazily, typed by the preset.
Status add_tensors(const SynthShape& shape, const QuantPlan& plan, uint64_t seed,
                   gguf::GgufWriter& w, ConvertReport& report) {
    auto specs = std::make_shared<const std::vector<TensorSpec>>(tensor_specs(shape));
    for (size_t i = 0; i < specs->size(); ++i) {
        const TensorSpec& spec = (*specs)[i];
        std::array<uint64_t, 4> ne = {1, 1, 1, 1};
        std::copy(spec.ne.begin(), spec.ne.end(), ne.begin());
        const auto n_dims = static_cast<uint32_t>(spec.ne.size());
        const TensorChoice choice = plan.choose(spec.name, ne, n_dims, quant::GgmlType::kF32);
        if (!choice.note.empty()) {
            log::info("{}: {}", spec.name, choice.note);
            ++report.n_fallbacks;
        }
        const quant::GgmlType type = choice.type;
        const uint64_t tensor_seed_value = tensor_seed(seed, i);
        RF_RETURN_IF_ERROR(w.add_tensor_lazy(
            spec.name, type, spec.ne, [specs, i, type, tensor_seed_value](std::span<uint8_t> out) {
                produce((*specs)[i], type, tensor_seed_value, out);
            }));
        report.n_params += ne[0] * ne[1] * ne[2] * ne[3];
        ++report.type_counts[std::string(quant::traits(type).name)];
    }
    return Status::ok();
}

std::string shape_names() {
    std::string names;
    for (const SynthShape& s : kShapes) {
        if (!names.empty()) names += ", ";
        names += s.name;
    }
    return names;
}

}  // namespace

std::span<const SynthShape> synth_shapes() {
    return kShapes;
}

const SynthShape* find_synth_shape(std::string_view name) {
    for (const SynthShape& s : kShapes) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

Result<ConvertReport> synth_model(const SynthOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    const SynthShape* found = find_synth_shape(options.shape);
    if (found == nullptr) {
        return error("unknown shape '{}' (known: {})", options.shape, shape_names());
    }
    SynthShape shape = *found;
    gguf::GgufWriter w;
    set_hparams(shape, options.shape, options.ftype, w);
    RF_ASSIGN_OR_RETURN(const int n_vocab, copy_vocabulary(options.vocab_path, w));
    if (n_vocab != shape.n_vocab) {
        log::info("synth: {} has {} tokens; using n_vocab = {} instead of {}'s {}",
                  options.vocab_path, n_vocab, n_vocab, shape.name, shape.n_vocab);
        shape.n_vocab = n_vocab;
        w.set(gguf::keys::arch_key(shape.arch, gguf::keys::kVocabSize),
              gguf::Value::u32(static_cast<uint32_t>(n_vocab)));
    }
    const ModelFacts facts{std::string(shape.arch), shape.n_layer, shape.n_head, shape.n_head_kv, 0,
                           shape.tied_embeddings};
    RF_ASSIGN_OR_RETURN(QuantPlan plan, QuantPlan::make(options.ftype, false, facts));
    ConvertReport report;
    RF_RETURN_IF_ERROR(add_tensors(shape, plan, options.seed, w, report));
    RF_RETURN_IF_ERROR(w.write_file(options.out_path, resolve_threads(options.n_threads)));
    report.out_bytes = w.tensor_data_bytes();
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return report;
}

}  // namespace rf::convert
