// Parsing of the shared tokenizer vector files.
#include "test_vectors.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace rf::tok::testing {
namespace {

constexpr std::string_view kSeparator = "\n__ggml_vocab_test__\n";

bool read_file(const std::filesystem::path& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream buffer;
    buffer << in.rdbuf();
    out = buffer.str();
    return true;
}

std::vector<std::string> split_cases(const std::string& inp) {
    std::vector<std::string> cases;
    size_t start = 0;
    while (true) {
        const size_t sep = inp.find(kSeparator, start);
        if (sep == std::string::npos) {
            if (start < inp.size()) cases.push_back(inp.substr(start));  // no final separator
            break;
        }
        cases.push_back(inp.substr(start, sep - start));
        start = sep + kSeparator.size();
    }
    return cases;
}

std::vector<std::vector<int32_t>> parse_ids(const std::string& out) {
    std::vector<std::vector<int32_t>> lines;
    std::istringstream stream(out);
    std::string line;
    while (std::getline(stream, line)) {
        std::istringstream words(line);
        std::vector<int32_t> ids;
        int64_t id = 0;
        while (words >> id) ids.push_back(static_cast<int32_t>(id));
        lines.push_back(std::move(ids));
    }
    return lines;
}

}  // namespace

std::filesystem::path shared_vocab_dir() {
    const std::filesystem::path dir = std::filesystem::path(RF_SHARED_TESTDATA) / "vocab";
    std::error_code ec;
    return std::filesystem::is_directory(dir, ec) ? dir : std::filesystem::path();
}

std::vector<VectorFile> load_vector_files(const std::filesystem::path& dir) {
    std::vector<VectorFile> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::filesystem::path path = entry.path();
        if (path.extension() != ".gguf") continue;
        VectorFile file;
        file.gguf = path;
        std::string inp, out;
        if (!read_file(path.string() + ".inp", inp) || !read_file(path.string() + ".out", out)) {
            continue;  // a vocabulary without vectors
        }
        const std::vector<std::string> texts = split_cases(inp);
        const std::vector<std::vector<int32_t>> ids = parse_ids(out);
        if (texts.size() != ids.size()) {
            file.error = "case count mismatch: " + std::to_string(texts.size()) + " inputs, " +
                         std::to_string(ids.size()) + " outputs";
        } else {
            for (size_t i = 0; i < texts.size(); ++i) file.cases.push_back({texts[i], ids[i]});
        }
        files.push_back(std::move(file));
    }
    std::sort(files.begin(), files.end(),
              [](const VectorFile& a, const VectorFile& b) { return a.gguf < b.gguf; });
    return files;
}

}  // namespace rf::tok::testing
