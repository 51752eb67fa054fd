// StateListing: when a state round lists the host's containers and when the event stream stands
// in for the listing; and StateTracker::Settled, one of the facts it weighs.
#include <doctest/doctest.h>

#include "monitor/state_listing.h"
#include "monitor/state_tracker.h"

namespace onedock::monitor {
namespace {

using std::chrono::seconds;

const Clock::TimePoint kStart{seconds(1000)};

// A round at `after` the start, on a settled, quiet host whose stream is opening 7.
StateFacts At(seconds after) { return {kStart + after, 7, false, true, false}; }

// A StateListing of relist 30 s whose last listing began at the start, with At's facts.
StateListing ListedAtStart() {
  StateListing listing(seconds(30));
  listing.Listed(At(seconds(0)));
  return listing;
}

TEST_CASE("state listing: the first round lists, then a live stream stands in until the relist") {
  StateListing listing(seconds(30));
  CHECK(listing.Due(At(seconds(0))));
  listing.Listed(At(seconds(0)));
  CHECK_FALSE(listing.Due(At(seconds(5))));
  CHECK_FALSE(listing.Due(At(seconds(29))));
  CHECK(listing.Due(At(seconds(30))));
  listing.Listed(At(seconds(30)));
  CHECK_FALSE(listing.Due(At(seconds(35))));
}

TEST_CASE("state listing: each thing the stream cannot vouch for makes the round list") {
  const auto listing = ListedAtStart();
  StateFacts f = At(seconds(5));
  REQUIRE_FALSE(listing.Due(f));

  SUBCASE("the stream is not live") {
    f.live = 0;
    CHECK(listing.Due(f));
  }
  SUBCASE("the stream broke and opened again since the listing") {
    f.live = 8;
    CHECK(listing.Due(f));
  }
  SUBCASE("an event asked for the round") {
    f.asked = true;
    CHECK(listing.Due(f));
  }
  SUBCASE("the host is not settled") {
    f.settled = false;
    CHECK(listing.Due(f));
  }
  SUBCASE("onedock acts on one of the host's VMs") {
    f.quiet = true;
    CHECK(listing.Due(f));
  }
}

TEST_CASE("state listing: a listing while onedock acted is followed by one after it") {
  StateListing listing(seconds(30));
  StateFacts during = At(seconds(0));
  during.quiet = true;
  listing.Listed(during);
  CHECK(listing.Due(At(seconds(5))));  // what the action left is reported by this one
  listing.Listed(At(seconds(5)));
  CHECK_FALSE(listing.Due(At(seconds(10))));
}

TEST_CASE("state listing: a stream not live at the listing does not vouch for what followed") {
  StateListing listing(seconds(30));
  StateFacts opening = At(seconds(0));
  opening.live = 0;
  listing.Listed(opening);
  CHECK(listing.Due(At(seconds(5))));  // live now, but events before its opening may be lost
  listing.Listed(At(seconds(5)));
  CHECK_FALSE(listing.Due(At(seconds(10))));
}

auto Never = [](int) { return false; };

TEST_CASE("state tracker: settled once its repeats are sent, not while a VM is missing or a "
          "complete report is wanted") {
  StateTracker tracker(2, 3);
  CHECK_FALSE(tracker.Settled());  // its first round is a complete report
  tracker.Round({{1, "one-1", "RUNNING"}}, Never, false);
  CHECK_FALSE(tracker.Settled());  // the state is repeated for oned's guard
  tracker.Round({{1, "one-1", "RUNNING"}}, Never, false);
  tracker.Round({{1, "one-1", "RUNNING"}}, Never, false);
  CHECK(tracker.Settled());

  tracker.Event({1, "one-1", "POWEROFF"}, false);
  CHECK_FALSE(tracker.Settled());  // an event's state is repeated by the rounds
  tracker.Round({{1, "one-1", "POWEROFF"}}, Never, false);
  tracker.Round({{1, "one-1", "POWEROFF"}}, Never, false);
  CHECK(tracker.Settled());

  tracker.Round({}, Never, false);
  CHECK_FALSE(tracker.Settled());  // VM 1 is counted missing
  tracker.Round({{1, "one-1", "POWEROFF"}}, Never, false);
  CHECK(tracker.Settled());

  tracker.RequestSync();
  CHECK_FALSE(tracker.Settled());
}

}  // namespace
}  // namespace onedock::monitor
