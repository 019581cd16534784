// How many decodes of originals run at once, and how many bytes of
// originals they hold in memory together (issue 11, "Memory"): a decode
// copies its original into memory (a resize, a commit's snapshot), so two
// resizes of one 130 MB PNG at once would hold it twice. A decode waits
// while the slots are taken, or while others run and its bytes would take
// the total past the budget; an original over the budget is decoded alone.
// First come, first served: a large original waiting is not overtaken by
// small ones arriving after it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace iafs {

class DecodeGate {
 public:
  // Bytes of originals decoded at once by default, beyond one original.
  static constexpr uint64_t kDefaultBudget = uint64_t{128} << 20;

  DecodeGate(unsigned slots, uint64_t budget = kDefaultBudget);
  DecodeGate(const DecodeGate&) = delete;
  DecodeGate& operator=(const DecodeGate&) = delete;

  // Held for the scope of one decode of an original of `bytes`.
  class Permit {
   public:
    Permit(DecodeGate& gate, uint64_t bytes);
    ~Permit();
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    // Gives the slot and the bytes back before the scope ends (once).
    void release();

   private:
    DecodeGate& gate_;
    uint64_t bytes_;
    bool held_ = true;
  };

  // Decodes running now, and the bytes they hold (for tests and metrics).
  unsigned running();
  uint64_t held();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  const unsigned slots_;
  const uint64_t budget_;
  unsigned running_ = 0;
  uint64_t held_ = 0;
  uint64_t next_ticket_ = 0;  // handed to each entrant, in arrival order
  uint64_t serving_ = 0;      // the ticket that may enter next
};

}  // namespace iafs
