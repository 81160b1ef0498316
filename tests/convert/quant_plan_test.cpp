// The preset mixing rules: which tensors each preset bumps, fallbacks for shapes that do not
// fit a block size, presets we refuse.
#include <gtest/gtest.h>

#include "convert/quant_plan.h"

namespace rf::convert {
namespace {

using gguf::FileType;
using quant::GgmlType;

ModelFacts llama_facts(int n_layer = 32, int n_head_kv = 32) {
    return ModelFacts{"llama", n_layer, 32, n_head_kv, 0, false};
}

QuantPlan plan(FileType f, ModelFacts facts = llama_facts(), bool pure = false) {
    Result<QuantPlan> p = QuantPlan::make(f, pure, std::move(facts));
    EXPECT_TRUE(p.is_ok()) << p.message();
    return std::move(p).value();
}

GgmlType type_of(const QuantPlan& p, const std::string& name, std::array<uint64_t, 4> ne,
                 uint32_t n_dims = 2, GgmlType current = GgmlType::kF16) {
    return p.choose(name, ne, n_dims, current).type;
}

std::string blk(int il, const char* suffix) {
    return "blk." + std::to_string(il) + "." + suffix;
}

TEST(QuantPlan, Q4KMBumpsOutputAndHalfOfAttnVAndFfnDown) {
    const QuantPlan p = plan(FileType::kMostlyQ4_K_M);
    EXPECT_EQ(p.default_type(), GgmlType::kQ4_K);
    EXPECT_EQ(type_of(p, "output.weight", {4096, 32000, 1, 1}), GgmlType::kQ6_K);
    EXPECT_EQ(type_of(p, "token_embd.weight", {4096, 32000, 1, 1}), GgmlType::kQ4_K);
    EXPECT_EQ(type_of(p, blk(0, "attn_q.weight"), {4096, 4096, 1, 1}), GgmlType::kQ4_K);
    EXPECT_EQ(type_of(p, blk(0, "attn_norm.weight"), {4096, 1, 1, 1}, 1, GgmlType::kF32),
              GgmlType::kF32);
    int n_v6 = 0;
    int n_down6 = 0;
    for (int il = 0; il < 32; ++il) {
        n_v6 += type_of(p, blk(il, "attn_v.weight"), {4096, 4096, 1, 1}) == GgmlType::kQ6_K;
        n_down6 += type_of(p, blk(il, "ffn_down.weight"), {11008, 4096, 1, 1}) == GgmlType::kQ6_K;
    }
    EXPECT_EQ(n_v6, 16);
    EXPECT_EQ(n_down6, 16);
    // First and last eighth, then every third layer from n/8 + 2.
    for (int il : {0, 3, 6, 9, 27, 28, 31}) {
        EXPECT_EQ(type_of(p, blk(il, "attn_v.weight"), {4096, 4096, 1, 1}), GgmlType::kQ6_K) << il;
    }
    for (int il : {4, 5, 7, 8, 26}) {
        EXPECT_EQ(type_of(p, blk(il, "ffn_down.weight"), {11008, 4096, 1, 1}), GgmlType::kQ4_K)
            << il;
    }
}

TEST(QuantPlan, Q4KSAndQ5KS) {
    const QuantPlan s4 = plan(FileType::kMostlyQ4_K_S);
    EXPECT_EQ(type_of(s4, blk(3, "attn_v.weight"), {4096, 4096, 1, 1}), GgmlType::kQ5_K);
    EXPECT_EQ(type_of(s4, blk(4, "attn_v.weight"), {4096, 4096, 1, 1}), GgmlType::kQ4_K);
    EXPECT_EQ(type_of(s4, blk(3, "ffn_down.weight"), {11008, 4096, 1, 1}), GgmlType::kQ5_K);
    EXPECT_EQ(type_of(s4, blk(31, "ffn_down.weight"), {11008, 4096, 1, 1}), GgmlType::kQ4_K);
    const QuantPlan s5 = plan(FileType::kMostlyQ5_K_S);
    EXPECT_EQ(type_of(s5, blk(0, "attn_v.weight"), {4096, 4096, 1, 1}), GgmlType::kQ5_K);
    EXPECT_EQ(type_of(s5, "output.weight", {4096, 32000, 1, 1}), GgmlType::kQ6_K);
    const QuantPlan m5 = plan(FileType::kMostlyQ5_K_M);
    EXPECT_EQ(type_of(m5, blk(0, "ffn_down.weight"), {11008, 4096, 1, 1}), GgmlType::kQ6_K);
    EXPECT_EQ(type_of(m5, blk(4, "ffn_down.weight"), {11008, 4096, 1, 1}), GgmlType::kQ5_K);
}

TEST(QuantPlan, Q2KAndQ3KM) {
    const QuantPlan q2 = plan(FileType::kMostlyQ2_K);
    EXPECT_EQ(type_of(q2, blk(5, "attn_v.weight"), {4096, 4096, 1, 1}), GgmlType::kQ3_K);
    EXPECT_EQ(type_of(q2, blk(5, "ffn_down.weight"), {11008, 4096, 1, 1}), GgmlType::kQ3_K);
    EXPECT_EQ(type_of(q2, blk(5, "attn_output.weight"), {4096, 4096, 1, 1}), GgmlType::kQ3_K);
    EXPECT_EQ(type_of(q2, blk(5, "ffn_up.weight"), {4096, 11008, 1, 1}), GgmlType::kQ2_K);
    const QuantPlan q2_gqa = plan(FileType::kMostlyQ2_K, llama_facts(32, 8));
    EXPECT_EQ(type_of(q2_gqa, blk(5, "attn_v.weight"), {4096, 1024, 1, 1}), GgmlType::kQ4_K);
    const QuantPlan q3 = plan(FileType::kMostlyQ3_K_M);
    EXPECT_EQ(type_of(q3, blk(1, "attn_v.weight"), {4096, 4096, 1, 1}), GgmlType::kQ5_K);
    EXPECT_EQ(type_of(q3, blk(2, "attn_v.weight"), {4096, 4096, 1, 1}), GgmlType::kQ4_K);
    EXPECT_EQ(type_of(q3, blk(1, "ffn_down.weight"), {11008, 4096, 1, 1}), GgmlType::kQ5_K);
    EXPECT_EQ(type_of(q3, blk(2, "ffn_down.weight"), {11008, 4096, 1, 1}), GgmlType::kQ4_K);
    EXPECT_EQ(type_of(q3, blk(2, "attn_output.weight"), {4096, 4096, 1, 1}), GgmlType::kQ4_K);
    EXPECT_EQ(type_of(q3, blk(2, "attn_q.weight"), {4096, 4096, 1, 1}), GgmlType::kQ3_K);
}

TEST(QuantPlan, LegacyPresets) {
    const QuantPlan q8 = plan(FileType::kMostlyQ8_0);
    EXPECT_EQ(type_of(q8, "output.weight", {4096, 32000, 1, 1}), GgmlType::kQ8_0);
    EXPECT_EQ(type_of(q8, blk(0, "attn_v.weight"), {4096, 4096, 1, 1}), GgmlType::kQ8_0);
    const QuantPlan q4 = plan(FileType::kMostlyQ4_0);
    EXPECT_EQ(type_of(q4, "output.weight", {4096, 32000, 1, 1}), GgmlType::kQ6_K);
    EXPECT_EQ(type_of(q4, "token_embd.weight", {4096, 32000, 1, 1}), GgmlType::kQ4_0);
    EXPECT_EQ(type_of(q4, blk(0, "attn_v.weight"), {4096, 4096, 1, 1}), GgmlType::kQ4_0);
}

TEST(QuantPlan, TiedEmbeddingsAreTreatedAsTheOutput) {
    ModelFacts facts = llama_facts();
    facts.tied_output = true;
    const QuantPlan p = plan(FileType::kMostlyQ4_K_M, facts);
    EXPECT_EQ(type_of(p, "token_embd.weight", {4096, 32000, 1, 1}), GgmlType::kQ6_K);
}

TEST(QuantPlan, ShapesThatDoNotFitFallBack) {
    const QuantPlan p = plan(FileType::kMostlyQ4_K_M);
    const TensorChoice q = p.choose(blk(4, "attn_q.weight"), {896, 896, 1, 1}, 2, GgmlType::kF16);
    EXPECT_EQ(q.type, GgmlType::kQ5_0);
    EXPECT_EQ(q.note, "ne[0] 896 is not a multiple of 256 for q4_K -> q5_0");
    EXPECT_EQ(type_of(p, blk(0, "attn_v.weight"), {896, 128, 1, 1}), GgmlType::kQ8_0);  // q6_K
    EXPECT_EQ(type_of(p, "output.weight", {896, 151936, 1, 1}), GgmlType::kQ8_0);
    // Not even a multiple of 32: F16.
    EXPECT_EQ(type_of(p, blk(4, "attn_q.weight"), {80, 80, 1, 1}), GgmlType::kF16);
    const QuantPlan x = plan(FileType::kMostlyIQ4_XS);
    EXPECT_EQ(type_of(x, blk(4, "attn_q.weight"), {896, 896, 1, 1}), GgmlType::kIQ4_NL);
}

TEST(QuantPlan, PureUsesOneType) {
    const QuantPlan p = plan(FileType::kMostlyQ4_K_M, llama_facts(), true);
    EXPECT_EQ(type_of(p, "output.weight", {4096, 32000, 1, 1}), GgmlType::kQ4_K);
    for (int il = 0; il < 32; ++il) {
        EXPECT_EQ(type_of(p, blk(il, "attn_v.weight"), {4096, 4096, 1, 1}), GgmlType::kQ4_K);
    }
}

TEST(QuantPlan, FloatPresetsConvertOnlyMatrices) {
    const QuantPlan p = plan(FileType::kMostlyF16);
    EXPECT_EQ(type_of(p, "output.weight", {4096, 32000, 1, 1}, 2, GgmlType::kF32), GgmlType::kF16);
    EXPECT_EQ(type_of(p, "output_norm.weight", {4096, 1, 1, 1}, 1, GgmlType::kF32), GgmlType::kF32);
    EXPECT_EQ(type_of(p, blk(0, "attn_q.bias"), {4096, 1, 1, 1}, 1, GgmlType::kF32),
              GgmlType::kF32);
}

TEST(QuantPlan, WhichTensorsAreQuantized) {
    EXPECT_TRUE(allows_quantization("token_embd.weight", 2));
    EXPECT_TRUE(allows_quantization("blk.0.ffn_down_exps.weight", 3));
    EXPECT_FALSE(allows_quantization("blk.0.attn_norm.weight", 1));
    EXPECT_FALSE(allows_quantization("blk.0.attn_q_norm.weight", 2));
    EXPECT_FALSE(allows_quantization("blk.0.ffn_gate_inp.weight", 2));
    EXPECT_FALSE(allows_quantization("blk.0.attn_q.bias", 2));
}

TEST(QuantPlan, PresetNames) {
    EXPECT_EQ(parse_preset("q4_k_m").value(), FileType::kMostlyQ4_K_M);
    EXPECT_EQ(parse_preset("Q4_K").value(), FileType::kMostlyQ4_K_M);
    EXPECT_EQ(parse_preset("Q5_K").value(), FileType::kMostlyQ5_K_M);
    EXPECT_EQ(parse_preset("Q3_K").value(), FileType::kMostlyQ3_K_M);
    EXPECT_EQ(parse_preset("f16").value(), FileType::kMostlyF16);
    const Result<FileType> bad = parse_preset("Q4_K_Z");
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.message().find("unknown quantization type 'Q4_K_Z'"), std::string::npos);
    const Result<QuantPlan> iq2 = QuantPlan::make(FileType::kMostlyIQ2_XXS, false, llama_facts());
    ASSERT_FALSE(iq2.is_ok());
    EXPECT_NE(iq2.message().find("importance matrix"), std::string::npos);
}

}  // namespace
}  // namespace rf::convert
