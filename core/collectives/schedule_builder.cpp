#include "collectives/schedule_builder.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace dpb::detail {

void validate_shape(const ScheduleShape& shape) {
  if (shape.ranks < 1) {
    throw std::invalid_argument("schedule: ranks must be at least 1 (got " + std::to_string(shape.ranks) + ")");
  }
  if (shape.chunk_elems < 1) throw std::invalid_argument("schedule: chunk_elems must be at least 1");
  if (shape.slots < 1) {
    throw std::invalid_argument("schedule: slots must be at least 1 (got " + std::to_string(shape.slots) + ")");
  }
}

ScheduleBuilder::ScheduleBuilder(std::string algorithm, const ScheduleShape& shape) {
  validate_shape(shape);
  schedule_.algorithm = std::move(algorithm);
  schedule_.shape = shape;
  schedule_.steps.resize(static_cast<std::size_t>(shape.ranks));
  schedule_.scratch_elems.assign(static_cast<std::size_t>(shape.ranks), 0);
}

int ScheduleBuilder::new_signal(int owner) {
  schedule_.signal_owner.push_back(owner);
  records_.push_back(0);
  return static_cast<int>(schedule_.signal_owner.size()) - 1;
}

SignalRef ScheduleBuilder::record(int rank, int signal) {
  const auto s = static_cast<std::size_t>(signal);
  if (schedule_.signal_owner.at(s) != rank) {
    throw ScheduleError("schedule builder: rank " + std::to_string(rank) + " records signal " +
                        std::to_string(signal) + " owned by rank " + std::to_string(schedule_.signal_owner[s]));
  }
  Step step;
  step.kind = StepKind::record;
  step.signal = signal;
  step.generation = ++records_[s];
  schedule_.steps[static_cast<std::size_t>(rank)].push_back(step);
  return {signal, step.generation};
}

void ScheduleBuilder::wait(int rank, SignalRef ref) {
  Step step;
  step.kind = StepKind::wait;
  step.signal = ref.signal;
  step.generation = ref.generation;
  schedule_.steps[static_cast<std::size_t>(rank)].push_back(step);
}

void ScheduleBuilder::push_move(int rank, StepKind kind, int peer, Location src, Location dst, std::size_t count) {
  Step step;
  step.kind = kind;
  step.peer = peer;
  step.src = src;
  step.dst = dst;
  step.count = count;
  schedule_.steps[static_cast<std::size_t>(rank)].push_back(step);
}

void ScheduleBuilder::copy_peer(int rank, int peer, Location src, Location dst, std::size_t count) {
  push_move(rank, StepKind::copy_peer, peer, src, dst, count);
}

void ScheduleBuilder::reduce(int rank, Location dst, Location src, std::size_t count) {
  push_move(rank, StepKind::reduce, Step{}.peer, src, dst, count);
}

void ScheduleBuilder::local_copy(int rank, Location dst, Location src, std::size_t count) {
  if (dst == src) return;  // in place: nothing to move
  push_move(rank, StepKind::local_copy, Step{}.peer, src, dst, count);
}

int ScheduleBuilder::open_channel(int sender, int receiver, std::size_t slot_elems, int slots) {
  Channel ch;
  ch.sender = sender;
  ch.receiver = receiver;
  ch.slot_elems = slot_elems;
  ch.slots = slots;
  auto& scratch = schedule_.scratch_elems[static_cast<std::size_t>(receiver)];
  ch.base = scratch;
  scratch += slot_elems * static_cast<std::size_t>(slots);
  ch.ready = new_signal(sender);
  ch.free = new_signal(receiver);
  channels_.push_back(std::move(ch));
  return static_cast<int>(channels_.size()) - 1;
}

