#include "bridge/base64.h"

#include <doctest/doctest.h>

namespace onedock {

TEST_CASE("base64 round trips every length and byte") {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    data.push_back(static_cast<char>(i * 37));
    for (auto alphabet : {Base64Alphabet::kStandard, Base64Alphabet::kUrl}) {
      auto back = Base64Decode(Base64Encode(data, alphabet), alphabet);
      REQUIRE(back.ok());
      CHECK(*back == data);
    }
  }
}

TEST_CASE("base64 known vectors") {
  CHECK(Base64Encode("{}") == "e30=");
  CHECK(Base64Encode("foob") == "Zm9vYg==");
  CHECK(Base64Encode("\xfb\xff", Base64Alphabet::kUrl) == "-_8=");
  CHECK(Base64Encode("\xfb\xff") == "+/8=");
  CHECK(*Base64Decode("PFZNPjwvVk0+") == "<VM></VM>");
  CHECK(*Base64Decode("PFZN\nPjwv\r\nVk0+") == "<VM></VM>");  // wrapped input
}

TEST_CASE("base64 rejects malformed input") {
  for (const char* bad : {"Zm9", "Zm9v!", "Zm==Zm==", "Z===", "Zh==", "-_8="}) {
    auto r = Base64Decode(bad);
    CAPTURE(bad);
    CHECK_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kInvalidArgument);
  }
}

}  // namespace onedock
