// HF folder -> GGUF conversion: names, shapes and values read back through our GGUF reader, the
// LLaMA Q/K permutation, expert stacking, type choice, tokenizer import and error messages.
#include "hf/converter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/half.h"
#include "gguf/gguf_file.h"
#include "hf/tokenizer_import.h"
#include "hf_test_util.h"
#include "quant/reference.h"

namespace rf::hf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using quant::GgmlType;
using testing::TempDir;
using testing::TensorSpec;

constexpr uint64_t kVocab = 64, kEmbd = 32, kHead = 4, kHeadKv = 2, kHeadDim = 8, kFf = 64;

json llama_config() {
    return {{"architectures", {"LlamaForCausalLM"}}, {"vocab_size", kVocab}, {"hidden_size", kEmbd},
            {"num_hidden_layers", 1}, {"num_attention_heads", kHead}, {"num_key_value_heads", kHeadKv},
            {"intermediate_size", kFf}, {"max_position_embeddings", 128}, {"rms_norm_eps", 1e-5},
            {"rope_theta", 500000.0}, {"hidden_act", "silu"}, {"bos_token_id", 1}, {"eos_token_id", 2}};
}

TensorSpec tensor(const std::string& name, std::vector<uint64_t> shape, uint32_t seed) {
    size_t n = 1;
    for (uint64_t d : shape) n *= d;
    return {name, std::move(shape), testing::random_values(n, seed)};
}

std::vector<TensorSpec> llama_tensors() {
    const std::string l = "model.layers.0.";
    return {tensor("model.embed_tokens.weight", {kVocab, kEmbd}, 1),
            tensor(l + "input_layernorm.weight", {kEmbd}, 2),
            tensor(l + "self_attn.q_proj.weight", {kHead * kHeadDim, kEmbd}, 3),
            tensor(l + "self_attn.k_proj.weight", {kHeadKv * kHeadDim, kEmbd}, 4),
            tensor(l + "self_attn.v_proj.weight", {kHeadKv * kHeadDim, kEmbd}, 5),
            tensor(l + "self_attn.o_proj.weight", {kEmbd, kHead * kHeadDim}, 6),
            tensor(l + "post_attention_layernorm.weight", {kEmbd}, 7),
            tensor(l + "mlp.gate_proj.weight", {kFf, kEmbd}, 8),
            tensor(l + "mlp.up_proj.weight", {kFf, kEmbd}, 9),
            tensor(l + "mlp.down_proj.weight", {kEmbd, kFf}, 10),
            tensor("model.norm.weight", {kEmbd}, 11),
            tensor("lm_head.weight", {kVocab, kEmbd}, 12)};
}

void write_folder(const TempDir& dir, const json& config, const std::vector<TensorSpec>& tensors) {
    testing::write_text(dir.path() / "config.json", config.dump());
    testing::write_file(dir.path() / "model.safetensors", testing::safetensors_bytes(tensors));
}

// Converts and parses the result in memory. `bytes` keeps the image alive for the GgufFile.
struct Converted {
    std::vector<uint8_t> bytes;
    std::optional<gguf::GgufFile> file;
    std::vector<std::string> warnings;
};

Result<std::unique_ptr<Converted>> convert(const std::string& dir, GgmlType type) {
    ConvertOptions options;
    options.type = type;
    RF_ASSIGN_OR_RETURN(HfConversion conv, HfConversion::prepare(dir, options));
    auto out = std::make_unique<Converted>();
    out->bytes = conv.writer().write_to_memory();
    out->warnings = conv.warnings();
    RF_ASSIGN_OR_RETURN(gguf::GgufFile file, gguf::GgufFile::parse(out->bytes));
    out->file.emplace(std::move(file));
    return out;
}

std::vector<float> floats_of(const gguf::TensorInfo& t) {
    std::vector<float> out(t.n_elements());
    quant::dequantize_row(t.type, t.data.data(), out.data(), static_cast<int64_t>(out.size()));
    return out;
}

const TensorSpec& spec(const std::vector<TensorSpec>& all, const std::string& name) {
    for (const TensorSpec& t : all) {
        if (t.name == name) return t;
    }
    throw std::runtime_error("no spec " + name);
}

