// Producer/consumer cross-thread free (xmalloc-test style).
//
// Half of the threads (at least one) only allocate: they fill small blocks
// (16..256 bytes) and pass them in batches of 64 through a bounded queue to a
// consumer. The other half only verify and free, so nearly every free is a
// remote free of a block that another thread allocated. The queue holds at
// most 32 batches, so the live set stays small and the allocator must recycle
// memory that flows back from the consumer side.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common.hpp"

namespace {

constexpr size_t kBatch = 64;
constexpr size_t kMaxBatches = 32;

struct Block {
  void* p;
  uint32_t size;
  uint64_t tag;
};

using Batch = std::vector<Block>;

struct Queue {
  std::mutex mu;
  std::condition_variable not_empty, not_full;
  std::deque<Batch> q;
  int producers_left = 0;

  void push(Batch&& b) {
    std::unique_lock<std::mutex> lock(mu);
    not_full.wait(lock, [&] { return q.size() < kMaxBatches; });
    q.push_back(std::move(b));
    not_empty.notify_one();
  }
  bool pop(Batch& out) {
    std::unique_lock<std::mutex> lock(mu);
    not_empty.wait(lock, [&] { return !q.empty() || producers_left == 0; });
    if (q.empty()) return false;
    out = std::move(q.front());
    q.pop_front();
    not_full.notify_one();
    return true;
  }
  void producer_done() {
    std::lock_guard<std::mutex> lock(mu);
    --producers_left;
    not_empty.notify_all();
  }
};

constexpr uint32_t kSizes[] = {16, 24, 32, 48, 64, 80, 96, 128, 160, 192, 256};

}  // namespace

int main(int argc, char** argv) {
  const bench::Args a = bench::parse_args(argc, argv);
  const int producers = a.threads >= 2 ? a.threads / 2 : 1;
  const int consumers = a.threads >= 2 ? a.threads - producers : 1;
  const uint64_t per_producer = a.n(6'000'000, kBatch) / static_cast<uint64_t>(producers) / kBatch * kBatch;

  std::vector<Queue> queues(static_cast<size_t>(consumers));
  for (int p = 0; p < producers; ++p) ++queues[static_cast<size_t>(p % consumers)].producers_left;
  std::vector<uint64_t> sums(static_cast<size_t>(consumers), 0), counts(static_cast<size_t>(consumers), 0);

  std::vector<std::thread> threads;
  for (int c = 0; c < consumers; ++c) {
    threads.emplace_back([&, c] {
      Batch b;
      uint64_t sum = 0, n = 0;
      while (queues[static_cast<size_t>(c)].pop(b)) {
        for (const Block& blk : b) {
          sum += bench::check(blk.p, blk.size, blk.tag);
          std::free(blk.p);
        }
        n += b.size();
      }
      sums[static_cast<size_t>(c)] = sum;  // order-independent: a plain sum
      counts[static_cast<size_t>(c)] = n;
    });
  }
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      bench::Rng rng(7000 + static_cast<uint64_t>(p));
      Queue& q = queues[static_cast<size_t>(p % consumers)];
      for (uint64_t done = 0; done < per_producer; done += kBatch) {
        Batch b;
        b.reserve(kBatch);
        for (size_t i = 0; i < kBatch; ++i) {
          uint32_t size = kSizes[rng.next() % (sizeof(kSizes) / sizeof(kSizes[0]))];
          uint64_t tag = rng.next();
          void* ptr = std::malloc(size);
          bench::fill(ptr, size, tag);
          b.push_back({ptr, size, tag});
        }
        q.push(std::move(b));
      }
      q.producer_done();
    });
  }
  for (auto& t : threads) t.join();
  uint64_t sum = 0, n = 0;
  for (size_t c = 0; c < sums.size(); ++c) {
    sum += sums[c];
    n += counts[c];
  }
  if (n != per_producer * static_cast<uint64_t>(producers)) {
    std::fprintf(stderr, "CHECK FAILED: freed %llu blocks, expected %llu\n", static_cast<unsigned long long>(n),
                 static_cast<unsigned long long>(per_producer * static_cast<uint64_t>(producers)));
    return 3;
  }
  bench::report("xmalloc", sum, n);
  return 0;
}
