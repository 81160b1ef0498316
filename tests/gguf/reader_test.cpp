// Reader: typed getters, version 2, scalars, zero-copy views, real vocabulary files.
#include <gtest/gtest.h>

#include <filesystem>

#include "gguf/gguf_file.h"
#include "gguf/keys.h"
#include "raw_gguf.h"
#include "sample_files.h"

namespace rf::gguf {
namespace {

using testing::RawGguf;

class ReaderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        image_ = testing::model_sample().write_to_memory();
        Result<GgufFile> parsed = GgufFile::parse(image_);
        ASSERT_TRUE(parsed.is_ok()) << parsed.message();
        file_.emplace(std::move(parsed).value());
    }
    std::vector<uint8_t> image_;
    std::optional<GgufFile> file_;
};

TEST_F(ReaderTest, TypedGetters) {
    const GgufFile& f = *file_;
    EXPECT_EQ(f.architecture(), "llama");
    EXPECT_EQ(f.get_string("general.name").value(), "sample");
    EXPECT_EQ(f.get_uint("llama.block_count").value(), 1u);
    EXPECT_EQ(f.get_int("llama.block_count").value(), 1);
    EXPECT_DOUBLE_EQ(f.get_float("llama.embedding_length").value(), 64.0);
    EXPECT_NEAR(f.get_float("llama.attention.layer_norm_rms_epsilon").value(), 1e-5, 1e-12);
    EXPECT_EQ(f.get_array(keys::kTokenizerTokens).value()->items.size(), 4u);
    EXPECT_FALSE(f.get_uint_opt("llama.missing").value().has_value());
    EXPECT_EQ(f.get_string_opt("general.name").value().value(), "sample");
}

TEST_F(ReaderTest, GetterErrorsNameTheKey) {
    const GgufFile& f = *file_;
    Result<uint64_t> missing = f.get_uint("llama.rope.freq_base");
    ASSERT_FALSE(missing.is_ok());
    EXPECT_EQ(missing.message(), "metadata key 'llama.rope.freq_base' is missing");
    Result<std::string> wrong = f.get_string("llama.block_count");
    ASSERT_FALSE(wrong.is_ok());
    EXPECT_EQ(wrong.message(), "metadata key 'llama.block_count' has type u32, expected a string");
    EXPECT_FALSE(f.get_bool_opt("general.name").is_ok());
    EXPECT_FALSE(f.get_float("general.name").is_ok());
    EXPECT_FALSE(f.get_array("general.name").is_ok());
}

TEST_F(ReaderTest, TensorViewsPointIntoTheImage) {
    const GgufFile& f = *file_;
    ASSERT_EQ(f.tensors().size(), 5u);
    const TensorInfo* q = f.find_tensor("blk.0.attn_q.weight");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->type, quant::GgmlType::kQ4_0);
    EXPECT_EQ(q->shape_string(), "[64, 64]");
    EXPECT_EQ(q->n_elements(), 4096u);
    EXPECT_EQ(q->n_rows(), 64u);
    EXPECT_EQ(q->n_bytes, 64u * 2 * 18);
    EXPECT_EQ(q->data.data(), image_.data() + f.data_offset() + q->offset);
    EXPECT_EQ(f.find_tensor("nope"), nullptr);
}

TEST(Reader, Version2AndScalarTensor) {
    RawGguf g;
    g.header(2, 1, 1).kv_str("general.architecture", "llama").tensor("s", {}, 0, 0).pad_to(32);
    g.f32(2.5f);
    Result<GgufFile> f = GgufFile::parse(g.bytes());
    ASSERT_TRUE(f.is_ok()) << f.message();
    EXPECT_EQ(f->version(), 2u);
    const TensorInfo& s = f->tensors().at(0);
    EXPECT_EQ(s.n_dims, 0u);
    EXPECT_EQ(s.n_elements(), 1u);
    EXPECT_EQ(s.n_bytes, 4u);
    EXPECT_EQ(s.shape_string(), "[]");
}

TEST(Reader, MetadataOnlyFileNeedNotBePadded) {
    RawGguf g;
    g.header(3, 0, 1).kv_u32("a.b", 7);
    Result<GgufFile> f = GgufFile::parse(g.bytes());
    ASSERT_TRUE(f.is_ok()) << f.message();
    EXPECT_EQ(f->get_uint("a.b").value(), 7u);
}

// Counts that fit in a large file but no real model has are refused before allocating.
TEST(Reader, KvAndTensorCountLimits) {
    RawGguf kv;
    kv.header(3, 0, (uint64_t{1} << 20) + 1).zeros(size_t{16} << 20);
    Result<GgufFile> f = GgufFile::parse(kv.bytes());
    ASSERT_FALSE(f.is_ok());
    EXPECT_NE(f.message().find("header.n_kv at byte offset 16: key-value count 1048577 exceeds"),
              std::string::npos) << f.message();
    RawGguf tensors;
    tensors.header(3, (uint64_t{1} << 20) + 1, 0).zeros(size_t{26} << 20);
    f = GgufFile::parse(tensors.bytes());
    ASSERT_FALSE(f.is_ok());
    EXPECT_NE(f.message().find("tensor count 1048577 exceeds the limit"), std::string::npos);
}

TEST(Reader, OpenReportsPathAndMissingFile) {
    Result<GgufFile> f = GgufFile::open("/nonexistent/model.gguf");
    ASSERT_FALSE(f.is_ok());
    EXPECT_NE(f.message().find("/nonexistent/model.gguf"), std::string::npos);
}

TEST(Reader, RealVocabularyFiles) {
    const std::filesystem::path dir = std::filesystem::path(RF_SHARED_TESTDATA) / "vocab";
    if (!std::filesystem::exists(dir)) GTEST_SKIP() << "shared test data not found at " << dir;
    int n_files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".gguf") continue;
        Result<GgufFile> f = GgufFile::open(entry.path().string());
        ASSERT_TRUE(f.is_ok()) << f.message();
        Result<const Array*> tokens = f->get_array(keys::kTokenizerTokens);
        ASSERT_TRUE(tokens.is_ok()) << entry.path() << ": " << tokens.message();
        EXPECT_GT(tokens.value()->items.size(), 30000u) << entry.path();
        EXPECT_EQ(tokens.value()->element_type, ValueType::kString);
        EXPECT_FALSE(f->architecture().empty());
        ++n_files;
    }
    EXPECT_GE(n_files, 1);
}

}  // namespace
}  // namespace rf::gguf
