// Writer -> reader round trips: every metadata value type and every tensor type.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "sample_files.h"

namespace rf::gguf {
namespace {

using testing::metadata_sample;
using testing::model_sample;
using testing::pattern_bytes;

// Deep equality of two values, including the declared integer width.
void expect_same(const Value& a, const Value& b, const std::string& where) {
    ASSERT_EQ(a.type, b.type) << where;
    if (a.is_array()) {
        const Array& x = a.as_array();
        const Array& y = b.as_array();
        ASSERT_EQ(x.element_type, y.element_type) << where;
        ASSERT_EQ(x.items.size(), y.items.size()) << where;
        for (size_t i = 0; i < x.items.size(); ++i) {
            expect_same(x.items[i], y.items[i], where + "[" + std::to_string(i) + "]");
        }
        return;
    }
    EXPECT_TRUE(a.data == b.data) << where << ": " << a.to_display_string() << " vs "
                                  << b.to_display_string();
}

TEST(RoundTrip, EveryValueType) {
    const GgufWriter w = metadata_sample();
    const std::vector<uint8_t> image = w.write_to_memory();
    Result<GgufFile> file = GgufFile::parse(image);
    ASSERT_TRUE(file.is_ok()) << file.message();
    EXPECT_EQ(file->version(), 3u);
    ASSERT_EQ(file->metadata().size(), w.metadata().size());
    for (size_t i = 0; i < w.metadata().size(); ++i) {
        EXPECT_EQ(file->metadata()[i].first, w.metadata()[i].first);
        expect_same(file->metadata()[i].second, w.metadata()[i].second, w.metadata()[i].first);
    }
    EXPECT_TRUE(file->tensors().empty());
}

TEST(RoundTrip, EveryTensorType) {
    GgufWriter w;
    std::vector<std::vector<uint8_t>> expected;
    for (const quant::TypeTraits& t : quant::all_types()) {
        const uint64_t ne0 = uint64_t{t.block_size} * 2;
        const uint64_t n_bytes = ne0 / t.block_size * t.type_size * 3;
        expected.push_back(pattern_bytes(n_bytes, static_cast<uint32_t>(t.type)));
        ASSERT_TRUE(w.add_tensor(std::string(t.name) + ".weight", t.type, {ne0, 3}, expected.back())
                        .is_ok());
    }
    const std::vector<uint8_t> image = w.write_to_memory();
    Result<GgufFile> file = GgufFile::parse(image);
    ASSERT_TRUE(file.is_ok()) << file.message();
    ASSERT_EQ(file->tensors().size(), quant::all_types().size());
    for (size_t i = 0; i < expected.size(); ++i) {
        const TensorInfo& t = file->tensors()[i];
        const quant::TypeTraits& traits = quant::all_types()[i];
        EXPECT_EQ(t.type, traits.type);
        EXPECT_EQ(t.n_dims, 2u);
        EXPECT_EQ(t.ne[0], uint64_t{traits.block_size} * 2);
        EXPECT_EQ(t.ne[1], 3u);
        EXPECT_EQ(t.offset % 32, 0u);
        EXPECT_EQ((file->data_offset() + t.offset) % 32, 0u);
        ASSERT_EQ(t.data.size(), expected[i].size());
        EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), expected[i].begin())) << t.name;
    }
}

TEST(RoundTrip, CustomAlignmentIsWrittenAndHonoured) {
    const std::vector<uint8_t> image = model_sample(256).write_to_memory();
    Result<GgufFile> file = GgufFile::parse(image);
    ASSERT_TRUE(file.is_ok()) << file.message();
    EXPECT_EQ(file->alignment(), 256u);
    EXPECT_EQ(file->get_uint("general.alignment").value(), 256u);
    EXPECT_EQ(file->data_offset() % 256, 0u);
    for (const TensorInfo& t : file->tensors()) EXPECT_EQ(t.offset % 256, 0u) << t.name;
}

