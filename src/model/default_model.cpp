// Finding models/default.gguf relative to the executable, the install prefix and the source tree.
#include "model/default_model.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace rf::model {
namespace fs = std::filesystem;

std::vector<std::string> default_model_candidates() {
    std::vector<std::string> out;
    if (const char* env = std::getenv("ROCMFORGE_DEFAULT_MODEL"); env != nullptr && *env != '\0') {
        out.emplace_back(env);
    }
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        // <dir>/models, then each parent up to 4 levels (build/<preset>/apps/rocmforge/...).
        fs::path dir = exe.parent_path();
        for (int up = 0; up < 5 && !dir.empty(); ++up) {
            out.push_back((dir / "models" / "default.gguf").string());
            if (up == 1) out.push_back((dir / "share" / "rocmforge" / "default.gguf").string());
            if (dir == dir.parent_path()) break;
            dir = dir.parent_path();
        }
    }
#ifdef RF_INSTALL_DATADIR
    out.push_back(std::string(RF_INSTALL_DATADIR) + "/default.gguf");
#endif
#ifdef RF_MODELS_SOURCE_DIR
    out.push_back(std::string(RF_MODELS_SOURCE_DIR) + "/default.gguf");
#endif
    return out;
}

Result<std::string> find_default_model() {
    const auto candidates = default_model_candidates();
    for (const auto& c : candidates) {
        std::error_code ec;
        if (fs::is_regular_file(c, ec)) return c;
    }
    std::string where;
    for (const auto& c : candidates) where += "\n  " + c;
    return error("no model given (-m) and the default model models/default.gguf was not found; "
                 "looked in:{}", where);
}

}  // namespace rf::model
