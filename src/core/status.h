// Status and Result<T>: how untrusted input reports failure without exceptions or aborts.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace rf {

// An error message, or success. Cheap to return; the message names the field and offset.
class [[nodiscard]] Status {
public:
    Status() = default;
    static Status ok() { return Status(); }
    static Status error(std::string message) { return Status(std::move(message), true); }

    bool is_ok() const { return !failed_; }
    explicit operator bool() const { return !failed_; }
    const std::string& message() const { return message_; }

private:
    Status(std::string message, bool failed) : message_(std::move(message)), failed_(failed) {}
    std::string message_;
    bool failed_ = false;
};

// Formats an error Status: `return rf::error("tensor '{}': bad type {}", name, id);`
template <typename... Args>
Status error(fmt::format_string<Args...> format, Args&&... args) {
    return Status::error(fmt::format(format, std::forward<Args>(args)...));
}

// A value or an error Status. Construct from a T or from an error Status.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::move(value)) {}
    Result(Status status) : state_(std::move(status)) {}

    bool is_ok() const { return std::holds_alternative<T>(state_); }
    explicit operator bool() const { return is_ok(); }

    T& value() & { return std::get<T>(state_); }
    const T& value() const& { return std::get<T>(state_); }
    T&& value() && { return std::get<T>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    Status status() const { return is_ok() ? Status::ok() : std::get<Status>(state_); }
    const std::string& message() const {
        static const std::string kEmpty;
        return is_ok() ? kEmpty : std::get<Status>(state_).message();
    }

private:
    std::variant<T, Status> state_;
};

}  // namespace rf

// Propagates an error Status from an expression returning Status.
#define RF_RETURN_IF_ERROR(expr)                 \
    do {                                         \
        ::rf::Status rf_status_ = (expr);        \
        if (!rf_status_.is_ok()) return rf_status_; \
    } while (0)

#define RF_CONCAT_INNER(a, b) a##b
#define RF_CONCAT(a, b) RF_CONCAT_INNER(a, b)

// `RF_ASSIGN_OR_RETURN(auto x, make_x());` assigns the value or returns the error Status.
#define RF_ASSIGN_OR_RETURN(decl, expr) RF_ASSIGN_OR_RETURN_IMPL(RF_CONCAT(rf_result_, __LINE__), decl, expr)
#define RF_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr) \
    auto tmp = (expr);                            \
    if (!tmp.is_ok()) return tmp.status();        \
    decl = std::move(tmp).value()
