// synth: llama.cpp tensor names, shapes, types and metadata; vocabulary copy; weight scale;
// determinism across thread counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "convert/synth.h"
#include "gguf/gguf_file.h"
#include "gguf/keys.h"
#include "quant/reference.h"
#include "test_vocab.h"

namespace rf::convert {
namespace {

using quant::GgmlType;
using testing::temp_path;

Result<ConvertReport> synth(const std::string& shape, gguf::FileType ftype, const std::string& out,
                            uint64_t seed = 1, int threads = 2) {
    const std::string vocab = temp_path("vocab.gguf");
    testing::write_test_vocab(vocab);
    SynthOptions o;
    o.shape = shape;
    o.ftype = ftype;
    o.vocab_path = vocab;
    o.out_path = out;
    o.seed = seed;
    o.n_threads = threads;
    return synth_model(o);
}

std::vector<float> dequantized(const gguf::TensorInfo& t) {
    std::vector<float> out(t.n_elements());
    quant::dequantize_row(t.type, t.data.data(), out.data(), static_cast<int64_t>(out.size()));
    return out;
}

double stddev(const std::vector<float>& v) {
    double sum = 0, sum2 = 0;
    for (float f : v) {
        const auto x = static_cast<double>(f);
        sum += x;
        sum2 += x * x;
    }
    const double mean = sum / static_cast<double>(v.size());
    return std::sqrt(sum2 / static_cast<double>(v.size()) - mean * mean);
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string out;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        out.append(buffer, static_cast<size_t>(in.gcount()));
    }
    return out;
}

TEST(Synth, TinyLlamaLayoutAndMetadata) {
    const std::string out = temp_path("tiny_q4km.gguf");
    Result<ConvertReport> r = synth("tiny", gguf::FileType::kMostlyQ4_K_M, out);
    ASSERT_TRUE(r.is_ok()) << r.message();
    Result<gguf::GgufFile> f = gguf::GgufFile::open(out);
    ASSERT_TRUE(f.is_ok()) << f.message();
    EXPECT_EQ(f->architecture(), "llama");
    EXPECT_EQ(f->get_uint("general.file_type").value(), 15u);
    EXPECT_EQ(f->get_uint("general.quantization_version").value(), 2u);
    EXPECT_EQ(f->get_uint("llama.block_count").value(), 2u);
    EXPECT_EQ(f->get_uint("llama.embedding_length").value(), 256u);
    EXPECT_EQ(f->get_uint("llama.feed_forward_length").value(), 512u);
    EXPECT_EQ(f->get_uint("llama.attention.head_count").value(), 4u);
    EXPECT_EQ(f->get_uint("llama.attention.head_count_kv").value(), 2u);
    EXPECT_EQ(f->get_uint("llama.rope.dimension_count").value(), 64u);
    EXPECT_EQ(f->get_uint("llama.context_length").value(), 512u);
    EXPECT_NEAR(f->get_float("llama.rope.freq_base").value(), 10000.0, 1e-3);
    EXPECT_NEAR(f->get_float("llama.attention.layer_norm_rms_epsilon").value(), 1e-5, 1e-9);
    EXPECT_EQ(f->get_uint("llama.vocab_size").value(), 300u);  // the vocabulary's size wins
    EXPECT_EQ(f->get_string("tokenizer.ggml.model").value(), "llama");
    EXPECT_EQ(f->get_array("tokenizer.ggml.tokens").value()->items.size(), 300u);
    EXPECT_EQ(f->get_string("tokenizer.chat_template").value(), "{{ bos_token }}");
    EXPECT_EQ(f->tensors().size(), 2u * 9 + 3);
    EXPECT_EQ(f->tensors().front().name, "token_embd.weight");
    EXPECT_EQ(f->tensors().back().name, "output.weight");
    const uint64_t per_layer = 256u * 256 * 2 + 256u * 128 * 2 + 3 * 256u * 512 + 2 * 256;
    EXPECT_EQ(r->n_params, 256u * 300 * 2 + 2 * per_layer + 256);

    const auto expect = [&](const char* name, const char* shape, GgmlType type) {
        const gguf::TensorInfo* t = f->find_tensor(name);
        ASSERT_NE(t, nullptr) << name;
        EXPECT_EQ(t->shape_string(), shape) << name;
        EXPECT_EQ(t->type, type) << name;
    };
    expect("token_embd.weight", "[256, 300]", GgmlType::kQ4_K);
    expect("blk.0.attn_norm.weight", "[256]", GgmlType::kF32);
    expect("blk.0.attn_q.weight", "[256, 256]", GgmlType::kQ4_K);
    expect("blk.0.attn_k.weight", "[256, 128]", GgmlType::kQ4_K);
    expect("blk.0.attn_v.weight", "[256, 128]", GgmlType::kQ4_K);
    expect("blk.1.attn_v.weight", "[256, 128]", GgmlType::kQ6_K);  // last eighth
    expect("blk.0.attn_output.weight", "[256, 256]", GgmlType::kQ4_K);
    expect("blk.0.ffn_norm.weight", "[256]", GgmlType::kF32);
    expect("blk.0.ffn_gate.weight", "[256, 512]", GgmlType::kQ4_K);
    expect("blk.0.ffn_up.weight", "[256, 512]", GgmlType::kQ4_K);
    expect("blk.1.ffn_down.weight", "[512, 256]", GgmlType::kQ6_K);
    expect("output_norm.weight", "[256]", GgmlType::kF32);
    expect("output.weight", "[256, 300]", GgmlType::kQ6_K);
}

TEST(Synth, WeightScale) {
    const std::string out = temp_path("tiny_f32.gguf");
    ASSERT_TRUE(synth("tiny", gguf::FileType::kAllF32, out).is_ok());
    Result<gguf::GgufFile> f = gguf::GgufFile::open(out);
    ASSERT_TRUE(f.is_ok());
    EXPECT_NEAR(stddev(dequantized(*f->find_tensor("token_embd.weight"))), 0.02, 0.001);
    EXPECT_NEAR(stddev(dequantized(*f->find_tensor("blk.0.ffn_up.weight"))), 0.02, 0.001);
    // Residual projections: 0.02 / sqrt(2 * n_layer).
    EXPECT_NEAR(stddev(dequantized(*f->find_tensor("blk.0.ffn_down.weight"))), 0.01, 0.0005);
    for (float x : dequantized(*f->find_tensor("blk.1.attn_norm.weight"))) ASSERT_EQ(x, 1.0f);
}

TEST(Synth, DeterministicAcrossThreadCountsAndSeeded) {
    const std::string a = temp_path("det_a.gguf");
    const std::string b = temp_path("det_b.gguf");
    const std::string c = temp_path("det_c.gguf");
    ASSERT_TRUE(synth("tiny", gguf::FileType::kMostlyQ4_0, a, 7, 1).is_ok());
    ASSERT_TRUE(synth("tiny", gguf::FileType::kMostlyQ4_0, b, 7, 5).is_ok());
    ASSERT_TRUE(synth("tiny", gguf::FileType::kMostlyQ4_0, c, 8, 2).is_ok());
    EXPECT_EQ(slurp(a), slurp(b));
    EXPECT_NE(slurp(a), slurp(c));
}

TEST(Synth, TinyQwen2BiasesTiedEmbeddingsAndFallbacks) {
    const std::string out = temp_path("tiny_qwen2.gguf");
    Result<ConvertReport> r = synth("tiny-qwen2", gguf::FileType::kMostlyQ4_K_M, out);
    ASSERT_TRUE(r.is_ok()) << r.message();
    EXPECT_GT(r->n_fallbacks, 0u);
    Result<gguf::GgufFile> f = gguf::GgufFile::open(out);
    ASSERT_TRUE(f.is_ok()) << f.message();
    EXPECT_EQ(f->architecture(), "qwen2");
    EXPECT_EQ(f->get_uint("qwen2.attention.head_count_kv").value(), 1u);
    EXPECT_NEAR(f->get_float("qwen2.rope.freq_base").value(), 1e6, 1.0);
    EXPECT_EQ(f->find_tensor("output.weight"), nullptr);
    // Tied: token_embd is the output matrix; 320 is not a multiple of 256 -> q8_0.
    EXPECT_EQ(f->find_tensor("token_embd.weight")->type, GgmlType::kQ8_0);
    EXPECT_EQ(f->find_tensor("blk.0.attn_q.weight")->type, GgmlType::kQ5_0);
    EXPECT_EQ(f->find_tensor("blk.0.attn_q.bias")->type, GgmlType::kF32);
    EXPECT_EQ(f->find_tensor("blk.0.attn_k.bias")->shape_string(), "[64]");
    EXPECT_EQ(f->find_tensor("blk.0.attn_v.bias")->shape_string(), "[64]");
    EXPECT_EQ(f->find_tensor("blk.0.ffn_down.weight")->type, GgmlType::kQ4_K);  // ne0 512
}

TEST(Synth, Errors) {
    Result<ConvertReport> r = synth("llama9-1t", gguf::FileType::kMostlyQ4_0, temp_path("x.gguf"));
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.message().find("unknown shape 'llama9-1t' (known: tiny, tinyllama-1.1b"),
              std::string::npos)
        << r.message();
    SynthOptions o;
    o.shape = "tiny";
    o.vocab_path = "/nonexistent/vocab.gguf";
    o.out_path = temp_path("y.gguf");
    EXPECT_FALSE(synth_model(o).is_ok());
}

}  // namespace
}  // namespace rf::convert
