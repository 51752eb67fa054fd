// StateListing: when a state round lists the host's containers and when the event stream stands
// in for the listing; and StateTracker::Settled, one of the facts it weighs.
#include "monitor/state_listing.h"

#include <doctest/doctest.h>

#include "monitor/state_tracker.h"

namespace onedock::monitor {
namespace {

using std::chrono::seconds;

const Clock::TimePoint kStart{seconds(1000)};

// A round at `after` the start, on a settled host onedock does not act on, whose stream is
// opening 7.
StateFacts At(seconds after) { return {kStart + after, 7, false, true, false}; }

// A StateListing of relist 30 s whose last listing, at the start, was vouched for: the stream
// was live (opening 7) at the round before it.
StateListing ListedAtStart() {
  StateListing listing(seconds(30));
  REQUIRE(listing.Round(At(seconds(-5))));
  REQUIRE(listing.Round(At(seconds(0))));
  return listing;
}

TEST_CASE("state listing: rounds list until the stream vouches, then at each relist") {
  StateListing listing(seconds(30));
  CHECK(listing.Round(At(seconds(0))));  // the first round lists
  // The stream became live before that listing, but the engine may have subscribed it after:
  // the listing is not vouched for, and the next round lists again.
  CHECK(listing.Round(At(seconds(5))));
  CHECK_FALSE(listing.Round(At(seconds(10))));
  CHECK_FALSE(listing.Round(At(seconds(34))));
  CHECK(listing.Round(At(seconds(35))));  // 30 s since the last listing
  CHECK_FALSE(listing.Round(At(seconds(40))));
}

TEST_CASE("state listing: each thing the stream cannot vouch for makes the round list") {
  auto listing = ListedAtStart();
  StateFacts f = At(seconds(5));

  SUBCASE("nothing: the round goes without") { CHECK_FALSE(listing.Round(f)); }
  SUBCASE("the stream is not live") {
    f.live = 0;
    CHECK(listing.Round(f));
  }
  SUBCASE("the stream broke and opened again since the listing") {
    f.live = 8;
    CHECK(listing.Round(f));
    f.now += seconds(5);
    CHECK(listing.Round(f));  // that listing was not vouched for: the stream opened at it
    f.now += seconds(5);
    CHECK_FALSE(listing.Round(f));
  }
  SUBCASE("an event asked for the round") {
    f.asked = true;
    CHECK(listing.Round(f));
  }
  SUBCASE("the host is not settled") {
    f.settled = false;
    CHECK(listing.Round(f));
  }
  SUBCASE("onedock acts on one of the host's VMs") {
    f.quiet = true;
    CHECK(listing.Round(f));
  }
}

TEST_CASE("state listing: a listing while onedock acted is followed by one after it") {
  auto listing = ListedAtStart();
  StateFacts during = At(seconds(5));
  during.quiet = true;
  CHECK(listing.Round(during));
  CHECK(listing.Round(At(seconds(10))));  // what the action left is reported by this one
  CHECK_FALSE(listing.Round(At(seconds(15))));
}

TEST_CASE("state listing: a stream that opens again vouches from the round after its opening") {
  auto listing = ListedAtStart();
  StateFacts opening = At(seconds(5));
  opening.live = 0;
  CHECK(listing.Round(opening));
  CHECK(listing.Round(opening));
  StateFacts opened = At(seconds(15));
  opened.live = 9;
  CHECK(listing.Round(opened));  // live now, but events before its subscription may be lost
  opened.now += seconds(5);
  CHECK(listing.Round(opened));  // vouched for: the stream was live at the round before
  opened.now += seconds(5);
  CHECK_FALSE(listing.Round(opened));
}

TEST_CASE(
    "state listing: the last listing shows the host for a VM round while nothing it read changed") {
  StateListing first(seconds(30));
  CHECK_FALSE(first.Shows(At(seconds(0))));  // no listing yet
  REQUIRE(first.Round(At(seconds(0))));
  CHECK_FALSE(first.Shows(At(seconds(1))));  // not vouched for: the stream opened at it
  auto listing = ListedAtStart();
  StateFacts f = At(seconds(29));

  SUBCASE("nothing changed: it shows the host, and still does after the rounds without") {
    CHECK(listing.Shows(f));
    CHECK_FALSE(listing.Round(At(seconds(5))));
    CHECK(listing.Shows(f));
    f.asked = true;  // what a state round weighs, and a VM round does not
    f.settled = false;
    CHECK(listing.Shows(f));
  }
  SUBCASE("it began the relist ago") {
    f.now = kStart + seconds(30);
    CHECK_FALSE(listing.Shows(f));
  }
  SUBCASE("an event of the host's containers came since it began") {
    f.events = 1;
    CHECK_FALSE(listing.Shows(f));
  }
  SUBCASE("the stream is not live, or opened again") {
    f.live = 0;
    CHECK_FALSE(listing.Shows(f));
    f.live = 8;
    CHECK_FALSE(listing.Shows(f));
  }
  SUBCASE("onedock acts on one of the host's VMs now, or did when it began") {
    f.quiet = true;
    CHECK_FALSE(listing.Shows(f));
    StateFacts during = At(seconds(5));
    during.quiet = true;
    REQUIRE(listing.Round(during));
    CHECK_FALSE(listing.Shows(At(seconds(6))));
  }
  SUBCASE("a new listing counts the events before it") {
    StateFacts later = At(seconds(30));
    later.events = 4;
    REQUIRE(listing.Round(later));  // the relist
    later.now += seconds(10);
    CHECK(listing.Shows(later));
  }
}

auto Never = [](int) { return false; };

TEST_CASE(
    "state tracker: settled once its repeats are sent, not while a VM is missing or a "
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
