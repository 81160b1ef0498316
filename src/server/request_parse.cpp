// Field-by-field validation of completions and chat requests.
#include "server/request_parse.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "server/chat_prompt.h"
#include "server/json_fields.h"

namespace rf::server {
namespace {

constexpr int32_t kIntMax = std::numeric_limits<int32_t>::max();

std::optional<ApiError> token_prompt(const Json& ids, const ServingModel& m, std::vector<int32_t>& out) {
    const int32_t n_vocab = m.scheduler->n_vocab();
    out.clear();
    out.reserve(ids.size());
    for (const Json& id : ids) {
        if (!id.is_number_integer()) {
            return invalid_request("a token prompt must hold only integer token ids", "prompt");
        }
        // Positive JSON integers parse as unsigned; clamp them before the signed range check.
        const int64_t v = id.is_number_unsigned()
                              ? static_cast<int64_t>(std::min<uint64_t>(id.get<uint64_t>(), kIntMax))
                              : id.get<int64_t>();
        if (v < 0 || v >= n_vocab) {
            return invalid_request(fmt::format("token id {} in 'prompt' is out of range [0, {})", v,
                                               n_vocab), "prompt");
        }
        out.push_back(static_cast<int32_t>(v));
    }
    return std::nullopt;
}

// `prompt`: a string, an array of strings, an array of token ids, or an array of such arrays.
std::optional<ApiError> parse_prompts(const Json& body, const ServingModel& m,
                                      std::vector<std::vector<int32_t>>& prompts) {
    const Json* it = member(body, "prompt");
    if (it == nullptr || it->is_null()) return invalid_request("'prompt' is required", "prompt");
    const Json& p = *it;
    auto encode = [&](const std::string& text) {
        prompts.push_back(m.tokenizer->encode(text, /*add_special=*/true, /*parse_special=*/true));
    };
    if (p.is_string()) {
        encode(p.get_ref<const std::string&>());
        return std::nullopt;
    }
    if (!p.is_array() || p.empty()) {
        return invalid_request("'prompt' must be a string, an array of strings or an array of "
                               "token ids", "prompt");
    }
    if (p.size() > kMaxPrompts && !p[0].is_number()) {
        return invalid_request(fmt::format("'prompt' holds more than {} prompts", kMaxPrompts), "prompt");
    }
    if (p[0].is_number()) {
        prompts.emplace_back();
        return token_prompt(p, m, prompts.back());
    }
    for (const Json& item : p) {
        if (item.is_string()) {
            encode(item.get_ref<const std::string&>());
        } else if (item.is_array() && !item.empty()) {
            prompts.emplace_back();
            if (auto e = token_prompt(item, m, prompts.back())) return e;
        } else {
            return invalid_request(fmt::format("each 'prompt' entry must be a string or a non-empty "
                                               "array of token ids, not {}", json_type_name(item)),
                                   "prompt");
        }
    }
    return std::nullopt;
}

std::optional<ApiError> check_prompt_lengths(const GenerationRequest& r, const ServingModel& m) {
    const int32_t n_ctx = m.scheduler->n_ctx();
    const char* param = r.chat ? "messages" : "prompt";
    for (size_t i = 0; i < r.prompts.size(); ++i) {
        const size_t n = r.prompts[i].size();
        if (n == 0) return invalid_request("the prompt is empty (it encodes to no tokens)", param);
        if (n >= static_cast<size_t>(n_ctx)) {
            return invalid_request(
                fmt::format("This model's maximum context length is {} tokens, but the prompt{} is "
                            "{} tokens. Shorten the prompt or start the server with a larger "
                            "--ctx-size.", n_ctx, r.prompts.size() > 1 ? fmt::format(" {}", i) : "",
                            n),
                param, "context_length_exceeded");
        }
    }
    return std::nullopt;
}

// logit_bias: {"token id": bias in [-100, 100]}; -100 bans the token.
void parse_logit_bias(FieldReader& f, const Json& body, const ServingModel& m,
                      sampling::SamplerParams& sp) {
    const Json* v = f.ok() ? f.get("logit_bias") : nullptr;
    if (v == nullptr) return;
    if (!v->is_object()) return f.fail("'logit_bias' must be an object mapping token ids to biases", "logit_bias");
    (void)body;
    for (auto it = v->begin(); it != v->end(); ++it) {
        const std::string& key = it.key();
        char* end = nullptr;
        const long id = std::strtol(key.c_str(), &end, 10);
        if (key.empty() || end == nullptr || *end != '\0' || id < 0 || id >= m.scheduler->n_vocab()) {
            return f.fail(fmt::format("'logit_bias' key '{}' is not a token id in [0, {})", key,
                                      m.scheduler->n_vocab()), "logit_bias");
        }
        if (!it.value().is_number() || !std::isfinite(it.value().get<double>()) ||
            std::fabs(it.value().get<double>()) > 100.0) {
            return f.fail(fmt::format("'logit_bias' value for token {} must be a number in "
                                      "[-100, 100]", key), "logit_bias");
        }
        const double bias = it.value().get<double>();
        sp.logit_bias[static_cast<int32_t>(id)] =
            bias <= -100.0 ? -std::numeric_limits<float>::infinity() : static_cast<float>(bias);
    }
}

void parse_sampling(FieldReader& f, const Json& body, const ServingModel& m, GenerationRequest& r) {
    sampling::SamplerParams& sp = r.params.sampling;
    f.number("temperature", sp.temperature, 0.0, 2.0);
    f.number("top_p", sp.top_p, 0.0, 1.0);
    f.integer("top_k", sp.top_k, 0, kIntMax);
    f.number("min_p", sp.min_p, 0.0, 1.0);
    f.number("typical_p", sp.typical_p, 0.0, 1.0);
    f.number("presence_penalty", sp.presence_penalty, -2.0, 2.0);
    f.number("frequency_penalty", sp.frequency_penalty, -2.0, 2.0);
    f.number("repetition_penalty", sp.repeat_penalty, 0.0, 10.0);
    if (f.ok() && sp.repeat_penalty <= 0.0f) f.fail("'repetition_penalty' must be greater than 0", "repetition_penalty");
    f.integer("repeat_last_n", sp.penalty_last_n, -1, kIntMax);
    f.seed("seed", r.seed);
    if (r.seed) sp.seed = *r.seed;
    parse_logit_bias(f, body, m, sp);
}

void parse_common(FieldReader& f, const Json& body, GenerationRequest& r) {
    std::string user;
    f.string("model", r.model, 256);
    f.string("user", user, 1024);
    f.integer("n", r.n, 1, kMaxChoices);
    f.boolean("stream", r.stream);
    if (const Json* so = f.ok() ? f.get("stream_options") : nullptr) {
        if (!so->is_object()) return f.fail("'stream_options' must be an object", "stream_options");
        FieldReader options(*so);
        options.boolean("include_usage", r.include_usage);
        if (!options.ok()) return f.fail("'stream_options.include_usage' must be a boolean",
                                         "stream_options.include_usage");
    }
    f.strings("stop", r.params.stop, kMaxStops, kMaxStopBytes);
    f.boolean("ignore_eos", r.params.ignore_eos);
    (void)body;
}

}  // namespace

std::optional<ApiError> parse_generation_request(const Json& body, const ServingModel& m, bool chat,
                                                 GenerationRequest& r) {
    r = GenerationRequest{};
    r.chat = chat;
    FieldReader f(body);
    parse_common(f, body, r);
    r.params.max_tokens = chat ? -1 : 16;  // OpenAI's defaults: chat runs to the end
    f.integer("max_tokens", r.params.max_tokens, 1, kIntMax);
    if (chat) {
        f.integer("max_completion_tokens", r.params.max_tokens, 1, kIntMax);
        bool logprobs = false;
        int32_t top = 0;
        f.boolean("logprobs", logprobs);
        f.integer("top_logprobs", top, 0, kMaxTopLogprobs);
        if (f.ok() && f.has("top_logprobs") && !logprobs) {
            f.fail("'top_logprobs' requires 'logprobs' to be true", "top_logprobs");
        }
        r.logprobs = logprobs ? top : -1;
    } else {
        f.integer("logprobs", r.logprobs, 0, kMaxTopLogprobs);
        bool echo = false;
        f.boolean("echo", echo);
        if (f.ok() && echo) f.fail("'echo' is not supported", "echo");
    }
    parse_sampling(f, body, m, r);
    if (!f.ok()) return f.error();
    r.params.n_logprobs = r.logprobs;
    if (chat) {
        r.prompts.emplace_back();
        if (auto e = build_chat_prompt(m, body, r.prompts.back())) return e;
    } else if (auto e = parse_prompts(body, m, r.prompts)) {
        return e;
    }
    return check_prompt_lengths(r, m);
}

std::vector<engine::SequenceParams> make_sequences(const GenerationRequest& r) {
    std::vector<engine::SequenceParams> out;
    out.reserve(r.prompts.size() * static_cast<size_t>(r.n));
    uint64_t k = 0;
    for (const auto& prompt : r.prompts) {
        for (int32_t i = 0; i < r.n; ++i, ++k) {
            engine::SequenceParams p = r.params;
            p.prompt = prompt;
            if (r.seed) p.sampling.seed = *r.seed + k;
            out.push_back(std::move(p));
        }
    }
    return out;
}

}  // namespace rf::server
