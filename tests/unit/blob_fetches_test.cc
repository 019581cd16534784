// BlobFetches (sync/blob_fetches.h) over a scripted S3 transport: what a
// fetch of another host's original caches from each kind of answer, and
// that a failing fetch fails every read that waits for it.
#include "sync/blob_fetches.h"

#include <criterion/criterion.h>

#include <atomic>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fake_s3.h"
#include "log_stores.h"

using namespace iafs;
using namespace iafs::test;

namespace {

constexpr uint64_t kRange = Store::kRangeBytes;

// Two whole ranges and a short third one, as a string (an answer's body).
std::string large_body(unsigned seed) {
  std::string bytes(2 * kRange + 4321, '\0');
  std::mt19937 rng(seed);
  for (auto& b : bytes) b = static_cast<char>(rng());
  return bytes;
}

std::vector<uint8_t> vector_of(const std::string& s) { return {s.begin(), s.end()}; }

struct Setup {
  std::string body;
  BlobId id{};
  std::unique_ptr<Store> store = log_store();
  Fixture s3;
  sync::BlobFetches fetches{*store, *s3.client};

  explicit Setup(unsigned seed) : body(large_body(seed)) {
    id = sha256_of(vector_of(body));
    apply(*store, entry_after(*store, {attach_op(set_of(1), vector_of(body))}, 5));
  }
  uint64_t cached() {
    auto total = store->cached_bytes();
    cr_assert(total.ok() && total->has_value());
    return **total;
  }
  std::string range_header(uint64_t at, uint64_t length) const {
    return "bytes " + std::to_string(at) + "-" + std::to_string(at + length - 1) + "/" +
           std::to_string(body.size());
  }
};

}  // namespace

Test(blob_fetches, a_ranged_answer_is_stored_as_its_range) {
  Setup s(1);
  s.s3.http.script = {reply(206, s.body.substr(kRange, kRange),
                            {{"content-range", s.range_header(kRange, kRange)}})};
  Status got = s.fetches.fetch(s.id, s.body.size(), kRange + 10, 100);
  cr_assert(got.ok(), "%s", got.ok() ? "" : got.error().message.c_str());
  std::string asked = "bytes=" + std::to_string(kRange) + "-" + std::to_string(2 * kRange - 1);
  cr_assert_str_eq(s.s3.http.header(0, "range")->c_str(), asked.c_str());
  cr_assert(s.cached() == kRange && *s.store->blob_cached(s.id) == false);
}

Test(blob_fetches, an_answer_of_another_range_is_refused) {
  Setup s(2);
  // Asked for the range at 0; answered with the bytes and header of the next.
  s.s3.http.script = {reply(206, s.body.substr(kRange, kRange),
                            {{"content-range", s.range_header(kRange, kRange)}})};
  Status got = s.fetches.fetch(s.id, s.body.size(), 10, 100);
  cr_assert(!got.ok() && got.error().code == ErrorCode::kIo);
  cr_assert(s.cached() == 0, "nothing stored");
}

Test(blob_fetches, a_server_that_ignores_range_has_the_whole_checked_and_cached) {
  Setup s(3);
  s.s3.http.script = {reply(200, s.body, {{"content-length", std::to_string(s.body.size())}})};
  Status got = s.fetches.fetch(s.id, s.body.size(), kRange + 10, 100);
  cr_assert(got.ok(), "%s", got.ok() ? "" : got.error().message.c_str());
  cr_assert(*s.store->blob_cached(s.id), "all of it, checked");
  cr_assert(s.cached() == s.body.size());
}

Test(blob_fetches, a_whole_answer_that_differs_is_never_stored) {
  Setup s(4);
  std::string tampered = s.body;
  tampered[kRange + 3] ^= 1;
  s.s3.http.script = {reply(200, tampered, {{"content-length", std::to_string(s.body.size())}})};
  Status got = s.fetches.fetch(s.id, s.body.size(), kRange + 10, 100);
  cr_assert(!got.ok() && got.error().code == ErrorCode::kIo);
  cr_assert(*s.store->blob_cached(s.id) == false && s.cached() == 0);
}

Test(blob_fetches, a_fetch_that_throws_fails_every_read_waiting_for_it) {
  Setup s(5);
  std::atomic<int> calls{0};
  s.s3.http.before = [&](const HttpRequest&) {
    if (calls++ == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the others wait on it
      throw std::bad_alloc();
    }
  };
  s.s3.http.script = {
      reply(206, s.body.substr(0, kRange), {{"content-range", s.range_header(0, kRange)}})};
  std::vector<std::thread> readers;
  readers.reserve(4);
  std::atomic<int> failed{0};
  std::atomic<int> done{0};
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      if (!s.fetches.fetch(s.id, s.body.size(), 5, 10).ok()) ++failed;
      ++done;
    });
  }
  for (auto& r : readers) r.join();
  cr_assert(done == 4);
  // One GET, which threw: the leader and the three that waited for it fail.
  cr_assert(calls == 1 && failed == 4, "%d GETs, %d reads failed", calls.load(), failed.load());
  // Afterwards a fetch runs anew and succeeds.
  Status again = s.fetches.fetch(s.id, s.body.size(), 5, 10);
  cr_assert(again.ok(), "%s", again.ok() ? "" : again.error().message.c_str());
  cr_assert(s.cached() == kRange);
}