std::vector<uint64_t> shape_of(const gguf::TensorInfo& t) { return {t.ne.begin(), t.ne.begin() + t.n_dims}; }

TEST(HfConvert, LlamaF32NamesShapesValuesAndPermutation) {
    TempDir dir("llama");
    const auto tensors = llama_tensors();
    write_folder(dir, llama_config(), tensors);
    auto c = convert(dir.path().string(), GgmlType::kF32);
    ASSERT_TRUE(c.is_ok()) << c.message();
    const gguf::GgufFile& f = *(*c)->file;
    EXPECT_EQ(f.architecture(), "llama");
    EXPECT_EQ(*f.get_uint("llama.embedding_length"), kEmbd);
    EXPECT_EQ(*f.get_uint("llama.attention.head_count_kv"), kHeadKv);
    EXPECT_EQ(*f.get_uint("llama.rope.dimension_count"), kHeadDim);
    EXPECT_EQ(*f.get_uint("llama.context_length"), 128u);
    EXPECT_FLOAT_EQ(static_cast<float>(*f.get_float("llama.rope.freq_base")), 500000.0f);
    EXPECT_NEAR(*f.get_float("llama.attention.layer_norm_rms_epsilon"), 1e-5, 1e-10);
    EXPECT_EQ(*f.get_uint("general.file_type"), 0u);
    EXPECT_EQ(f.tensors().size(), 12u);
    EXPECT_EQ(*f.get_string("tokenizer.ggml.model"), "gpt2");  // minimal vocabulary
    EXPECT_EQ(f.get_array("tokenizer.ggml.tokens").value()->items.size(), kVocab);

    const auto* embd = f.find_tensor("token_embd.weight");
    ASSERT_NE(embd, nullptr);
    EXPECT_EQ(shape_of(*embd), (std::vector<uint64_t>{kEmbd, kVocab}));
    EXPECT_EQ(floats_of(*embd), spec(tensors, "model.embed_tokens.weight").values);
    const auto* v = f.find_tensor("blk.0.attn_v.weight");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(floats_of(*v), spec(tensors, "model.layers.0.self_attn.v_proj.weight").values);
    EXPECT_EQ(shape_of(*f.find_tensor("blk.0.ffn_down.weight")), (std::vector<uint64_t>{kFf, kEmbd}));
    EXPECT_EQ(f.find_tensor("blk.0.attn_norm.weight")->type, GgmlType::kF32);

    // Q (4 heads) and K (2 heads): GGUF row h*d + 2j + i is HF row h*d + i*d/2 + j.
    for (auto [gguf_name, hf_name, heads] :
         {std::tuple{"blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight", kHead},
          std::tuple{"blk.0.attn_k.weight", "model.layers.0.self_attn.k_proj.weight", kHeadKv}}) {
        const std::vector<float> got = floats_of(*f.find_tensor(gguf_name));
        const std::vector<float>& src = spec(tensors, hf_name).values;
        for (uint64_t h = 0; h < heads; ++h) {
            for (uint64_t j = 0; j < kHeadDim / 2; ++j) {
                for (uint64_t i = 0; i < 2; ++i) {
                    const uint64_t out_row = h * kHeadDim + 2 * j + i;
                    const uint64_t in_row = h * kHeadDim + i * kHeadDim / 2 + j;
                    for (uint64_t col = 0; col < kEmbd; ++col) {
                        ASSERT_EQ(got[out_row * kEmbd + col], src[in_row * kEmbd + col]) << gguf_name;
                    }
                }
            }
        }
    }
}

