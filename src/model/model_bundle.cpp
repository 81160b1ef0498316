// Opening a model file with its tokenizer and chat template on a backend.
#include "model/model_bundle.h"

#include <algorithm>
#include <chrono>

#include "backend/select/device_select.h"
#include "core/log.h"
#include "engine/context.h"
#include "gguf/gguf_file.h"
#include "model/default_model.h"
#include "model/loader.h"
#include "model/offload.h"

namespace rf::model {
namespace {

// The GPU backend `b.backend` takes the first layers, as many as --gpu-layers asks or (auto) as
// fit its free memory; the rest go to a CPU backend created here.
Placement place_layers(const gguf::GgufFile& file, const HParams& hp, const OpenOptions& options,
                       int gpu_index, const GpuLayersRequest& request, ModelBundle& b) {
    int32_t n_gpu = hp.n_layer;
    if (request.kind == GpuLayersRequest::Kind::kCount) {
        n_gpu = std::min(request.count, hp.n_layer);
    } else if (request.kind == GpuLayersRequest::Kind::kAuto) {
        const int64_t kv_tokens =
            options.kv_tokens > 0 ? options.kv_tokens : engine::default_n_ctx(hp.n_ctx_train);
        const int64_t kv_width = int64_t{hp.n_head_kv} * (hp.head_dim_k + hp.head_dim_v);
        const OffloadEstimate estimate = estimate_offload(file, hp.n_layer, kv_tokens, kv_width);
        auto free_bytes = backend::gpu_free_bytes(gpu_index);
        n_gpu = free_bytes.is_ok() ? layers_that_fit(estimate, free_bytes.value()) : hp.n_layer;
        if (free_bytes.is_ok() && n_gpu < hp.n_layer) {
            log::info("{} MiB of GPU memory free: {} of {} layers fit (--gpu-layers to choose)",
                      free_bytes.value() >> 20, n_gpu, hp.n_layer);
        }
    }
    if (n_gpu == hp.n_layer) return Placement::single(*b.backend, hp.n_layer);
    b.cpu_backend = backend::create_cpu_backend(options.n_threads);
    return Placement::split(*b.backend, *b.cpu_backend, n_gpu, hp.n_layer);
}

}  // namespace

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
    RF_ASSIGN_OR_RETURN(GpuLayersRequest gpu_layers, parse_gpu_layers(options.gpu_layers));
    RF_ASSIGN_OR_RETURN(b.backend, backend::create_backend(device));
    Result<std::unique_ptr<engine::Model>> model = error("not loaded");
    if (b.backend->name() == "CPU") {
        model = load_model(file.value(), *b.backend);
    } else {
        model = load_model(file.value(), [&](const HParams& hp) {
            return place_layers(*file, hp, options, device.gpu_index, gpu_layers, b);
        });
    }
    if (!model && device.kind == backend::DeviceKind::kAuto && b.backend->name() != "CPU") {
        log::info("the model did not load on {} ({}); running on the CPU", b.backend->name(),
                  model.message());
        b.cpu_backend.reset();
        b.backend = backend::create_cpu_backend(options.n_threads);
        model = load_model(file.value(), *b.backend);
    }
    if (!model) return error("{}: {}", b.path, model.message());
    b.model = std::move(model).value();
    b.load_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double gib =
        static_cast<double>(b.model->info().weight_bytes) / (1024.0 * 1024.0 * 1024.0);
    log::info("load: {:.2f} s for {:.2f} GiB of weights ({:.2f} GiB/s) on {}", b.load_seconds, gib,
              gib / std::max(b.load_seconds, 1e-9), b.model->placement());
    return b;
}

}  // namespace rf::model
