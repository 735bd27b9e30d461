#include "train/watchdog.h"

#include <thread>

#include "device/error.h"

namespace dpb {

void Watchdog::wait(std::span<Stream* const> streams, const std::string& what) {
  // Spin briefly (steps are often short), then back off to sleeps so the poller does not steal a
  // core from the cpu backend's workers. Polling latency only delays the host, never a device
  // event, so measured times are unaffected.
  auto pause = std::chrono::microseconds(0);
  for (;;) {
    bool done = true;
    for (Stream* s : streams) {
      if (!s->query()) {
        done = false;
        break;
      }
    }
    if (done) break;
    if (expired()) {
      if (!aborted_ && abort_) {
        aborted_ = true;
        abort_();
      }
      throw TimeoutError(what + " did not finish before the deadline; communicator aborted");
    }
    if (pause.count() == 0) {
      std::this_thread::yield();
      pause = std::chrono::microseconds(20);
    } else {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
    }
  }
  for (Stream* s : streams) s->synchronize();  // complete: returns at once, rethrows a stream error
}

}  // namespace dpb
