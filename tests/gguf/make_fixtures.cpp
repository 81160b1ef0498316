// Regenerates the committed GGUF corpora: `gguf_make_fixtures MALFORMED_DIR [SEED_DIR]` writes
// tests/fixtures/gguf/malformed/*.gguf and the fuzzer's seed corpus (fuzz/corpus/gguf/).
#include <cstdio>
#include <fstream>
#include <string>

#include "malformed_cases.h"
#include "raw_gguf.h"
#include "sample_files.h"

namespace {

bool write(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return static_cast<bool>(out);
}

bool write_seeds(const std::string& dir) {
    using namespace rf::gguf::testing;
    bool ok = write(dir + "/metadata_every_type.gguf", metadata_sample().write_to_memory());
    ok &= write(dir + "/model_sample.gguf", model_sample().write_to_memory());
    ok &= write(dir + "/model_sample_align64.gguf", model_sample(64).write_to_memory());
    RawGguf v2;
    v2.header(2, 1, 1)
        .kv_str("general.architecture", "llama")
        .tensor("s", {}, 0, 0)
        .pad_to(32)
        .f32(1);
    ok &= write(dir + "/version2_scalar.gguf", v2.bytes());
    for (const MalformedCase& c : malformed_cases()) {
        ok &= write(dir + "/malformed_" + c.name + ".gguf", c.bytes);
    }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: %s MALFORMED_DIR [SEED_DIR]\n", argv[0]);
        return 2;
    }
    bool ok = true;
    for (const rf::gguf::testing::MalformedCase& c : rf::gguf::testing::malformed_cases()) {
        ok &= write(std::string(argv[1]) + "/" + c.name + ".gguf", c.bytes);
    }
    if (argc == 3) ok &= write_seeds(argv[2]);
    return ok ? 0 : 1;
}
