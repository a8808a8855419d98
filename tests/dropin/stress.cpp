// Every allocation entry point from 8 threads at once, run with librulloc.so
// preloaded. Objects are filled with a pattern, handed to other threads,
// checked there, reallocated or freed there with the matching deallocation.
//
//   dropin_stress                 8 threads, mailboxes between them
//   dropin_stress --thread-exit   waves of short-lived threads whose objects
//                                 outlive them, freed by a long-lived reaper
#include <dirent.h>
#include <malloc.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "check.h"

namespace {

enum Kind {
  kMalloc,
  kCalloc,
  kRealloc,
  kReallocArray,
  kAlignedAlloc,
  kPosixMemalign,
  kMemalign,
  kValloc,
  kPvalloc,
  kStrdup,
  kNew,
  kNewArray,
  kNewAligned,
  kNewArrayAligned,
  kNewNothrow,
  kNewAlignedNothrow,
  kKinds
};

bool from_malloc(Kind kind) { return kind < kNew; }

struct Object {
  unsigned char* p;
  std::size_t size;
  std::size_t align;
  Kind kind;
  std::uint32_t seed;
};

struct Random {
  std::uint64_t state;
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  std::size_t below(std::size_t n) { return next() % n; }
};

std::atomic<long> failures{0};
std::atomic<long> allocated{0};
std::atomic<long> released{0};

void fail(const char* what, const Object& o) {
  if (failures.fetch_add(1) < 20) {
    std::fprintf(stderr, "stress: %s: kind %d size %zu align %zu at %p\n", what,
                 static_cast<int>(o.kind), o.size, o.align,
                 static_cast<void*>(o.p));
  }
}

unsigned char byte_at(std::uint32_t seed, std::size_t i) {
  return static_cast<unsigned char>(seed + i * 13 + (i >> 9));
}

void fill(Object& o) {
  if (o.kind == kStrdup) return;  // holds its string
  for (std::size_t i = 0; i < o.size; ++i) o.p[i] = byte_at(o.seed, i);
}

bool intact(const Object& o) {
  if (o.kind == kStrdup) {
    for (std::size_t i = 0; i < o.size; ++i) {
      if (o.p[i] != static_cast<unsigned char>('a' + (o.seed + i) % 26)) {
        return false;
      }
    }
    return o.p[o.size] == '\0';
  }
  for (std::size_t i = 0; i < o.size; ++i) {
    if (o.p[i] != byte_at(o.seed, i)) return false;
  }
  return true;
}

std::size_t pick_size(Random& r) {
  switch (r.below(20)) {
    case 0:
      return r.below(300000);  // the big buckets and the dynamic one
    case 1:
    case 2:
      return r.below(20000);
    case 3:
      return 0;
    default:
      return r.below(1100);  // the thread-cache sizes
  }
}

Object make(Random& r) {
  Object o{};
  o.kind = static_cast<Kind>(r.below(kKinds));
  o.size = pick_size(r);
  o.align = 16;
  o.seed = static_cast<std::uint32_t>(r.next());
  const std::size_t big_align = std::size_t{16} << r.below(9);  // 16..4096
  void* p = nullptr;
  switch (o.kind) {
    case kMalloc:
      p = std::malloc(o.size);
      break;
    case kCalloc: {
      const std::size_t count = o.size / 8 + 1;
      p = std::calloc(count, 8);
      if (p != nullptr) {
        auto* bytes = static_cast<unsigned char*>(p);
        for (std::size_t i = 0; i < count * 8; ++i) {
          if (bytes[i] != 0) {
            Object bad{bytes, count * 8, 16, kCalloc, 0};
            fail("calloc block not zero", bad);
            break;
          }
        }
      }
      break;
    }
    case kRealloc:
      p = std::realloc(nullptr, o.size);
      break;
    case kReallocArray:
      p = reallocarray(nullptr, o.size / 4 + 1, 4);
      o.size = o.size / 4 * 4 + 4;
      break;
    case kAlignedAlloc:
      o.align = big_align;
      p = aligned_alloc(o.align, o.size);
      break;
    case kPosixMemalign:
      o.align = big_align;
      if (posix_memalign(&p, o.align, o.size) != 0) p = nullptr;
      break;
    case kMemalign:
      o.align = big_align;
      p = memalign(o.align, o.size);
      break;
    case kValloc:
      o.align = 4096;
      o.size %= 10000;
      p = valloc(o.size);
      break;
    case kPvalloc:
      o.align = 4096;
      o.size %= 10000;
      p = pvalloc(o.size);
      break;
    case kStrdup: {
      o.size %= 3000;
      std::string s(o.size, 'a');
      for (std::size_t i = 0; i < o.size; ++i) {
        s[i] = static_cast<char>('a' + (o.seed + i) % 26);
      }
      p = strdup(s.c_str());
      break;
    }
    case kNew:
      p = ::operator new(o.size);
      break;
    case kNewArray:
      p = ::operator new[](o.size);
      break;
    case kNewAligned:
      o.align = big_align;
      p = ::operator new (o.size, std::align_val_t{o.align});
      break;
    case kNewArrayAligned:
      o.align = big_align;
      p = ::operator new[](o.size, std::align_val_t{o.align});
      break;
    case kNewNothrow:
      p = ::operator new(o.size, std::nothrow);
      break;
    case kNewAlignedNothrow:
      o.align = big_align;
      p = ::operator new (o.size, std::align_val_t{o.align}, std::nothrow);
      break;
    case kKinds:
      break;
  }
  o.p = static_cast<unsigned char*>(p);
  allocated.fetch_add(1, std::memory_order_relaxed);
  if (o.p == nullptr) {
    fail("allocation failed", o);
    return o;
  }
  if (reinterpret_cast<std::uintptr_t>(o.p) % o.align != 0) {
    fail("misaligned", o);
  }
  if (from_malloc(o.kind) && malloc_usable_size(o.p) < o.size) {
    fail("usable size below request", o);
  }
  fill(o);
  return o;
}

void destroy(Object& o, Random& r) {
  if (o.p == nullptr) return;
  if (!intact(o)) fail("contents changed", o);
  released.fetch_add(1, std::memory_order_relaxed);
  switch (o.kind) {
    case kNew:
    case kNewNothrow:
      if (r.below(2) == 0) {
        ::operator delete(o.p, o.size);
      } else if (o.kind == kNewNothrow) {
        ::operator delete(o.p, std::nothrow);
      } else {
        ::operator delete(o.p);
      }
      break;
    case kNewArray:
      if (r.below(2) == 0) {
        ::operator delete[](o.p, o.size);
      } else {
        ::operator delete[](o.p);
      }
      break;
    case kNewAligned:
    case kNewAlignedNothrow:
      if (r.below(2) == 0) {
        ::operator delete (o.p, o.size, std::align_val_t{o.align});
      } else {
        ::operator delete (o.p, std::align_val_t{o.align});
      }
      break;
    case kNewArrayAligned:
      ::operator delete[](o.p, o.size, std::align_val_t{o.align});
      break;
    default:
      std::free(o.p);
      break;
  }
  o.p = nullptr;
}

// Malloc-family objects may be reallocated by whichever thread holds them.
void maybe_realloc(Object& o, Random& r) {
  if (o.p == nullptr || !from_malloc(o.kind) || o.kind == kStrdup) return;
  if (!intact(o)) fail("contents changed before realloc", o);
  // Never 0: realloc(p, 0) frees p.
  const std::size_t size = r.below(4) == 0 ? pick_size(r) + 1 : o.size / 2 + 8;
  void* q = r.below(2) == 0 ? std::realloc(o.p, size)
                            : reallocarray(o.p, size / 8 + 1, 8);
  if (q == nullptr) {
    fail("realloc failed", o);
    return;
  }
  const std::size_t asked = size;
  if (malloc_usable_size(q) < asked) fail("realloc too small", o);
  if (reinterpret_cast<std::uintptr_t>(q) % 16 != 0) {
    fail("realloc misaligned", o);
  }
  o.p = static_cast<unsigned char*>(q);
  o.align = 16;
  const std::size_t kept = std::min(o.size, asked);
  o.size = kept;
  if (!intact(o)) fail("realloc lost contents", o);
  o.kind = kRealloc;
  o.size = asked;
  fill(o);
}

struct Mailbox {
  std::mutex mutex;
  std::vector<Object> items;
};

void run_mailboxes() {
  constexpr int kThreads = 8;
  constexpr int kOps = 30000;
  std::vector<Mailbox> boxes(kThreads);
  auto worker = [&](int id) {
    Random r{0x1234567ull * static_cast<std::uint64_t>(id + 1) + 99};
    std::vector<Object> mine;
    std::vector<Object> inbox;
    for (int op = 0; op < kOps; ++op) {
      switch (r.below(8)) {
        case 0:
        case 1:
        case 2: {
          Object o = make(r);
          if (r.below(2) == 0) {
            mine.push_back(o);
          } else {
            Mailbox& box = boxes[r.below(kThreads)];
            std::lock_guard lock(box.mutex);
            box.items.push_back(o);
          }
          break;
        }
        case 3:
        case 4: {
          {
            std::lock_guard lock(boxes[id].mutex);
            inbox.swap(boxes[id].items);
          }
          for (Object& o : inbox) {
            if (r.below(3) == 0) {
              maybe_realloc(o, r);
              Mailbox& box = boxes[r.below(kThreads)];
              std::lock_guard lock(box.mutex);
              box.items.push_back(o);
            } else {
              destroy(o, r);
            }
          }
          inbox.clear();
          break;
        }
        case 5:
          if (!mine.empty()) maybe_realloc(mine[r.below(mine.size())], r);
          break;
        default:
          if (!mine.empty()) {
            std::size_t i = r.below(mine.size());
            destroy(mine[i], r);
            mine[i] = mine.back();
            mine.pop_back();
          }
          break;
      }
      // One thread gives memory back now and then, while the others work.
      if (id == 0 && op % 2000 == 1999) malloc_trim(0);
      if (mine.size() > 200) {
        destroy(mine.front(), r);
        mine.erase(mine.begin());
      }
    }
    for (Object& o : mine) destroy(o, r);
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(worker, i);
  for (auto& t : threads) t.join();
  Random r{7};
  for (Mailbox& box : boxes) {
    for (Object& o : box.items) destroy(o, r);
  }
}

// Short-lived threads allocate objects (and thread_local ones, freed as they
// exit) that a long-lived reaper thread checks and frees after they are gone.
thread_local std::vector<std::string> thread_strings;

// Threads of this process, rulloc's purger left out (it may start at any
// time): a thread is gone from /proc/self/task once it has run its exit
// hooks, rulloc's flush of its counters included.
int threads_now() {
  DIR* tasks = opendir("/proc/self/task");
  REQUIRE(tasks != nullptr);
  int count = 0;
  while (dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    char path[300];
    char name[64] = "";
    std::snprintf(path, sizeof(path), "/proc/self/task/%s/comm", entry->d_name);
    if (FILE* comm = std::fopen(path, "r")) {
      if (std::fgets(name, sizeof(name), comm) == nullptr) name[0] = '\0';
      std::fclose(comm);
    }
    count += std::strncmp(name, "rulloc-purge", 12) != 0;
  }
  closedir(tasks);
  return count;
}

void run_thread_exit() {
  const int threads_before = threads_now();
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<Object> orphans;
  std::atomic<int> finished{0};
  bool done = false;
  std::thread reaper([&] {
    Random r{31337};
    std::unique_lock lock(mutex);
    for (;;) {
      ready.wait(lock, [&] { return done || orphans.size() > 500; });
      std::deque<Object> batch;
      batch.swap(orphans);
      lock.unlock();
      for (Object& o : batch) {
        if (r.below(4) == 0) maybe_realloc(o, r);
        destroy(o, r);
      }
      lock.lock();
      if (done && orphans.empty()) return;
    }
  });
  constexpr int kWaves = 25;
  constexpr int kThreads = 8;
  for (int wave = 0; wave < kWaves; ++wave) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, wave, t] {
        Random r{static_cast<std::uint64_t>(wave * 100 + t + 1) * 0x9E37ull};
        std::vector<Object> made;
        for (int i = 0; i < 400; ++i) {
          made.push_back(make(r));
          thread_strings.push_back(std::string(r.below(200), 's'));
          if (r.below(3) == 0) destroy(made[r.below(made.size())], r);
        }
        std::lock_guard lock(mutex);
        for (Object& o : made) {
          if (o.p != nullptr) orphans.push_back(o);
        }
        ready.notify_one();
        finished.fetch_add(1);
      });
    }
    // Half of each wave is detached: nobody waits for those to exit.
    for (int t = 0; t < kThreads; ++t) {
      if (t % 2 == 0) {
        threads[static_cast<std::size_t>(t)].join();
      } else {
        threads[static_cast<std::size_t>(t)].detach();
      }
    }
  }
  // Let the detached threads finish (they only touch the orphan list).
  for (int i = 0; i < 3000 && finished.load() < kWaves * kThreads; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(finished.load() == kWaves * kThreads);
  {
    std::lock_guard lock(mutex);
    done = true;
    ready.notify_one();
  }
  reaper.join();
  CHECK(allocated.load() == kWaves * kThreads * 400);
  // The detached threads have returned; wait until they have also exited,
  // so that rulloc has added their counters.
  for (int i = 0; i < 3000 && threads_now() > threads_before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(threads_now() == threads_before);
}

}  // namespace

