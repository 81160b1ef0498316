// POST /v1/completions and /v1/chat/completions: validate, submit to the scheduler, then relay
// the engine's events as SSE chunks or one JSON body. A client that goes away cancels its
// sequences, which frees their KV blocks at the next engine step.
#include <chrono>
#include <memory>
#include <vector>

#include "core/log.h"
#include "server/http_core.h"
#include "server/json_fields.h"
#include "server/request_parse.h"
#include "server/responses.h"

namespace rf::server {
namespace {

using engine::SequenceEvent;
using namespace std::chrono_literals;

constexpr auto kPollInterval = 50ms;  // how often a waiting response checks its client

double seconds_between(engine::SteadyClock::time_point a, engine::SteadyClock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
}

// One accepted request from submission to its last byte; owned by the response's provider.
class GenerationStream {
public:
    GenerationStream(ServerCore& core, const ServingModel& model, GenerationRequest request,
                     std::shared_ptr<engine::RequestHandle> handle)
        : core_(core), model_(model), request_(std::move(request)), handle_(std::move(handle)),
          guard_(core), choices_(static_cast<size_t>(handle_->n_sequences())),
          last_token_(choices_.size()), got_token_(choices_.size(), false) {
        meta_.chat = request_.chat;
        meta_.id = make_response_id(request_.chat ? "chatcmpl" : "cmpl");
        meta_.model = model_.id;
        meta_.created = unix_now();
        for (const auto& p : request_.prompts) usage_.prompt_tokens += static_cast<int64_t>(p.size());
    }
    ~GenerationStream() {
        if (!handle_->finished()) handle_->cancel();
    }

    bool stream(httplib::DataSink& sink);
    bool whole(httplib::DataSink& sink);

private:
    void observe(const SequenceEvent& ev);
    void append_events(const std::vector<SequenceEvent>& events, std::string& out);
    Json token_logprobs(const SequenceEvent& ev, size_t text_offset) const;
    bool give_up(httplib::DataSink& sink);

