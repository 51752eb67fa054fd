// REQUIRE_OK / CHECK_OK: a Status or Result that must be ok, with its message in the failure.
#ifndef ONEDOCK_TESTS_SUPPORT_REQUIRE_OK_H_
#define ONEDOCK_TESTS_SUPPORT_REQUIRE_OK_H_

#include <doctest/doctest.h>

#include "bridge/status.h"

namespace onedock::support {

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

}  // namespace onedock::support

#define REQUIRE_OK(expr) REQUIRE_MESSAGE(::onedock::support::StatusOf(expr).ok(), ::onedock::support::StatusOf(expr).ToString())
#define CHECK_OK(expr) CHECK_MESSAGE(::onedock::support::StatusOf(expr).ok(), ::onedock::support::StatusOf(expr).ToString())

#endif  // ONEDOCK_TESTS_SUPPORT_REQUIRE_OK_H_
