// Larson-style server workload.
//
// Models a server whose worker threads are replaced over time: each of
// `threads` chains owns an array of live blocks (8..1000 bytes). A worker
// thread replaces random blocks (verify + free the old one, allocate a new
// one) for a number of rounds, then starts its successor and exits. The
// successor inherits the array, so it frees blocks that an exited thread
// allocated (cross-thread frees, abandoned thread caches), and it joins its
// predecessor while it works. After the last generation the main thread
// verifies and frees what is left. Fixed work: generations x rounds per chain.
#include <pthread.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "common.hpp"

namespace {

struct Slot {
  void* p = nullptr;
  uint32_t size = 0;
  uint64_t tag = 0;
};

// Its own cache lines: chains run on different threads.
struct alignas(64) Chain {
  int id = 0;
  std::vector<Slot> slots;
  uint64_t generation = 0;
  uint64_t checksum = 0;
  uint64_t ops = 0;
};

struct Shared {
  uint64_t generations = 0;
  uint64_t rounds = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<pthread_t> finished;  // the last thread of each chain
};

Shared g;

struct Start {
  Chain* chain;
  bool has_pred;
  pthread_t pred;
};

void* worker(void* arg) {
  Start st = *static_cast<Start*>(arg);
  delete static_cast<Start*>(arg);
  Chain* c = st.chain;
  bench::Rng rng(bench::mix(1000003ull * static_cast<uint64_t>(c->id) + c->generation));
  const size_t n = c->slots.size();
  for (uint64_t r = 0; r < g.rounds; ++r) {
    Slot& s = c->slots[rng.next() % n];
    if (s.p != nullptr) {
      c->checksum += bench::check(s.p, s.size, s.tag);
      std::free(s.p);
    }
    s.size = static_cast<uint32_t>(rng.range(8, 1000));
    s.tag = rng.next();
    s.p = std::malloc(s.size);
    bench::fill(s.p, s.size, s.tag);
    ++c->ops;
  }
  if (st.has_pred) pthread_join(st.pred, nullptr);
  ++c->generation;
  if (c->generation < g.generations) {
    auto* next = new Start{c, true, pthread_self()};
    pthread_t t;
    if (pthread_create(&t, nullptr, worker, next) != 0) {
      std::fprintf(stderr, "pthread_create failed\n");
      std::_Exit(4);
    }
  } else {
    std::lock_guard<std::mutex> lock(g.mu);
    g.finished.push_back(pthread_self());
    g.cv.notify_one();
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args a = bench::parse_args(argc, argv);
  const size_t blocks = 2000;
  g.generations = a.n(1200, 2);
  g.rounds = 20000;
  std::vector<Chain> chains(static_cast<size_t>(a.threads));
  bench::Rng init(42);
  for (int i = 0; i < a.threads; ++i) {
    Chain& c = chains[static_cast<size_t>(i)];
    c.id = i;
    c.slots.resize(blocks);
    for (Slot& s : c.slots) {  // the main thread allocates the initial blocks
      s.size = static_cast<uint32_t>(init.range(8, 1000));
      s.tag = init.next();
      s.p = std::malloc(s.size);
      bench::fill(s.p, s.size, s.tag);
    }
  }
  for (int i = 0; i < a.threads; ++i) {
    pthread_t t;
    if (pthread_create(&t, nullptr, worker, new Start{&chains[static_cast<size_t>(i)], false, {}}) != 0) return 4;
  }
  {
    std::unique_lock<std::mutex> lock(g.mu);
    g.cv.wait(lock, [&] { return g.finished.size() == static_cast<size_t>(a.threads); });
  }
  for (pthread_t t : g.finished) pthread_join(t, nullptr);
  uint64_t sum = 0, ops = 0;
  for (Chain& c : chains) {
    for (Slot& s : c.slots) {
      sum += bench::check(s.p, s.size, s.tag);
      std::free(s.p);
    }
    sum = bench::mix(sum ^ c.checksum);
    ops += c.ops;
  }
  bench::report("larson", sum, ops);
  return 0;
}
