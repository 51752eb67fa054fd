// The main of every test tier: initialises libcurl once and fails a run in which no test case
// executed (a filter that matched nothing must not count as a pass under CTest).
#ifndef ONEDOCK_TESTS_DOCTEST_MAIN_H_
#define ONEDOCK_TESTS_DOCTEST_MAIN_H_

#define DOCTEST_CONFIG_IMPLEMENT
#include <curl/curl.h>
#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>

namespace onedock::testing {

inline std::atomic<int> test_cases_started{0};

struct CountingListener : doctest::IReporter {
  explicit CountingListener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData&) override { ++test_cases_started; }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("counting", 1, CountingListener);

}  // namespace onedock::testing

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  doctest::Context context(argc, argv);
  const int rc = context.run();
  curl_global_cleanup();
  if (context.shouldExit()) return rc;  // --help, --list-test-cases and the like
  if (rc == 0 && onedock::testing::test_cases_started == 0) {
    std::fprintf(stderr, "no test case matched: failing the run\n");
    return 1;
  }
  return rc;
}

#endif  // ONEDOCK_TESTS_DOCTEST_MAIN_H_