    ServerCore& core_;
    const ServingModel& model_;
    GenerationRequest request_;
    std::shared_ptr<engine::RequestHandle> handle_;
    InFlightGuard guard_;
    ResponseMeta meta_;
    Usage usage_;
    std::vector<ChoiceResult> choices_;
    std::vector<engine::SteadyClock::time_point> last_token_;
    std::vector<bool> got_token_;
    std::vector<SequenceEvent> events_;  // scratch
};

// Metrics: time to first token, inter-token latency, request duration, token counts.
void GenerationStream::observe(const SequenceEvent& ev) {
    const size_t i = static_cast<size_t>(ev.index);
    if (ev.kind == SequenceEvent::Kind::kToken) {
        if (!got_token_[i]) core_.metrics.observe_ttft(seconds_between(handle_->submit_time(), ev.time));
        else core_.metrics.observe_itl(seconds_between(last_token_[i], ev.time));
        got_token_[i] = true;
        last_token_[i] = ev.time;
        core_.metrics.add_generated_tokens(1);
    } else if (ev.kind == SequenceEvent::Kind::kFinish && ev.finish != engine::FinishReason::kCancelled) {
        core_.metrics.observe_request(seconds_between(handle_->submit_time(), ev.time));
    }
}

Json GenerationStream::token_logprobs(const SequenceEvent& ev, size_t text_offset) const {
    const TokenLogprobs t{ev.token, ev.logprob, ev.top};
    return logprobs_json(meta_.chat, *model_.tokenizer, std::span<const TokenLogprobs>(&t, 1),
                         text_offset);
}

// Folds events into the choices; when `out` is given (streaming) appends their SSE chunks.
void GenerationStream::append_events(const std::vector<SequenceEvent>& events, std::string& out) {
    const bool streaming = request_.stream;
    const bool usage = request_.include_usage;
    for (const SequenceEvent& ev : events) {
        observe(ev);
        ChoiceResult& c = choices_[static_cast<size_t>(ev.index)];
        switch (ev.kind) {
            case SequenceEvent::Kind::kToken: {
                if (request_.logprobs >= 0) c.logprobs.push_back({ev.token, ev.logprob, ev.top});
                if (streaming && (!ev.text.empty() || request_.logprobs >= 0)) {
                    Json lp = request_.logprobs >= 0 ? token_logprobs(ev, c.text.size()) : Json(nullptr);
                    out += sse_event(stream_chunk(meta_, ev.index, ev.text, false, nullptr,
                                                  std::move(lp), usage));
                }
                c.text += ev.text;
                break;
            }
            case SequenceEvent::Kind::kFinish: {
                c.finished = true;
                c.finish = ev.finish;
                c.text += ev.text;
                usage_.completion_tokens += ev.n_generated;
                if (ev.index % request_.n == 0) usage_.cached_tokens += ev.n_cached;
                if (ev.finish == engine::FinishReason::kCancelled) {
                    c.error = "The server is shutting down; the generation was cut short.";
                }
                if (!streaming) break;
                if (!ev.text.empty()) {
                    out += sse_event(stream_chunk(meta_, ev.index, ev.text, false, nullptr, nullptr, usage));
                }
                if (c.error.empty()) {
                    out += sse_event(stream_chunk(meta_, ev.index, "", false,
                                                  finish_reason_text(ev.finish), nullptr, usage));
                }
                break;
            }
            case SequenceEvent::Kind::kError:
                c.finished = true;
                c.error = ev.error;
                break;
        }
        if (streaming && !c.error.empty() && ev.kind != SequenceEvent::Kind::kToken) {
            ApiError e;
            e.status = 500;
            e.type = "server_error";
            e.message = c.error;
            out += sse_event(error_json(e));
        }
    }
}

// Called while no events arrive: true (after cancelling) when the client has gone away.
bool GenerationStream::give_up(httplib::DataSink& sink) {
    if (sink.is_writable()) return false;
    log::debug("server: client of {} disconnected; cancelling", meta_.id);
    handle_->cancel();
    return true;
}

bool GenerationStream::stream(httplib::DataSink& sink) {
    std::string out;
    if (meta_.chat) {
        for (int32_t i = 0; i < handle_->n_sequences(); ++i) {
            out += sse_event(stream_chunk(meta_, i, "", true, nullptr, nullptr, request_.include_usage));
        }
    }
    while (!handle_->finished()) {
        handle_->wait(kPollInterval, events_);
        append_events(events_, out);
        if (out.empty()) {
            if (give_up(sink)) return false;
            continue;
        }
        if (!sink.write(out.data(), out.size())) {
            handle_->cancel();
            return false;
        }
        out.clear();
    }
    if (request_.include_usage) out += sse_event(usage_chunk(meta_, usage_));
    out += "data: [DONE]\n\n";
    if (!sink.write(out.data(), out.size())) return false;
    sink.done();
    return true;
}

bool GenerationStream::whole(httplib::DataSink& sink) {
    std::string unused;
    while (!handle_->finished()) {
        handle_->wait(kPollInterval, events_);
        append_events(events_, unused);
        if (events_.empty() && give_up(sink)) return false;
    }
    std::string body;
    for (const ChoiceResult& c : choices_) {
        if (!c.error.empty()) {
            ApiError e;
            e.status = 500;
            e.type = "server_error";
            e.message = c.error;
            body = dump_json(error_json(e));
            break;
        }
    }
    if (body.empty()) {
        body = dump_json(full_response(meta_, choices_, usage_, *model_.tokenizer,
                                       request_.logprobs >= 0));
    }
    if (!sink.write(body.data(), body.size())) return false;
    sink.done();
    return true;
}

ApiError submit_error(const engine::Submission& s) {
    ApiError e;
    e.message = s.message;
    switch (s.error) {
        case engine::SubmitError::kQueueFull:
            e.status = 429;
            e.type = "rate_limit_error";
            e.code = "server_busy";
            break;
        case engine::SubmitError::kShuttingDown:
            e.status = 503;
            e.type = "server_error";
            e.code = "shutting_down";
            break;
        default: e.status = 400; break;
    }
    return e;
}

}  // namespace

void handle_generation(ServerCore& core, const httplib::Request&, httplib::Response& res,
                       const std::string& body, bool chat) {
    ServingModel* model = ready_model(core, res);
    if (model == nullptr) return;
    Json json;
    if (auto e = parse_json_body(body, json)) return send_error(res, *e);
    GenerationRequest request;
    if (auto e = parse_generation_request(json, *model, chat, request)) return send_error(res, *e);

    engine::Submission sub = model->scheduler->submit(make_sequences(request));
    if (!sub.handle) {
        if (sub.error == engine::SubmitError::kQueueFull) res.set_header("Retry-After", "1");
        return send_error(res, submit_error(sub));
    }
    for (const auto& p : request.prompts) {
        core.metrics.add_prompt_tokens(p.size() * static_cast<size_t>(request.n));
    }
    const bool streaming = request.stream;
    auto stream = std::make_shared<GenerationStream>(core, *model, std::move(request), std::move(sub.handle));
    // Non-streamed answers also go through a provider: it lets the wait notice a vanished client.
    if (streaming) {
        res.set_header("Cache-Control", "no-cache");
        res.set_header("X-Accel-Buffering", "no");
        res.set_chunked_content_provider("text/event-stream", [stream](size_t, httplib::DataSink& sink) {
            return stream->stream(sink);
        });
    } else {
        res.set_chunked_content_provider("application/json", [stream](size_t, httplib::DataSink& sink) {
            return stream->whole(sink);
        });
    }
}

}  // namespace rf::server
