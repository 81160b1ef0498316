// Logit fidelity against Hugging Face transformers: each fixture folder (a tiny random-weight model
// saved by scripts/hf_fixtures.py with the logits transformers computed) is converted with our
// converter, run by our engine on the CPU backend, and compared position by position.
//   F32 weights: max |dlogit| <= 1e-3 * max |logit|, and the same greedy 32-token continuation.
//   F16 weights: max |dlogit| <= 1e-2 * max |logit| (fp16 rounding of every weight and of the KV
//   cache); the greedy continuation must agree until a step where transformers' own top-2 margin
//   is within that bound (a tie at fp16 precision), after which the sequences may differ.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "backend/cpu/backend_cpu.h"
#include "engine/context.h"
#include "gguf/gguf_file.h"
#include "hf/converter.h"
#include "model/loader.h"
#include "sampling/sampler.h"

namespace rf::hf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using quant::GgmlType;

constexpr double kF32Tolerance = 1e-3;
constexpr double kF16Tolerance = 1e-2;

struct Fixture {
    std::vector<std::vector<int32_t>> prompts;
    std::vector<std::vector<int32_t>> continuations;
    std::vector<std::vector<double>> margins;  // transformers' top-1 minus top-2 logit per step
    std::vector<std::vector<float>> logits;    // per prompt: [n_tokens * n_vocab]
    int32_t n_vocab = 0;
};

Fixture load_fixture(const fs::path& dir) {
    std::ifstream in(dir / "fixture.json");
    const json j = json::parse(in);
    Fixture f;
    f.prompts = j["prompts"].get<std::vector<std::vector<int32_t>>>();
    f.continuations = j["continuations"].get<std::vector<std::vector<int32_t>>>();
    f.margins = j["top2_margins"].get<std::vector<std::vector<double>>>();
    f.n_vocab = j["n_vocab"].get<int32_t>();
    std::ifstream bin(dir / j["logits_file"].get<std::string>(), std::ios::binary);
    for (const auto& p : f.prompts) {
        std::vector<float> l(p.size() * static_cast<size_t>(f.n_vocab));
        bin.read(reinterpret_cast<char*>(l.data()), static_cast<std::streamsize>(l.size() * sizeof(float)));
        f.logits.push_back(std::move(l));
    }
    EXPECT_TRUE(bin.good()) << "short logits file in " << dir;
    return f;
}

struct Engine {
    std::vector<uint8_t> bytes;  // the converted GGUF; outlives the model
    std::unique_ptr<cpu::CpuBackend> backend;
    std::unique_ptr<engine::Model> model;
};

Result<std::unique_ptr<Engine>> convert_and_load(const fs::path& dir, GgmlType type) {
    ConvertOptions options;
    options.type = type;
    RF_ASSIGN_OR_RETURN(HfConversion conv, HfConversion::prepare(dir.string(), options));
    auto e = std::make_unique<Engine>();
    e->bytes = conv.writer().write_to_memory();
    e->backend = std::make_unique<cpu::CpuBackend>(2);
    RF_ASSIGN_OR_RETURN(gguf::GgufFile file, gguf::GgufFile::parse(e->bytes));
    RF_ASSIGN_OR_RETURN(e->model, model::load_model(std::move(file), *e->backend));
    return e;
}

void check_arch(const std::string& name, GgmlType type) {
    const fs::path dir = fs::path(RF_FIXTURES_DIR) / "hf" / name;
    const Fixture fx = load_fixture(dir);
    auto eng = convert_and_load(dir, type);
    ASSERT_TRUE(eng.is_ok()) << eng.message();
    const bool f32 = type == GgmlType::kF32;
    const double tol = f32 ? kF32Tolerance : kF16Tolerance;

    double worst_rel = 0.0;
    for (size_t p = 0; p < fx.prompts.size(); ++p) {
        const auto& prompt = fx.prompts[p];
        engine::ContextParams cp;
        cp.n_ctx = 128;
        cp.block_size = 8;
        cp.kv_type = f32 ? GgmlType::kF32 : GgmlType::kF16;
        auto ctx = engine::Context::create(*(*eng)->model, cp);
        ASSERT_TRUE(ctx.is_ok()) << ctx.message();

        // Prefill: every position's logits against transformers'.
        engine::Batch batch;
        for (size_t i = 0; i < prompt.size(); ++i) batch.add(prompt[i], 0, static_cast<int32_t>(i), true);
        auto logits = (*ctx)->decode(batch);
        ASSERT_TRUE(logits.is_ok()) << logits.message();
        ASSERT_EQ(logits->size(), fx.logits[p].size());
        double max_ref = 0.0, max_err = 0.0;
        for (size_t i = 0; i < logits->size(); ++i) {
            max_ref = std::max(max_ref, std::fabs(static_cast<double>(fx.logits[p][i])));
            max_err = std::max(max_err, std::fabs(static_cast<double>((*logits)[i] - fx.logits[p][i])));
        }
        worst_rel = std::max(worst_rel, max_err / max_ref);
        EXPECT_LE(max_err, tol * max_ref) << name << " prompt " << p << ": max |dlogit| " << max_err
                                          << ", max |logit| " << max_ref;

        // Greedy continuation, one decode step per token, through the sampler at temperature 0.
        sampling::SamplerParams sp;
        sp.temperature = 0.0f;
        sampling::Sampler sampler(sp);
        std::vector<int32_t> history = prompt;
        const auto n_vocab = static_cast<size_t>(fx.n_vocab);
        std::span<const float> last = logits->subspan(logits->size() - n_vocab, n_vocab);
        for (size_t step = 0; step < fx.continuations[p].size(); ++step) {
            const int32_t token = sampler.sample(last, history);
            const int32_t want = fx.continuations[p][step];
            if (token != want) {
                const double margin = fx.margins[p][step];
                EXPECT_FALSE(f32) << name << " prompt " << p << ": greedy step " << step << " gave " << token
                                  << ", transformers " << want << " (its top-2 margin " << margin << ")";
                EXPECT_LE(margin, tol * max_ref) << name << " prompt " << p << ": f16 greedy diverged at step "
                                                 << step << " where transformers' margin " << margin
                                                 << " is not a near-tie";
                std::printf("  %s f16 prompt %zu: greedy diverges at step %zu, a near-tie (margin %.4f)\n",
                            name.c_str(), p, step, margin);
                break;
            }
            history.push_back(token);
            engine::Batch next;
            next.add(token, 0, static_cast<int32_t>(history.size() - 1), true);
            auto step_logits = (*ctx)->decode(next);
            ASSERT_TRUE(step_logits.is_ok()) << step_logits.message();
            last = *step_logits;
        }
    }
    std::printf("  %-12s %s: max |dlogit| / max |logit| = %.2e (bound %.0e)\n", name.c_str(),
                f32 ? "f32" : "f16", worst_rel, tol);
}

class HfLogits : public ::testing::TestWithParam<std::string> {};

TEST_P(HfLogits, F32MatchesTransformers) { check_arch(GetParam(), GgmlType::kF32); }
TEST_P(HfLogits, F16MatchesTransformers) { check_arch(GetParam(), GgmlType::kF16); }

INSTANTIATE_TEST_SUITE_P(Architectures, HfLogits,
                         ::testing::Values("llama", "llama3_rope", "mistral", "qwen2", "qwen3", "qwen3moe",
                                           "mixtral"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

}  // namespace
}  // namespace rf::hf