TEST(HfConvert, HalfTypesAndQuantizedTypes) {
    TempDir dir("types");
    auto tensors = llama_tensors();
    tensors[0].dtype = "BF16";  // source dtypes other than F32 convert too
    write_folder(dir, llama_config(), tensors);
    const std::vector<float>& up = spec(tensors, "model.layers.0.mlp.up_proj.weight").values;

    auto f16 = convert(dir.path().string(), GgmlType::kF16);
    ASSERT_TRUE(f16.is_ok()) << f16.message();
    const auto* t = (*f16)->file->find_tensor("blk.0.ffn_up.weight");
    ASSERT_EQ(t->type, GgmlType::kF16);
    const std::vector<float> got = floats_of(*t);
    for (size_t i = 0; i < up.size(); ++i) ASSERT_EQ(got[i], fp16_to_float(float_to_fp16(up[i])));
    EXPECT_EQ((*f16)->file->find_tensor("output_norm.weight")->type, GgmlType::kF32);
    const std::vector<float> embd = floats_of(*(*f16)->file->find_tensor("token_embd.weight"));
    EXPECT_EQ(embd[5], fp16_to_float(float_to_fp16(bf16_to_float(float_to_bf16(tensors[0].values[5])))));

    auto bf16 = convert(dir.path().string(), GgmlType::kBF16);
    ASSERT_TRUE(bf16.is_ok()) << bf16.message();
    EXPECT_EQ((*bf16)->file->find_tensor("blk.0.ffn_up.weight")->type, GgmlType::kBF16);
    EXPECT_EQ(*(*bf16)->file->get_uint("general.file_type"), 32u);

    auto q8 = convert(dir.path().string(), GgmlType::kQ8_0);
    ASSERT_TRUE(q8.is_ok()) << q8.message();
    EXPECT_EQ(*(*q8)->file->get_uint("general.file_type"), 7u);
    const auto* q = (*q8)->file->find_tensor("blk.0.ffn_up.weight");
    ASSERT_EQ(q->type, GgmlType::kQ8_0);
    const std::vector<float> deq = floats_of(*q);
    for (size_t i = 0; i < up.size(); ++i) ASSERT_NEAR(deq[i], up[i], 1.0f / 127.0f) << i;
    EXPECT_EQ((*q8)->file->find_tensor("blk.0.attn_norm.weight")->type, GgmlType::kF32);

    // Q4_K blocks are 256 wide: 32-wide rows fall back to f16, with a warning.
    if (quant::can_quantize(GgmlType::kQ4_K)) {
        auto q4k = convert(dir.path().string(), GgmlType::kQ4_K);
        ASSERT_TRUE(q4k.is_ok()) << q4k.message();
        EXPECT_EQ((*q4k)->file->find_tensor("blk.0.ffn_up.weight")->type, GgmlType::kF16);
        ASSERT_FALSE((*q4k)->warnings.empty());
    }
}

std::string convert_error(const json& config, const std::vector<TensorSpec>& tensors) {
    TempDir dir("err");
    write_folder(dir, config, tensors);
    auto c = convert(dir.path().string(), GgmlType::kF32);
    return c.is_ok() ? "" : c.message();
}

TEST(HfConvert, ErrorsNameTheProblem) {
    auto tensors = llama_tensors();
    auto missing = tensors;
    missing.erase(missing.begin() + 8);  // up_proj
    EXPECT_NE(convert_error(llama_config(), missing).find("missing tensor 'model.layers.0.mlp.up_proj.weight'"),
              std::string::npos);
    auto misshapen = tensors;
    misshapen[9].shape = {kFf, kEmbd};  // down_proj transposed
    EXPECT_NE(convert_error(llama_config(), misshapen).find("down_proj.weight' has shape [64, 32]"), std::string::npos);
    auto extra = tensors;
    extra.push_back(tensor("model.layers.0.self_attn.extra.weight", {2}, 1));
    EXPECT_NE(convert_error(llama_config(), extra).find("unexpected tensor 'model.layers.0.self_attn.extra.weight'"),
              std::string::npos);
    auto ints = tensors;
    ints[1].dtype = "I32";
    EXPECT_NE(convert_error(llama_config(), ints).find("dtype I32"), std::string::npos);
    auto no_head = tensors;
    no_head.pop_back();
    EXPECT_NE(convert_error(llama_config(), no_head).find("lm_head.weight"), std::string::npos);

    json config = llama_config();
    config["architectures"] = {"GPT2LMHeadModel"};
    EXPECT_NE(convert_error(config, tensors).find("'GPT2LMHeadModel' is not supported"), std::string::npos);
    config = llama_config();
    config["num_key_value_heads"] = 3;
    EXPECT_NE(convert_error(config, tensors).find("does not divide"), std::string::npos);
    config = llama_config();
    config["rope_scaling"] = {{"rope_type", "longrope"}, {"factor", 2.0}};
    EXPECT_NE(convert_error(config, tensors).find("'longrope' is not supported"), std::string::npos);
    config = llama_config();
    config.erase("hidden_size");
    EXPECT_NE(convert_error(config, tensors).find("missing 'hidden_size'"), std::string::npos);
    TempDir empty("noconfig");
    EXPECT_FALSE(HfConversion::prepare(empty.path().string(), {}).is_ok());
}

