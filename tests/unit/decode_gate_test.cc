// Unit tests of the decode gate: slots, the bytes budget, an original over
// the budget alone, first come first served.
#include <criterion/criterion.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "attach/decode_gate.h"

using namespace iafs;
using namespace std::chrono_literals;

namespace {

// Waits until `done` holds (the tests' threads block in the gate, so there
// is nothing else to wait on); gives up after 5 s.
template <typename Fn>
bool eventually(Fn done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

// A thread that enters the gate with `bytes`, records its name on entering,
// and leaves once told.
struct Entrant {
  std::atomic<bool> entered{false};
  std::atomic<bool> leave{false};
  std::thread thread;

  Entrant(DecodeGate& gate, uint64_t bytes, std::vector<std::string>* order, std::mutex* mutex,
          const std::string& name) {
    thread = std::thread([this, &gate, bytes, order, mutex, name] {
      DecodeGate::Permit permit(gate, bytes);
      {
        std::lock_guard lock(*mutex);
        order->push_back(name);
      }
      entered = true;
      while (!leave) std::this_thread::sleep_for(1ms);
    });
  }
  void let_go() {
    leave = true;
    thread.join();
  }
};

}  // namespace

Test(decode_gate, slots_bound_the_decodes_running_at_once) {
  DecodeGate gate(2, 1000);
  std::vector<std::string> order;
  std::mutex mutex;
  Entrant a(gate, 1, &order, &mutex, "a"), b(gate, 1, &order, &mutex, "b");
  cr_assert(eventually([&] { return a.entered && b.entered; }));
  Entrant c(gate, 1, &order, &mutex, "c");
  std::this_thread::sleep_for(50ms);
  cr_expect(!c.entered, "a third decode waits for a slot");
  cr_expect_eq(gate.running(), 2u);
  a.let_go();
  cr_expect(eventually([&] { return bool(c.entered); }));
  b.let_go();
  c.let_go();
  cr_expect_eq(gate.running(), 0u);
  cr_expect_eq(gate.held(), 0u);
}

Test(decode_gate, bytes_past_the_budget_wait_and_an_original_over_it_runs_alone) {
  DecodeGate gate(4, 100);
  std::vector<std::string> order;
  std::mutex mutex;
  Entrant a(gate, 60, &order, &mutex, "a");
  cr_assert(eventually([&] { return bool(a.entered); }));
  Entrant b(gate, 60, &order, &mutex, "b");  // 120 > 100: waits for a
  std::this_thread::sleep_for(50ms);
  cr_expect(!b.entered);
  cr_expect_eq(gate.held(), 60u);
  a.let_go();
  cr_assert(eventually([&] { return bool(b.entered); }));
  b.let_go();
  Entrant huge(gate, 500, &order, &mutex, "huge");  // over the budget, alone: it runs
  cr_expect(eventually([&] { return bool(huge.entered); }));
  Entrant small(gate, 1, &order, &mutex, "small");  // 501 > 100: waits for huge
  std::this_thread::sleep_for(50ms);
  cr_expect(!small.entered);
  huge.let_go();
  cr_expect(eventually([&] { return bool(small.entered); }));
  small.let_go();
}

Test(decode_gate, a_large_original_waiting_is_not_overtaken) {
  DecodeGate gate(4, 100);
  std::vector<std::string> order;
  std::mutex mutex;
  Entrant a(gate, 50, &order, &mutex, "a");
  cr_assert(eventually([&] { return bool(a.entered); }));
  Entrant big(gate, 90, &order, &mutex, "big");  // 140 > 100: waits
  std::this_thread::sleep_for(50ms);
  Entrant small(gate, 10, &order, &mutex, "small");  // would fit beside a, but came later
  std::this_thread::sleep_for(50ms);
  cr_expect(!big.entered);
  cr_expect(!small.entered, "a later small decode does not overtake the waiting large one");
  a.let_go();
  cr_assert(eventually([&] { return big.entered && small.entered; }));  // 90 + 10 fit
  big.let_go();
  small.let_go();
  std::vector<std::string> expected{"a", "big", "small"};
  cr_expect(order == expected);
}

// An upload on a bucket gives its permit back once its bytes are stored, and
// waits for the log without it: the next writer enters meanwhile.
Test(decode_gate, a_released_permit_lets_the_next_enter_and_is_given_back_once) {
  DecodeGate gate(1, 1000);
  {
    DecodeGate::Permit first(gate, 600);
    cr_expect_eq(gate.held(), 600u);
    first.release();
    cr_expect_eq(gate.running(), 0u);
    cr_expect_eq(gate.held(), 0u);
    std::vector<std::string> order;
    std::mutex mutex;
    Entrant next(gate, 700, &order, &mutex, "next");
    cr_expect(eventually([&] { return bool(next.entered); }), "the slot is free again");
    cr_expect_eq(gate.held(), 700u);
    first.release();  // again, and at the scope's end: nothing more is given back
    cr_expect_eq(gate.running(), 1u);
    next.let_go();
  }
  cr_expect_eq(gate.running(), 0u);
  cr_expect_eq(gate.held(), 0u);
}
