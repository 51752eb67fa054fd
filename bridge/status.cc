#include "bridge/status.h"

namespace onedock {

std::string_view CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "ok";
    case Status::Code::kNotFound:
      return "not found";
    case Status::Code::kConflict:
      return "conflict";
    case Status::Code::kInvalidArgument:
      return "invalid argument";
    case Status::Code::kFailedPrecondition:
      return "failed precondition";
    case Status::Code::kUnavailable:
      return "unavailable";
    case Status::Code::kDeadlineExceeded:
      return "deadline exceeded";
    case Status::Code::kPermissionDenied:
      return "permission denied";
    case Status::Code::kUnauthenticated:
      return "unauthenticated";
    case Status::Code::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace onedock
