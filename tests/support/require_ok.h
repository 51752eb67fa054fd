// REQUIRE_OK / CHECK_OK: a Status or Result that must be ok, with its message in the failure.
#ifndef ONEDOCK_TESTS_SUPPORT_REQUIRE_OK_H_
#define ONEDOCK_TESTS_SUPPORT_REQUIRE_OK_H_

#include <doctest/doctest.h>

#include "bridge/status.h"

namespace onedock::testing {

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

}  // namespace onedock::testing

#define REQUIRE_OK(expr)                                   \
  REQUIRE_MESSAGE(::onedock::testing::StatusOf(expr).ok(), \
                  ::onedock::testing::StatusOf(expr).ToString())
#define CHECK_OK(expr)                                   \
  CHECK_MESSAGE(::onedock::testing::StatusOf(expr).ok(), \
                ::onedock::testing::StatusOf(expr).ToString())

#endif  // ONEDOCK_TESTS_SUPPORT_REQUIRE_OK_H_
