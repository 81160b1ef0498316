// Opening a model file with its tokenizer and chat template on a backend.
#include "model/model_bundle.h"

#include <chrono>

#include "backend/select/device_select.h"
#include "core/log.h"
#include "gguf/gguf_file.h"
#include "model/default_model.h"
#include "model/loader.h"

namespace rf::model {

Result<ModelBundle> open_model(const std::string& path, const OpenOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    ModelBundle b;
    if (path.empty()) {
        RF_ASSIGN_OR_RETURN(b.path, find_default_model());
    } else {
        b.path = path;
    }
    auto file = gguf::GgufFile::open(b.path);
    if (!file) return error("{}: {}", b.path, file.message());
    if (file->find("tokenizer.ggml.model") != nullptr) {
        auto tokenizer = tok::Tokenizer::from_gguf(*file);
        if (!tokenizer) return error("{}: tokenizer: {}", b.path, tokenizer.message());
        b.tokenizer = std::make_unique<tok::Tokenizer>(std::move(tokenizer).value());
    }
    auto tmpl = file->get_string_opt("tokenizer.chat_template");
    if (tmpl && tmpl.value()) b.chat_template = *tmpl.value();
    backend::DeviceOptions base;
    base.n_threads = options.n_threads;
    RF_ASSIGN_OR_RETURN(backend::DeviceOptions device, backend::parse_device(options.device, base));
    RF_ASSIGN_OR_RETURN(b.backend, backend::create_backend(device));
    auto model = load_model(file.value(), *b.backend);
    if (!model && device.kind == backend::DeviceKind::kAuto && b.backend->name() != "CPU") {
        log::info("the model did not load on {} ({}); running on the CPU", b.backend->name(), model.message());
        b.backend = backend::create_cpu_backend(options.n_threads);
        model = load_model(file.value(), *b.backend);
    }
    if (!model) return error("{}: {}", b.path, model.message());
    b.model = std::move(model).value();
    b.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return b;
}

}  // namespace rf::model
