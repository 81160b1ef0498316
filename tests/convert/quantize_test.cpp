// quantize: types follow the plan, metadata is carried over, values stay close to the source,
// output is identical for any thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "convert/quantize_model.h"
#include "convert/synth.h"
#include "gguf/gguf_file.h"
#include "quant/reference.h"
#include "test_vocab.h"

namespace rf::convert {
namespace {

using quant::GgmlType;
using testing::temp_path;

// A tiny F32 model shared by the tests (written once).
const std::string& f32_model() {
    static const std::string path = [] {
        const std::string vocab = temp_path("q_vocab.gguf");
        testing::write_test_vocab(vocab);
        SynthOptions o;
        o.shape = "tiny";
        o.ftype = gguf::FileType::kAllF32;
        o.vocab_path = vocab;
        o.out_path = temp_path("q_source_f32.gguf");
        EXPECT_TRUE(synth_model(o).is_ok());
        return o.out_path;
    }();
    return path;
}

Result<ConvertReport> quantize(const std::string& in, const std::string& out, gguf::FileType f,
                               bool pure = false, int threads = 2, bool fast = false) {
    QuantizeOptions o;
    o.ftype = f;
    o.pure = pure;
    o.n_threads = threads;
    o.fast = fast;
    return quantize_model(in, out, o);
}

std::vector<float> values(const gguf::TensorInfo& t) {
    std::vector<float> v(t.n_elements());
    quant::dequantize_row(t.type, t.data.data(), v.data(), static_cast<int64_t>(v.size()));
    return v;
}

// RMS error of `b` against `a`, relative to the RMS of `a`.
double relative_rmse(const std::vector<float>& a, const std::vector<float>& b) {
    double err = 0, ref = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const auto x = static_cast<double>(a[i]);
        const double d = x - static_cast<double>(b[i]);
        err += d * d;
        ref += x * x;
    }
    return std::sqrt(err / ref);
}

double bound_for(GgmlType t) {
    switch (t) {
        case GgmlType::kQ8_0:
            return 0.01;
        case GgmlType::kQ6_K:
            return 0.04;
        case GgmlType::kQ5_K:
        case GgmlType::kQ5_0:
            return 0.08;
        default:
            return 0.15;
    }
}

TEST(Quantize, Q4KMFollowsThePlanAndStaysClose) {
    const std::string out = temp_path("q4km.gguf");
    Result<ConvertReport> r = quantize(f32_model(), out, gguf::FileType::kMostlyQ4_K_M);
    ASSERT_TRUE(r.is_ok()) << r.message();
    Result<gguf::GgufFile> src = gguf::GgufFile::open(f32_model());
    Result<gguf::GgufFile> dst = gguf::GgufFile::open(out);
    ASSERT_TRUE(dst.is_ok()) << dst.message();
    EXPECT_EQ(dst->get_uint("general.file_type").value(), 15u);
    EXPECT_EQ(dst->get_string("general.name").value(), src->get_string("general.name").value());
    EXPECT_EQ(dst->get_array("tokenizer.ggml.tokens").value()->items.size(), 300u);
    ASSERT_EQ(dst->tensors().size(), src->tensors().size());
    EXPECT_EQ(dst->find_tensor("output.weight")->type, GgmlType::kQ6_K);
    EXPECT_EQ(dst->find_tensor("blk.0.attn_q.weight")->type, GgmlType::kQ4_K);
    EXPECT_EQ(dst->find_tensor("blk.1.attn_v.weight")->type, GgmlType::kQ6_K);
    EXPECT_EQ(dst->find_tensor("blk.0.attn_norm.weight")->type, GgmlType::kF32);
    EXPECT_EQ(r->type_counts.at("f32"), 5u);
    EXPECT_LT(r->bits_per_weight(), 6.0);
    for (const gguf::TensorInfo& t : src->tensors()) {
        const gguf::TensorInfo* q = dst->find_tensor(t.name);
        ASSERT_NE(q, nullptr);
        EXPECT_EQ(q->shape_string(), t.shape_string());
        EXPECT_LT(relative_rmse(values(t), values(*q)), bound_for(q->type)) << t.name;
    }
}

TEST(Quantize, PureAndLegacyPresets) {
    const std::string pure = temp_path("pure.gguf");
    ASSERT_TRUE(quantize(f32_model(), pure, gguf::FileType::kMostlyQ4_K_M, true).is_ok());
    Result<gguf::GgufFile> p = gguf::GgufFile::open(pure);
    ASSERT_TRUE(p.is_ok());
    for (const gguf::TensorInfo& t : p->tensors()) {
        EXPECT_EQ(t.type, t.n_dims == 1 ? GgmlType::kF32 : GgmlType::kQ4_K) << t.name;
    }
    const std::string q8 = temp_path("q8.gguf");
    Result<ConvertReport> r = quantize(f32_model(), q8, gguf::FileType::kMostlyQ8_0);
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->type_counts.at("q8_0"), 16u);
    // Re-quantizing an already quantized file (Q8_0 -> Q4_0) works.
    const std::string q4 = temp_path("q4_from_q8.gguf");
    ASSERT_TRUE(quantize(q8, q4, gguf::FileType::kMostlyQ4_0).is_ok());
    Result<gguf::GgufFile> f = gguf::GgufFile::open(q4);
    ASSERT_TRUE(f.is_ok());
    EXPECT_EQ(f->find_tensor("blk.0.ffn_up.weight")->type, GgmlType::kQ4_0);
    EXPECT_EQ(f->find_tensor("output.weight")->type, GgmlType::kQ6_K);
    EXPECT_EQ(f->get_uint("general.file_type").value(), 2u);
}