Delivery ScheduleBuilder::send(int channel, Location src, std::size_t count) {
  Channel& ch = channels_.at(static_cast<std::size_t>(channel));
  if (count == 0 || count > ch.slot_elems) {
    throw ScheduleError("schedule builder: chunk of " + std::to_string(count) + " elements does not fit a slot of " +
                        std::to_string(ch.slot_elems));
  }
  const std::uint64_t k = ch.sent++;
  const auto slots = static_cast<std::uint64_t>(ch.slots);
  const auto slot = static_cast<std::size_t>(k % slots);
  // The receiver must be done with the chunk that used this slot before (number k - slots).
  if (k >= slots) wait(ch.sender, {ch.free, static_cast<std::uint32_t>(k - slots + 1)});
  const Location dst{Region::scratch, ch.base + slot * ch.slot_elems};
  copy_peer(ch.sender, ch.receiver, src, dst, count);
  Delivery d;
  d.channel = channel;
  d.sequence = k;
  d.slot = dst;
  d.count = count;
  d.ready = record(ch.sender, ch.ready);
  return d;
}

void ScheduleBuilder::receive(const Delivery& delivery) {
  wait(channels_.at(static_cast<std::size_t>(delivery.channel)).receiver, delivery.ready);
}

void ScheduleBuilder::release(const Delivery& delivery) {
  Channel& ch = channels_.at(static_cast<std::size_t>(delivery.channel));
  if (delivery.sequence != ch.released) {
    throw ScheduleError("schedule builder: channel " + std::to_string(ch.sender) + "->" + std::to_string(ch.receiver) +
                        " released out of order");
  }
  ++ch.released;
  record(ch.receiver, ch.free);
}

Schedule ScheduleBuilder::finish() {
  for (const Channel& ch : channels_) {
    if (ch.released != ch.sent) {
      throw ScheduleError("schedule builder: channel " + std::to_string(ch.sender) + "->" +
                          std::to_string(ch.receiver) + " has unreleased chunks");
    }
  }
  const int n = ranks();
  const auto un = static_cast<std::size_t>(n);
  // writes[w][t]: w copies into t's memory.
  std::vector<std::vector<bool>> writes(un, std::vector<bool>(un, false));
  for (std::size_t r = 0; r < un; ++r) {
    for (const Step& s : schedule_.steps[r]) {
      if (s.kind == StepKind::copy_peer && s.peer != static_cast<int>(r)) writes[r][static_cast<std::size_t>(s.peer)] = true;
    }
  }
  std::vector<int> entry(un, -1), done(un, -1);
  for (std::size_t r = 0; r < un; ++r) {
    for (std::size_t w = 0; w < un; ++w) {
      if (writes[w][r] && entry[r] < 0) entry[r] = new_signal(static_cast<int>(r));
      if (writes[r][w] && done[r] < 0) done[r] = new_signal(static_cast<int>(r));
    }
  }
  for (std::size_t r = 0; r < un; ++r) {
    std::vector<Step> body = std::move(schedule_.steps[r]);
    std::vector<Step>& out = schedule_.steps[r];
    out.clear();
    out.reserve(body.size() + 2 * un + 2);
    auto fence = [](StepKind kind, int signal) {
      Step s;
      s.kind = kind;
      s.signal = signal;
      s.generation = 1;
      return s;
    };
    if (entry[r] >= 0) out.push_back(fence(StepKind::record, entry[r]));
    std::vector<bool> entered(un, false);
    for (const Step& s : body) {
      if (s.kind == StepKind::copy_peer && s.peer != static_cast<int>(r)) {
        const auto t = static_cast<std::size_t>(s.peer);
        if (!entered[t]) {
          out.push_back(fence(StepKind::wait, entry[t]));  // t reached this call: its buffers are ours
          entered[t] = true;
        }
      }
      out.push_back(s);
    }
    if (done[r] >= 0) out.push_back(fence(StepKind::record, done[r]));
    for (std::size_t w = 0; w < un; ++w) {
      if (writes[w][r]) out.push_back(fence(StepKind::wait, done[w]));
    }
  }
  return std::move(schedule_);
}

bool build_trivial(ScheduleBuilder& builder) {
  const ScheduleShape& shape = builder.shape();
  if (shape.count == 0) return true;
  if (shape.ranks > 1) return false;
  // One rank: the result is the input (one copy; nothing to pipeline against).
  if (!shape.in_place) builder.local_copy(0, {Region::output, 0}, {Region::input, 0}, shape.count);
  return true;
}

}  // namespace dpb::detail
