#include "attach/decode_gate.h"

#include <algorithm>

namespace iafs {

DecodeGate::DecodeGate(unsigned slots, uint64_t budget)
    : slots_(std::max(1u, slots)), budget_(budget) {}

DecodeGate::Permit::Permit(DecodeGate& gate, uint64_t bytes) : gate_(gate), bytes_(bytes) {
  std::unique_lock lock(gate_.mutex_);
  uint64_t ticket = gate_.next_ticket_++;
  gate_.changed_.wait(lock, [&] {
    return ticket == gate_.serving_ && gate_.running_ < gate_.slots_ &&
           (gate_.running_ == 0 || gate_.held_ + bytes_ <= gate_.budget_);
  });
  ++gate_.serving_;
  ++gate_.running_;
  gate_.held_ += bytes_;
  lock.unlock();
  gate_.changed_.notify_all();  // the next ticket may fit beside this one
}

DecodeGate::Permit::~Permit() { release(); }

void DecodeGate::Permit::release() {
  if (!held_) return;
  held_ = false;
  {
    std::lock_guard lock(gate_.mutex_);
    --gate_.running_;
    gate_.held_ -= bytes_;
  }
  gate_.changed_.notify_all();
}

unsigned DecodeGate::running() {
  std::lock_guard lock(mutex_);
  return running_;
}

uint64_t DecodeGate::held() {
  std::lock_guard lock(mutex_);
  return held_;
}

}  // namespace iafs
