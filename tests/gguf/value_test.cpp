// Value accessors and rendering; file type names.
#include <gtest/gtest.h>

#include "gguf/file_type.h"
#include "gguf/keys.h"
#include "gguf/value.h"

namespace rf::gguf {
namespace {

TEST(Value, IntegerAccessorsWiden) {
    EXPECT_TRUE(Value::u8(7).is_integer());
    EXPECT_EQ(Value::u8(7).as_u64(), 7u);
    EXPECT_EQ(Value::i8(-3).as_i64(), -3);
    EXPECT_EQ(Value::i32(5).as_u64(), 5u);
    EXPECT_EQ(Value::u32(9).as_i64(), 9);
    EXPECT_DOUBLE_EQ(Value::i16(-2).as_f64(), -2.0);
    EXPECT_DOUBLE_EQ(Value::f32(0.5f).as_f64(), 0.5);
    EXPECT_FALSE(Value::f32(1.0f).is_integer());
    EXPECT_TRUE(Value::f64(1.0).is_float());
    EXPECT_FALSE(Value::string("x").is_integer());
}

TEST(Value, DisplayStrings) {
    EXPECT_EQ(Value::u32(42).to_display_string(), "42");
    EXPECT_EQ(Value::i64(-42).to_display_string(), "-42");
    EXPECT_EQ(Value::boolean(true).to_display_string(), "true");
    EXPECT_EQ(Value::f32(0.25f).to_display_string(), "0.25");
    EXPECT_EQ(Value::string("a\"b\n").to_display_string(), "\"a\\\"b\\n\"");
    EXPECT_EQ(Value::i32_array({1, 2, 3}).to_display_string(), "[1, 2, 3]");
    EXPECT_EQ(Value::i32_array({1, 2, 3}).to_display_string(2), "[1, 2, ... (3 i32 items)]");
    const std::string long_string(500, 'x');
    const std::string shown = Value::string(long_string).to_display_string();
    EXPECT_LT(shown.size(), 130u);
    EXPECT_NE(shown.find("(500 bytes)"), std::string::npos);
}

TEST(Value, TypeNames) {
    EXPECT_EQ(value_type_name(ValueType::kString), "string");
    EXPECT_EQ(value_type_name(ValueType::kFloat64), "f64");
}

TEST(FileType, NamesFollowLlamaCpp) {
    EXPECT_EQ(file_type_name(FileType::kMostlyQ4_K_M), "MOSTLY_Q4_K_M");
    EXPECT_EQ(file_type_name(0), "ALL_F32");
    EXPECT_EQ(file_type_name(7), "MOSTLY_Q8_0");
    EXPECT_EQ(file_type_name(4), "MOSTLY_Q4_1_SOME_F16");
    EXPECT_EQ(file_type_name(32), "MOSTLY_BF16");
    EXPECT_EQ(file_type_name(999), "");
}

TEST(FileType, ParsesUserNames) {
    EXPECT_EQ(parse_file_type("q4_k_m"), FileType::kMostlyQ4_K_M);
    EXPECT_EQ(parse_file_type("MOSTLY_Q6_K"), FileType::kMostlyQ6_K);
    EXPECT_EQ(parse_file_type("F16"), FileType::kMostlyF16);
    EXPECT_EQ(parse_file_type("f32"), FileType::kAllF32);
    EXPECT_EQ(parse_file_type("Q3_K"), FileType::kMostlyQ3_K_M);
    EXPECT_FALSE(parse_file_type("Q4_2").has_value());
    EXPECT_FALSE(parse_file_type("nonsense").has_value());
}

TEST(Keys, ArchKey) {
    EXPECT_EQ(keys::arch_key("llama", keys::kBlockCount), "llama.block_count");
    EXPECT_EQ(keys::arch_key("qwen2", keys::kAttentionHeadCountKv),
              "qwen2.attention.head_count_kv");
}

}  // namespace
}  // namespace rf::gguf
