// Status and Result<T>: the one error vocabulary shared by every onedock library. Errors from
// libcurl, HTTP, xmlrpc-c or SQLite are converted into it once, at the boundary where they occur;
// each layer above adds its context once, so a message reads outer to inner.
// Plain values: thread-compatible, no shared state.
#ifndef ONEDOCK_BRIDGE_STATUS_H_
#define ONEDOCK_BRIDGE_STATUS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace onedock {

class Status {
 public:
  enum class Code {
    kOk,
    kNotFound,            // the object does not exist (HTTP 404)
    kConflict,            // the object exists or is in a state that forbids the call (409)
    kInvalidArgument,     // the request itself is wrong (400, malformed input)
    kFailedPrecondition,  // the peer refused for a reason of its own state (e.g. engine 403)
    kUnavailable,         // the peer cannot be reached or is overloaded; retrying may help
    kDeadlineExceeded,    // no answer in time; retrying may help
    kPermissionDenied,    // policy refused the request
    kUnauthenticated,     // TLS or credentials failed: wrong CA, refused client certificate
    kInternal,            // the peer failed (500) or an invariant broke
  };

  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // True when the same call may succeed later without anything changing on our side.
  bool IsRetryable() const {
    return code_ == Code::kUnavailable || code_ == Code::kDeadlineExceeded;
  }

  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    return Status(code_, std::string(context) + ": " + message_);
  }

  // "not found: <message>", for logs and for the text handed to OpenNebula.
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view CodeName(Status::Code code);

inline Status NotFound(std::string m) { return {Status::Code::kNotFound, std::move(m)}; }
inline Status Conflict(std::string m) { return {Status::Code::kConflict, std::move(m)}; }
inline Status InvalidArgument(std::string m) {
  return {Status::Code::kInvalidArgument, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {Status::Code::kFailedPrecondition, std::move(m)};
}
inline Status Unavailable(std::string m) { return {Status::Code::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) {
  return {Status::Code::kDeadlineExceeded, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {Status::Code::kPermissionDenied, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {Status::Code::kUnauthenticated, std::move(m)};
}
inline Status Internal(std::string m) { return {Status::Code::kInternal, std::move(m)}; }

// Either a value or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {
    if (status_.ok()) status_ = Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_STATUS_H_
