// Small valid GGUF files for tests and fuzz seeds.
#include "sample_files.h"

#include <string>

#include "core/check.h"
#include "gguf/keys.h"

namespace rf::gguf::testing {

std::vector<uint8_t> pattern_bytes(size_t n, uint32_t seed) {
    std::vector<uint8_t> out(n);
    uint32_t x = seed * 2654435761u + 1u;
    for (uint8_t& b : out) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<uint8_t>(x >> 24);
    }
    return out;
}

GgufWriter metadata_sample() {
    GgufWriter w;
    w.set("test.u8", Value::u8(255));
    w.set("test.i8", Value::i8(-128));
    w.set("test.u16", Value::u16(65535));
    w.set("test.i16", Value::i16(-32768));
    w.set("test.u32", Value::u32(4000000000u));
    w.set("test.i32", Value::i32(-2000000000));
    w.set("test.u64", Value::u64(18000000000000000000ull));
    w.set("test.i64", Value::i64(-9000000000000000000ll));
    w.set("test.f32", Value::f32(3.25f));
    w.set("test.f64", Value::f64(-1.0e300));
    w.set("test.bool", Value::boolean(true));
    w.set("test.string", Value::string("h\xc3\xa9llo\n\t\"world\""));
    w.set("test.empty_string", Value::string(""));
    w.set("test.nul_string", Value::string(std::string("a\0b", 3)));
    w.set("test.strings", Value::string_array({"a", "", "\xe2\x96\x81the", "<0x0A>"}));
    w.set("test.f32s", Value::f32_array({0.5f, -1.5f, 1e-30f}));
    w.set("test.i32s", Value::i32_array({1, -2, 2147483647}));
    w.set("test.bools",
          Value::array(ValueType::kBool, {Value::boolean(false), Value::boolean(true)}));
    w.set("test.u64s", Value::array(ValueType::kUint64, {Value::u64(1), Value::u64(~0ull)}));
    w.set("test.empty_array", Value::array(ValueType::kInt16, {}));
    w.set("test.nested",
          Value::array(ValueType::kArray,
                       {Value::i32_array({1, 2}), Value::i32_array({}), Value::i32_array({3})}));
    w.set("test.nested_strings",
          Value::array(ValueType::kArray, {Value::string_array({"x", "y"})}));
    return w;
}

GgufWriter model_sample(uint32_t alignment) {
    GgufWriter w(alignment);
    w.set(std::string(keys::kGeneralArchitecture), Value::string("llama"));
    w.set(std::string(keys::kGeneralName), Value::string("sample"));
    w.set(std::string(keys::kGeneralFileType), Value::u32(7));
    w.set(keys::arch_key("llama", keys::kContextLength), Value::u32(128));
    w.set(keys::arch_key("llama", keys::kEmbeddingLength), Value::u32(64));
    w.set(keys::arch_key("llama", keys::kBlockCount), Value::u32(1));
    w.set(keys::arch_key("llama", keys::kAttentionHeadCount), Value::u32(4));
    w.set(keys::arch_key("llama", keys::kAttentionLayerNormRmsEpsilon), Value::f32(1e-5f));
    w.set(std::string(keys::kTokenizerModel), Value::string("llama"));
    w.set(std::string(keys::kTokenizerTokens), Value::string_array({"<unk>", "<s>", "</s>", "a"}));
    w.set(std::string(keys::kTokenizerScores), Value::f32_array({0, 0, 0, -1}));
    w.set(std::string(keys::kTokenizerTokenType), Value::i32_array({2, 3, 3, 1}));
    w.set(std::string(keys::kTokenizerBosId), Value::u32(1));
    w.set(std::string(keys::kTokenizerEosId), Value::u32(2));
    w.set(std::string(keys::kTokenizerChatTemplate), Value::string("{{ messages }}"));
    using quant::GgmlType;
    const auto add = [&](const char* name, GgmlType type, std::vector<uint64_t> ne, uint32_t seed) {
        uint64_t n = 1;
        for (uint64_t d : ne) n *= d;
        const quant::TypeTraits& t = quant::traits(type);
        std::vector<uint8_t> bytes = pattern_bytes(n / t.block_size * t.type_size, seed);
        if (type == GgmlType::kF32) {
            // Finite floats so `rocmforge tensor` output is comparable.
            for (size_t i = 0; i < bytes.size(); i += 4) bytes[i + 3] = 0x3f;
        }
        RF_CHECK(w.add_tensor(name, type, std::move(ne), std::move(bytes)).is_ok());
    };
    add("token_embd.weight", GgmlType::kQ8_0, {64, 4}, 1);
    add("blk.0.attn_norm.weight", GgmlType::kF32, {64}, 2);
    add("blk.0.attn_q.weight", GgmlType::kQ4_0, {64, 64}, 3);
    add("blk.0.ffn_up.weight", GgmlType::kF16, {64, 3}, 4);
    add("output_norm.weight", GgmlType::kF32, {64}, 5);
    return w;
}

}  // namespace rf::gguf::testing
