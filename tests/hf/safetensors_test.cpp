// Safetensors reader: valid files, sharded folders, and every malformed-header case we reject.
#include "hf/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/half.h"
#include "hf_test_util.h"

namespace rf::hf {
namespace {

using testing::safetensors_bytes;
using testing::TempDir;
using testing::TensorSpec;

// An image whose header is `header_json`, followed by `data_bytes` zero bytes.
std::vector<uint8_t> raw_image(const std::string& header_json, size_t data_bytes) {
    std::string image;
    const uint64_t n = header_json.size();
    for (int i = 0; i < 8; ++i) image.push_back(static_cast<char>(n >> (8 * i)));
    image += header_json;
    image.append(data_bytes, '\0');
    return {image.begin(), image.end()};
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
    auto r = SafetensorsFile::parse(bytes, "t.safetensors");
    return r.is_ok() ? "" : r.message();
}

TEST(Safetensors, ReadsTensorsOfEveryFloatType) {
    const auto bytes = safetensors_bytes({{"a", {2, 3}, {1, 2, 3, 4, 5, 6}, "F32"},
                                          {"b", {2}, {0.5f, -2.0f}, "F16"},
                                          {"c", {1, 2}, {3.0f, -0.25f}, "BF16"}});
    auto file = SafetensorsFile::parse(bytes, "t");
    ASSERT_TRUE(file.is_ok()) << file.message();
    ASSERT_EQ(file->tensors().size(), 3u);
    EXPECT_EQ(file->metadata().at("format"), "pt");
    const StTensor& a = file->tensors()[0];
    EXPECT_EQ(a.name, "a");
    EXPECT_EQ(a.shape_string(), "[2, 3]");
    EXPECT_EQ(a.n_rows(), 2u);
    EXPECT_EQ(a.row_length(), 3u);
    float out[3];
    read_floats(a, 3, 3, out);
    EXPECT_EQ(out[0], 4.0f);
    EXPECT_EQ(out[2], 6.0f);
    read_floats(file->tensors()[1], 0, 2, out);
    EXPECT_EQ(out[0], 0.5f);
    EXPECT_EQ(out[1], -2.0f);
    read_floats(file->tensors()[2], 0, 2, out);
    EXPECT_EQ(out[0], 3.0f);
    EXPECT_EQ(out[1], -0.25f);
}

// A zero-sized dimension is legal: the tensor has no elements and reading it touches nothing,
// even when the destination is an empty vector's null data().
TEST(Safetensors, ReadsAnEmptyTensorWithoutTouchingMemory) {
    const auto bytes = raw_image(R"({"e": {"dtype": "F32", "shape": [0, 4], "data_offsets": [0, 0]}})", 0);
    auto file = SafetensorsFile::parse(bytes, "t");
    ASSERT_TRUE(file.is_ok()) << file.message();
    const StTensor& e = file->tensors()[0];
    EXPECT_EQ(e.n_elements(), 0u);
    std::vector<float> none;
    read_floats(e, 0, e.n_elements(), none.data());
    EXPECT_TRUE(none.empty());
}

TEST(Safetensors, RejectsMalformedHeaders) {
    EXPECT_NE(parse_error({1, 2, 3}).find("too short"), std::string::npos);
    std::vector<uint8_t> huge(16, 0);
    huge[0] = 0xff;
    huge[7] = 0x7f;
    EXPECT_NE(parse_error(huge).find("header length"), std::string::npos);
    EXPECT_NE(parse_error(raw_image("[1, 2]", 0)).find("not a JSON object"), std::string::npos);
    EXPECT_NE(parse_error(raw_image("{\"a\": ", 0)).find("not a JSON object"), std::string::npos);
    EXPECT_NE(parse_error(raw_image(R"({"a": {"dtype": "F33", "shape": [1], "data_offsets": [0, 4]}})", 4))
                  .find("unknown dtype"), std::string::npos);
    EXPECT_NE(parse_error(raw_image(R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4))
                  .find("non-size"), std::string::npos);
    EXPECT_NE(parse_error(raw_image(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", 8))
                  .find("need 8"), std::string::npos);
    EXPECT_NE(parse_error(raw_image(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 8))
                  .find("outside"), std::string::npos);
    EXPECT_NE(parse_error(raw_image(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}})", 8))
                  .find("outside"), std::string::npos);
    EXPECT_NE(parse_error(raw_image(R"({"a": {"dtype": "F32", "shape": [1]}})", 8)).find("data_offsets"),
              std::string::npos);
    EXPECT_NE(parse_error(raw_image(R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 4]}})", 8))
                  .find("overflows"), std::string::npos);
    EXPECT_NE(parse_error(raw_image(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12))
                  .find("overlap"), std::string::npos);
    EXPECT_NE(parse_error(raw_image(R"({"__metadata__": {"format": 3}})", 0)).find("not a string"),
              std::string::npos);
    EXPECT_NE(parse_error(raw_image(R"({"a": 5})", 0)).find("not an object"), std::string::npos);
}

TEST(Safetensors, AcceptsEmptyTensorsAndScalars) {
    auto ok = SafetensorsFile::parse(raw_image(R"({"e": {"dtype": "F32", "shape": [0, 4], "data_offsets": [0, 0]},
                                                  "s": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}})", 4), "t");
    ASSERT_TRUE(ok.is_ok()) << ok.message();
    EXPECT_EQ(ok->tensors().size(), 2u);
}

