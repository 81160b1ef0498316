// JSON builders for completions and chat completions (whole responses and stream chunks).
#include "server/responses.h"

#include <random>

#include <fmt/format.h>

namespace rf::server {
namespace {

Json bytes_json(const std::string& s) {
    Json out = Json::array();
    for (unsigned char c : s) out.push_back(static_cast<int>(c));
    return out;
}

Json chat_logprob_entry(const tok::Tokenizer& tk, int32_t token, float logprob) {
    const std::string piece = tk.token_to_piece(token, /*render_special=*/false);
    Json e = Json::object();
    e["token"] = piece;
    e["logprob"] = logprob;
    e["bytes"] = bytes_json(piece);
    return e;
}

}  // namespace

std::string make_response_id(std::string_view prefix) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return fmt::format("{}-{:016x}{:08x}", prefix, rng(), static_cast<uint32_t>(rng()));
}

const char* finish_reason_text(engine::FinishReason reason) {
    switch (reason) {
        case engine::FinishReason::kLength:
        case engine::FinishReason::kContext: return "length";
        case engine::FinishReason::kStop:
        case engine::FinishReason::kEog:
        case engine::FinishReason::kCancelled: return "stop";
    }
    return "stop";
}

Json usage_json(const Usage& u) {
    Json j = Json::object();
    j["prompt_tokens"] = u.prompt_tokens;
    j["completion_tokens"] = u.completion_tokens;
    j["total_tokens"] = u.prompt_tokens + u.completion_tokens;
    j["prompt_tokens_details"] = Json{{"cached_tokens", u.cached_tokens}};
    return j;
}

Json logprobs_json(bool chat, const tok::Tokenizer& tk, std::span<const TokenLogprobs> tokens,
                   size_t text_offset) {
    if (chat) {
        Json content = Json::array();
        for (const TokenLogprobs& t : tokens) {
            Json e = chat_logprob_entry(tk, t.token, t.logprob);
            Json top = Json::array();
            for (const auto& alt : t.top) top.push_back(chat_logprob_entry(tk, alt.id, alt.logprob));
            e["top_logprobs"] = std::move(top);
            content.push_back(std::move(e));
        }
        Json j = Json::object();
        j["content"] = std::move(content);
        j["refusal"] = nullptr;
        return j;
    }
    Json pieces = Json::array(), lps = Json::array(), tops = Json::array(), offsets = Json::array();
    for (const TokenLogprobs& t : tokens) {
        const std::string piece = tk.token_to_piece(t.token, /*render_special=*/false);
        pieces.push_back(piece);
        lps.push_back(t.logprob);
        Json top = Json::object();
        for (const auto& alt : t.top) top[tk.token_to_piece(alt.id, false)] = alt.logprob;
        tops.push_back(std::move(top));
        offsets.push_back(text_offset);
        text_offset += piece.size();
    }
    Json j = Json::object();
    j["tokens"] = std::move(pieces);
    j["token_logprobs"] = std::move(lps);
    j["top_logprobs"] = std::move(tops);
    j["text_offset"] = std::move(offsets);
    return j;
}

Json full_response(const ResponseMeta& meta, const std::vector<ChoiceResult>& choices,
                   const Usage& usage, const tok::Tokenizer& tk, bool with_logprobs) {
    Json out = Json::object();
    out["id"] = meta.id;
    out["object"] = meta.chat ? "chat.completion" : "text_completion";
    out["created"] = meta.created;
    out["model"] = meta.model;
    Json list = Json::array();
    for (size_t i = 0; i < choices.size(); ++i) {
        const ChoiceResult& c = choices[i];
        Json choice = Json::object();
        choice["index"] = i;
        if (meta.chat) {
            choice["message"] = Json{{"role", "assistant"}, {"content", c.text}};
        } else {
            choice["text"] = c.text;
        }
        choice["logprobs"] = with_logprobs ? logprobs_json(meta.chat, tk, c.logprobs, 0) : Json(nullptr);
        choice["finish_reason"] = finish_reason_text(c.finish);
        list.push_back(std::move(choice));
    }
    out["choices"] = std::move(list);
    out["usage"] = usage_json(usage);
    return out;
}

Json stream_chunk(const ResponseMeta& meta, int32_t index, std::string_view text, bool role_delta,
                  const char* finish, Json logprobs, bool include_usage) {
    Json out = Json::object();
    out["id"] = meta.id;
    out["object"] = meta.chat ? "chat.completion.chunk" : "text_completion";
    out["created"] = meta.created;
    out["model"] = meta.model;
    Json choice = Json::object();
    choice["index"] = index;
    if (meta.chat) {
        Json delta = Json::object();
        if (role_delta) delta["role"] = "assistant";
        if (role_delta || !text.empty()) delta["content"] = std::string(text);
        choice["delta"] = std::move(delta);
    } else {
        choice["text"] = std::string(text);
    }
    choice["logprobs"] = std::move(logprobs);
    choice["finish_reason"] = finish != nullptr ? Json(finish) : Json(nullptr);
    out["choices"] = Json::array({std::move(choice)});
    if (include_usage) out["usage"] = nullptr;
    return out;
}

Json usage_chunk(const ResponseMeta& meta, const Usage& usage) {
    Json out = Json::object();
    out["id"] = meta.id;
    out["object"] = meta.chat ? "chat.completion.chunk" : "text_completion";
    out["created"] = meta.created;
    out["model"] = meta.model;
    out["choices"] = Json::array();
    out["usage"] = usage_json(usage);
    return out;
}

std::string sse_event(const Json& j) { return "data: " + dump_json(j) + "\n\n"; }

}  // namespace rf::server