TEST(HfConvert, TiedEmbeddingsAndRopeScalingKeys) {
    TempDir dir("tied");
    json config = llama_config();
    config["tie_word_embeddings"] = true;
    config["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 32}};
    auto tensors = llama_tensors();
    tensors.pop_back();
    write_folder(dir, config, tensors);
    auto c = convert(dir.path().string(), GgmlType::kF32);
    ASSERT_TRUE(c.is_ok()) << c.message();
    const gguf::GgufFile& f = *(*c)->file;
    EXPECT_EQ(f.find_tensor("output.weight"), nullptr);
    EXPECT_EQ(*f.get_string("llama.rope.scaling.type"), "yarn");
    EXPECT_FLOAT_EQ(static_cast<float>(*f.get_float("llama.rope.scaling.factor")), 4.0f);
    EXPECT_EQ(*f.get_uint("llama.rope.scaling.original_context_length"), 32u);
}

// Mixture of experts in both checkpoint layouts: one matrix per expert, and fused 3-D tensors.
TEST(HfConvert, ExpertsAreStackedFromEitherLayout) {
    constexpr uint64_t kExperts = 3, kExpFf = 16;
    json config = llama_config();
    config["architectures"] = {"Qwen3MoeForCausalLM"};
    config["num_experts"] = kExperts;
    config["num_experts_per_tok"] = 2;
    config["moe_intermediate_size"] = kExpFf;
    config["norm_topk_prob"] = true;
    std::vector<TensorSpec> base = llama_tensors();
    base.erase(base.begin() + 7, base.begin() + 10);  // dense MLP
    base.push_back(tensor("model.layers.0.self_attn.q_norm.weight", {kHeadDim}, 20));
    base.push_back(tensor("model.layers.0.self_attn.k_norm.weight", {kHeadDim}, 21));
    base.push_back(tensor("model.layers.0.mlp.gate.weight", {kExperts, kEmbd}, 22));

    auto per_expert = base;
    for (uint64_t e = 0; e < kExperts; ++e) {
        const std::string p = "model.layers.0.mlp.experts." + std::to_string(e) + ".";
        per_expert.push_back(tensor(p + "gate_proj.weight", {kExpFf, kEmbd}, static_cast<uint32_t>(30 + e)));
        per_expert.push_back(tensor(p + "up_proj.weight", {kExpFf, kEmbd}, static_cast<uint32_t>(40 + e)));
        per_expert.push_back(tensor(p + "down_proj.weight", {kEmbd, kExpFf}, static_cast<uint32_t>(50 + e)));
    }
    // The same weights fused: gate_up [E, 2*I, H] (gate rows first), down [E, H, I].
    auto fused = base;
    TensorSpec gate_up{"model.layers.0.mlp.experts.gate_up_proj", {kExperts, 2 * kExpFf, kEmbd}, {}};
    TensorSpec down{"model.layers.0.mlp.experts.down_proj", {kExperts, kEmbd, kExpFf}, {}};
    for (uint64_t e = 0; e < kExperts; ++e) {
        const std::string p = "model.layers.0.mlp.experts." + std::to_string(e) + ".";
        for (const char* part : {"gate_proj.weight", "up_proj.weight"}) {
            const auto& v = spec(per_expert, p + part).values;
            gate_up.values.insert(gate_up.values.end(), v.begin(), v.end());
        }
        const auto& d = spec(per_expert, p + "down_proj.weight").values;
        down.values.insert(down.values.end(), d.begin(), d.end());
    }
    fused.push_back(gate_up);
    fused.push_back(down);

    std::vector<std::vector<float>> first;
    for (const auto* layout : {&per_expert, &fused}) {
        TempDir dir("moe");
        write_folder(dir, config, *layout);
        auto c = convert(dir.path().string(), GgmlType::kF32);
        ASSERT_TRUE(c.is_ok()) << c.message();
        const gguf::GgufFile& f = *(*c)->file;
        EXPECT_EQ(f.architecture(), "qwen3moe");
        EXPECT_EQ(*f.get_uint("qwen3moe.expert_count"), kExperts);
        EXPECT_EQ(*f.get_uint("qwen3moe.expert_feed_forward_length"), kExpFf);
        EXPECT_TRUE(*f.get_bool("qwen3moe.expert_weights_norm"));
        EXPECT_EQ(f.find_tensor("blk.0.ffn_gate_inp.weight")->type, GgmlType::kF32);
        EXPECT_NE(f.find_tensor("blk.0.attn_k_norm.weight"), nullptr);
        const auto* gate = f.find_tensor("blk.0.ffn_gate_exps.weight");
        ASSERT_NE(gate, nullptr);
        EXPECT_EQ(shape_of(*gate), (std::vector<uint64_t>{kEmbd, kExpFf, kExperts}));
        EXPECT_EQ(shape_of(*f.find_tensor("blk.0.ffn_down_exps.weight")), (std::vector<uint64_t>{kExpFf, kEmbd, kExperts}));
        // Expert 2's up rows sit at [2 * I, 3 * I) of ffn_up_exps. Qwen: Q/K not permuted.
        const std::vector<float> up = floats_of(*f.find_tensor("blk.0.ffn_up_exps.weight"));
        const auto& src = spec(per_expert, "model.layers.0.mlp.experts.2.up_proj.weight").values;
        EXPECT_TRUE(std::equal(src.begin(), src.end(), up.begin() + 2 * kExpFf * kEmbd));
        EXPECT_EQ(floats_of(*f.find_tensor("blk.0.attn_q.weight")), spec(base, "model.layers.0.self_attn.q_proj.weight").values);
        first.push_back(floats_of(*f.find_tensor("blk.0.ffn_down_exps.weight")));
    }
    EXPECT_EQ(first[0], first[1]);
}

// A byte-level BPE tokenizer.json in the Llama-3 style plus tokenizer_config.json.
TEST(HfConvert, ImportsByteLevelBpeTokenizer) {
    TempDir dir("tok");
    write_folder(dir, llama_config(), llama_tensors());
    json vocab = json::object();
    for (int i = 0; i < 40; ++i) vocab[std::string(1, static_cast<char>('A' + (i % 26))) + (i >= 26 ? "x" : "")] = i;
    const std::string split = R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    json tok = {
        {"added_tokens", {{{"id", 60}, {"content", "<|begin|>"}, {"special", true}},
                          {{"id", 61}, {"content", "<|end|>"}, {"special", true}},
                          {{"id", 62}, {"content", "<tool>"}, {"special", false}}}},
        {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Split"}, {"pattern", {{"Regex", split}}}},
                                                                     {{"type", "ByteLevel"}, {"use_regex", false}}}}}},
        {"post_processor", {{"type", "TemplateProcessing"},
                            {"single", {{{"SpecialToken", {{"id", "<|begin|>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}}}}}}}},
        {"decoder", {{"type", "ByteLevel"}}},
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array({json::array({"A", "x"}), json::array({"B", "x"})})}}}};
    testing::write_text(dir.path() / "tokenizer.json", tok.dump());
    testing::write_text(dir.path() / "tokenizer_config.json",
                        json({{"bos_token", "<|begin|>"}, {"eos_token", {{"content", "<|end|>"}}},
                              {"chat_template", {{{"name", "tool_use"}, {"template", "T"}}, {{"name", "default"}, {"template", "D"}}}}})
                            .dump());
    auto c = convert(dir.path().string(), GgmlType::kF32);
    ASSERT_TRUE(c.is_ok()) << c.message();
    const gguf::GgufFile& f = *(*c)->file;
    EXPECT_EQ(*f.get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(*f.get_string("tokenizer.ggml.pre"), "llama-bpe");
    const auto& tokens = f.get_array("tokenizer.ggml.tokens").value()->items;
    ASSERT_EQ(tokens.size(), kVocab);
    EXPECT_EQ(tokens[26].as_string(), "Ax");
    EXPECT_EQ(tokens[45].as_string(), "[PAD45]");
    EXPECT_EQ(tokens[61].as_string(), "<|end|>");
    const auto& types = f.get_array("tokenizer.ggml.token_type").value()->items;
    EXPECT_EQ(types[0].as_i64(), 1);
    EXPECT_EQ(types[45].as_i64(), 5);
    EXPECT_EQ(types[60].as_i64(), 3);
    EXPECT_EQ(types[62].as_i64(), 4);
    const auto& merges = f.get_array("tokenizer.ggml.merges").value()->items;
    ASSERT_EQ(merges.size(), 2u);
    EXPECT_EQ(merges[1].as_string(), "B x");
    EXPECT_EQ(*f.get_uint("tokenizer.ggml.bos_token_id"), 60u);
    EXPECT_EQ(*f.get_uint("tokenizer.ggml.eos_token_id"), 61u);
    EXPECT_TRUE(*f.get_bool("tokenizer.ggml.add_bos_token"));
    EXPECT_EQ(*f.get_string("tokenizer.chat_template"), "D");
}

TEST(HfConvert, PreTokenizerDetection) {
    EXPECT_EQ(detect_pre_tokenizer(R"({"type": "ByteLevel", "use_regex": true})"), "gpt-2");
    EXPECT_EQ(detect_pre_tokenizer(R"({"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex":
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
        {"type": "ByteLevel", "use_regex": false}]})"), "qwen2");
    EXPECT_EQ(detect_pre_tokenizer(R"({"type": "Split", "pattern": {"Regex": "\\w+"}})"), "default");
    EXPECT_EQ(detect_pre_tokenizer("null"), "default");
}

// Every committed transformers fixture converts; spot checks of what each architecture adds.
TEST(HfConvert, TransformersFixturesConvert) {
    const fs::path root = fs::path(RF_FIXTURES_DIR) / "hf";
    struct Case {
        const char* name;
        const char* arch;
        size_t n_tensors;
    };
    // llama-like: embd + 9 per layer * 2 + norm + output; qwen2 adds 3 biases/layer, ties output;
    // qwen3 adds q/k norms; MoE: router + 3 stacked tensors instead of 3 dense ones.
    const Case cases[] = {{"llama", "llama", 21},    {"llama3_rope", "llama", 22}, {"mistral", "llama", 21},
                          {"qwen2", "qwen2", 26},    {"qwen3", "qwen3", 25},       {"qwen3moe", "qwen3moe", 27},
                          {"mixtral", "llama", 23}};
    for (const Case& k : cases) {
        SCOPED_TRACE(k.name);
        auto c = convert((root / k.name).string(), GgmlType::kF32);
        ASSERT_TRUE(c.is_ok()) << c.message();
        const gguf::GgufFile& f = *(*c)->file;
        EXPECT_EQ(f.architecture(), k.arch);
        EXPECT_EQ(f.tensors().size(), k.n_tensors);
    }
    // LLaMA-3 scaling: HF's scaled inverse frequencies are the base ones divided by rope_freqs.
    auto c = convert((root / "llama3_rope").string(), GgmlType::kF32);
    ASSERT_TRUE(c.is_ok());
    const std::vector<float> factors = floats_of(*(*c)->file->find_tensor("rope_freqs.weight"));
    std::ifstream in(root / "llama3_rope" / "fixture.json");
    const json fixture = json::parse(in);
    const auto hf_inv_freq = fixture["rope_inv_freq"].get<std::vector<double>>();
    ASSERT_EQ(factors.size(), hf_inv_freq.size());
    for (size_t i = 0; i < factors.size(); ++i) {
        const double base = std::pow(10000.0, -2.0 * static_cast<double>(i) / (2.0 * static_cast<double>(factors.size())));
        EXPECT_NEAR(base / static_cast<double>(factors[i]), hf_inv_freq[i], 1e-6 * base) << i;
    }
}

}  // namespace
}  // namespace rf::hf
