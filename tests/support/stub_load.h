// StubLoad: a real onedockd (OnedockdProcess) whose stub endpoint is attacked by hostile clients
// of every kind at once (trickling heads, oversized and deeply nested or entity-laden bodies,
// floods without or with a wrong token) while legitimate calls keep being made, through the wire
// a real stub speaks and through the real onedock-stub binary. For stub_bench (figures) and the
// integration tier (bounds). onedockd needs no oned and no engine for the calls it is sent.
#ifndef ONEDOCK_TESTS_SUPPORT_STUB_LOAD_H_
#define ONEDOCK_TESTS_SUPPORT_STUB_LOAD_H_

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "bridge/status.h"

namespace onedock::testing {

struct StubLoadOptions {
  std::string onedockd_bin, stub_bin;
  std::chrono::seconds duration{10};
  int tricklers = 200;         // connections sending a head one byte every 100 ms, back when cut
  int flood_threads = 3;       // per hostile kind
  int legit_threads = 4;       // each making calls one after another
  int stub_binary_calls = 10;  // of them, made by exec'ing onedock-stub
};

struct StubLoadResult {
  int legit_calls = 0;
  int legit_wrong = 0;           // answered, but not with what the call should get
  std::vector<double> legit_ms;  // each legitimate call, connect to answer
  int stub_binary_ok = 0;        // onedock-stub calls that printed and exited as expected
  std::map<std::string, std::map<int, int>> hostile;  // kind -> HTTP status (0: none) -> count
  int trickler_reconnects = 0;
  long rss_before_kb = -1, peak_rss_kb = -1, threads = -1;
  bool alive_after = false;
  std::string log;  // onedockd's log, for a failure message
};

// Starts onedockd in a temporary directory, runs the load for `duration`, stops onedockd.
Result<StubLoadResult> RunStubLoad(const StubLoadOptions& options);

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_SUPPORT_STUB_LOAD_H_