TEST(RoundTrip, AlignmentKeyOverridesConstructor) {
    GgufWriter w = model_sample(32);
    w.set("general.alignment", Value::u32(64));
    Result<GgufFile> file = GgufFile::parse(w.write_to_memory());
    ASSERT_TRUE(file.is_ok()) << file.message();
    EXPECT_EQ(file->alignment(), 64u);
    for (const TensorInfo& t : file->tensors()) EXPECT_EQ(t.offset % 64, 0u);
}

TEST(RoundTrip, LazyStreamingMatchesMemoryImage) {
    GgufWriter w = model_sample();
    for (int i = 0; i < 20; ++i) {
        const uint32_t seed = 100u + static_cast<uint32_t>(i);
        ASSERT_TRUE(w.add_tensor_lazy("lazy." + std::to_string(i), quant::GgmlType::kQ4_0,
                                      {256, static_cast<uint64_t>(i + 1)},
                                      [seed](std::span<uint8_t> out) {
                                          const auto b = pattern_bytes(out.size(), seed);
                                          std::copy(b.begin(), b.end(), out.begin());
                                      })
                        .is_ok());
    }
    const std::vector<uint8_t> image = w.write_to_memory();
    const std::string path = ::testing::TempDir() + "/rf_gguf_lazy_" + std::to_string(::getpid()) + ".gguf";
    for (int threads : {1, 4}) {
        ASSERT_TRUE(w.write_file(path, threads).is_ok());
        Result<GgufFile> file = GgufFile::open(path);
        ASSERT_TRUE(file.is_ok()) << file.message();
        EXPECT_EQ(file->file_size(), image.size());
        Result<GgufFile> from_memory = GgufFile::parse(image);
        ASSERT_TRUE(from_memory.is_ok());
        for (size_t i = 0; i < file->tensors().size(); ++i) {
            const auto& a = file->tensors()[i].data;
            const auto& b = from_memory->tensors()[i].data;
            ASSERT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << threads;
        }
    }
    EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
    std::remove(path.c_str());
}

TEST(Writer, RejectsBadTensors) {
    GgufWriter w;
    EXPECT_FALSE(w.add_tensor("", quant::GgmlType::kF32, {4}, std::vector<uint8_t>(16)).is_ok());
    EXPECT_FALSE(w.add_tensor("a", quant::GgmlType::kF32, {}, {}).is_ok());
    EXPECT_FALSE(w.add_tensor("a", quant::GgmlType::kF32, {4, 0}, {}).is_ok());
    EXPECT_FALSE(
        w.add_tensor("a", quant::GgmlType::kF32, {1, 1, 1, 1, 1}, std::vector<uint8_t>(4)).is_ok());
    EXPECT_FALSE(w.add_tensor("a", quant::GgmlType::kQ4_0, {48}, std::vector<uint8_t>(27)).is_ok());
    EXPECT_FALSE(w.add_tensor("a", quant::GgmlType::kF32, {4}, std::vector<uint8_t>(15)).is_ok());
    EXPECT_TRUE(w.add_tensor("a", quant::GgmlType::kF32, {4}, std::vector<uint8_t>(16)).is_ok());
    const Status dup = w.add_tensor("a", quant::GgmlType::kF32, {4}, std::vector<uint8_t>(16));
    EXPECT_NE(dup.message().find("duplicate tensor name 'a'"), std::string::npos);
}

TEST(Writer, SetReplacesInPlaceAndRemove) {
    GgufWriter w;
    w.set("a", Value::u32(1));
    w.set("b", Value::u32(2));
    w.set("a", Value::string("x"));
    ASSERT_EQ(w.metadata().size(), 2u);
    EXPECT_EQ(w.metadata()[0].first, "a");
    EXPECT_TRUE(w.metadata()[0].second.is_string());
    w.remove("a");
    w.remove("missing");
    ASSERT_EQ(w.metadata().size(), 1u);
    EXPECT_EQ(w.find("b")->as_u64(), 2u);
}

TEST(Writer, ReportsUnwritablePath) {
    const Status s = model_sample().write_file("/nonexistent-dir/x.gguf");
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("cannot create"), std::string::npos);
}

}  // namespace
}  // namespace rf::gguf