int main(int argc, char** argv) {
  require_rulloc();
  const bool thread_exit =
      argc > 1 && std::strcmp(argv[1], "--thread-exit") == 0;
  const rulloc_malloc_stats before = dropin_stats();
  if (thread_exit) {
    run_thread_exit();
  } else {
    run_mailboxes();
  }
  const rulloc_malloc_stats after = dropin_stats();
  CHECK(failures.load() == 0);
  CHECK(allocated.load() == released.load());
  // Every thread that allocated has exited here, so rulloc's figures hold
  // all it did: at least the objects counted here (the containers and
  // strings around them add more), and as many frees as allocations, bar
  // the few blocks the C++ runtime and libc keep across threads (4, 1280
  // bytes, in both modes). A thread's counters lost at its exit (it hands
  // off most of what it allocated) shows as hundreds of blocks.
  const std::size_t allocations = after.allocations - before.allocations;
  const std::size_t frees = after.frees - before.frees;
  CHECK(allocations >= static_cast<std::size_t>(allocated.load()));
  CHECK(frees >= static_cast<std::size_t>(released.load()));
  const long long kept = static_cast<long long>(allocations - frees);
  const long long kept_bytes = static_cast<long long>(after.bytes_in_use) -
                               static_cast<long long>(before.bytes_in_use);
  std::printf("stress: %lld blocks, %lld bytes more in use than before\n", kept,
              kept_bytes);
  CHECK(kept >= 0 && kept <= 64);
  CHECK(kept_bytes >= 0 && kept_bytes <= 64 * 1024);
  std::printf("stress: %ld objects allocated and freed, %zu allocations\n",
              allocated.load(), after.allocations - before.allocations);
  return dropin_finish(thread_exit ? "stress --thread-exit" : "stress");
}