TEST(Quantize, SameBytesForAnyThreadCount) {
    const std::string a = temp_path("t1.gguf");
    const std::string b = temp_path("t4.gguf");
    ASSERT_TRUE(quantize(f32_model(), a, gguf::FileType::kMostlyQ5_K_M, false, 1).is_ok());
    ASSERT_TRUE(quantize(f32_model(), b, gguf::FileType::kMostlyQ5_K_M, false, 4).is_ok());
    Result<gguf::GgufFile> fa = gguf::GgufFile::open(a);
    Result<gguf::GgufFile> fb = gguf::GgufFile::open(b);
    ASSERT_TRUE(fa.is_ok() && fb.is_ok());
    ASSERT_EQ(fa->file_size(), fb->file_size());
    for (size_t i = 0; i < fa->tensors().size(); ++i) {
        const auto& x = fa->tensors()[i].data;
        const auto& y = fb->tensors()[i].data;
        ASSERT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end())) << fa->tensors()[i].name;
    }
}

// --fast: same plan and types, round-to-nearest values within the same error bounds, Q8_0
// byte-identical to the searching path, and different bytes where a search exists (Q4_K).
TEST(Quantize, FastFollowsThePlanAndStaysClose) {
    const std::string fast = temp_path("q4km_fast.gguf");
    const std::string searched = temp_path("q4km_searched.gguf");
    ASSERT_TRUE(quantize(f32_model(), fast, gguf::FileType::kMostlyQ4_K_M, false, 2, true).is_ok());
    ASSERT_TRUE(quantize(f32_model(), searched, gguf::FileType::kMostlyQ4_K_M).is_ok());
    Result<gguf::GgufFile> src = gguf::GgufFile::open(f32_model());
    Result<gguf::GgufFile> f = gguf::GgufFile::open(fast);
    Result<gguf::GgufFile> s = gguf::GgufFile::open(searched);
    ASSERT_TRUE(src.is_ok() && f.is_ok() && s.is_ok());
    for (const gguf::TensorInfo& t : src->tensors()) {
        const gguf::TensorInfo* q = f->find_tensor(t.name);
        ASSERT_NE(q, nullptr);
        EXPECT_EQ(q->type, s->find_tensor(t.name)->type) << t.name;
        EXPECT_LT(relative_rmse(values(t), values(*q)), bound_for(q->type)) << t.name;
    }
    const auto& fq = f->find_tensor("blk.0.attn_q.weight")->data;
    const auto& sq = s->find_tensor("blk.0.attn_q.weight")->data;
    EXPECT_FALSE(std::equal(fq.begin(), fq.end(), sq.begin(), sq.end()));

    const std::string q8_fast = temp_path("q8_fast.gguf");
    const std::string q8 = temp_path("q8_searched.gguf");
    ASSERT_TRUE(quantize(f32_model(), q8_fast, gguf::FileType::kMostlyQ8_0, true, 2, true).is_ok());
    ASSERT_TRUE(quantize(f32_model(), q8, gguf::FileType::kMostlyQ8_0, true).is_ok());
    Result<gguf::GgufFile> a = gguf::GgufFile::open(q8_fast);
    Result<gguf::GgufFile> b = gguf::GgufFile::open(q8);
    ASSERT_TRUE(a.is_ok() && b.is_ok());
    for (size_t i = 0; i < a->tensors().size(); ++i) {
        const auto& x = a->tensors()[i].data;
        const auto& y = b->tensors()[i].data;
        EXPECT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end())) << a->tensors()[i].name;
    }
}

TEST(Quantize, Errors) {
    const std::string out = temp_path("e.gguf");
    EXPECT_FALSE(quantize("/nonexistent.gguf", out, gguf::FileType::kMostlyQ4_0).is_ok());
    const Result<ConvertReport> iq = quantize(f32_model(), out, gguf::FileType::kMostlyIQ2_XS);
    ASSERT_FALSE(iq.is_ok());
    EXPECT_NE(iq.message().find("importance matrix"), std::string::npos);
}

}  // namespace
}  // namespace rf::convert