TEST(Safetensors, OpensShardedFolderThroughItsIndex) {
    TempDir dir("shards");
    testing::write_file(dir.path() / "model-00001-of-00002.safetensors", safetensors_bytes({{"x", {2}, {1, 2}}}));
    testing::write_file(dir.path() / "model-00002-of-00002.safetensors",
                        safetensors_bytes({{"y", {1}, {3}}, {"z", {1}, {4}}}));
    testing::write_text(dir.path() / "model.safetensors.index.json",
                        R"({"metadata": {"total_size": 16}, "weight_map": {"x": "model-00001-of-00002.safetensors",
                            "y": "model-00002-of-00002.safetensors", "z": "model-00002-of-00002.safetensors"}})");
    auto model = SafetensorsModel::open_dir(dir.path().string());
    ASSERT_TRUE(model.is_ok()) << model.message();
    EXPECT_EQ(model->size(), 3u);
    ASSERT_NE(model->find("z"), nullptr);
    float v = 0;
    read_floats(*model->find("z"), 0, 1, &v);
    EXPECT_EQ(v, 4.0f);
    EXPECT_EQ(model->all().front()->name, "x");

    testing::write_text(dir.path() / "model.safetensors.index.json",
                        R"({"weight_map": {"x": "model-00001-of-00002.safetensors", "q": "model-00002-of-00002.safetensors"}})");
    auto bad = SafetensorsModel::open_dir(dir.path().string());
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.message().find("'q'"), std::string::npos) << bad.message();

    testing::write_text(dir.path() / "model.safetensors.index.json", R"({"weight_map": {"x": "../x.safetensors"}})");
    bad = SafetensorsModel::open_dir(dir.path().string());
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.message().find("not a file name"), std::string::npos) << bad.message();
}

TEST(Safetensors, FolderWithoutIndexUsesShardsAndRejectsDuplicates) {
    TempDir dir("noindex");
    testing::write_file(dir.path() / "model-00001-of-00002.safetensors", safetensors_bytes({{"x", {1}, {1}}}));
    testing::write_file(dir.path() / "model-00002-of-00002.safetensors", safetensors_bytes({{"x", {1}, {2}}}));
    auto dup = SafetensorsModel::open_dir(dir.path().string());
    ASSERT_FALSE(dup.is_ok());
    EXPECT_NE(dup.message().find("more than one file"), std::string::npos);
    TempDir empty("empty");
    EXPECT_FALSE(SafetensorsModel::open_dir(empty.path().string()).is_ok());
    EXPECT_FALSE(SafetensorsModel::open_dir(empty.file("missing")).is_ok());
}

}  // namespace
}  // namespace rf::hf
