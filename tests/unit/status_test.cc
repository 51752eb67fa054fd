#include "bridge/status.h"

#include <doctest/doctest.h>

namespace onedock {

TEST_CASE("context reads outer to inner and keeps the code") {
  Status inner = Conflict("409 Conflict: name already in use");
  Status outer = inner.WithContext("create one-42 on host-a").WithContext("deploy vm 42");
  CHECK(outer.code() == Status::Code::kConflict);
  CHECK(outer.message() ==
        "deploy vm 42: create one-42 on host-a: 409 Conflict: name already in use");
  CHECK(outer.ToString() == "conflict: " + outer.message());
  CHECK(Status::Ok().WithContext("x").ok());
}

TEST_CASE("only unavailable and deadline exceeded are retryable") {
  CHECK(Unavailable("x").IsRetryable());
  CHECK(DeadlineExceeded("x").IsRetryable());
  CHECK_FALSE(NotFound("x").IsRetryable());
  CHECK_FALSE(Unauthenticated("x").IsRetryable());
  CHECK_FALSE(Internal("x").IsRetryable());
}

TEST_CASE("a Result holds a value or an error never an OK status without value") {
  Result<int> good = 7;
  REQUIRE(good.ok());
  CHECK(*good == 7);
  Result<int> bad = NotFound("nope");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().code() == Status::Code::kNotFound);
  Result<int> odd = Status::Ok();
  CHECK_FALSE(odd.ok());
  CHECK(odd.status().code() == Status::Code::kInternal);
}

}  // namespace onedock
