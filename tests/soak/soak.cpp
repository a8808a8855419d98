// Multi-threaded soak test of the process allocator: threads allocate blocks
// of random sizes and alignments, swap them through shared slots so that most
// frees happen on another thread, grow and shrink them with realloc, and
// verify every byte pattern before letting go. Runs for a given time:
//   ./rulloc-run build/release/tests/soak/rulloc_soak [seconds] [threads]
// Exits non-zero on the first corrupted block.
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "rulloc/malloc.h"

namespace {

// Every block starts with this header; the rest is a pattern derived from it.
struct Block {
  std::uint64_t seed;
  std::size_t size;
};

constexpr std::size_t kSlots = 4096;
std::atomic<Block*> slots[kSlots];
std::atomic<bool> stop{false};
std::atomic<std::uint64_t> operations{0};

std::uint8_t pattern(std::uint64_t seed, std::size_t i) {
  return static_cast<std::uint8_t>((seed >> (i % 56)) ^ i);
}

void fill(Block* b, std::size_t from) {
  auto* bytes = reinterpret_cast<std::uint8_t*>(b);
  for (std::size_t i = std::max(from, sizeof(Block)); i < b->size; ++i) {
    bytes[i] = pattern(b->seed, i);
  }
}

void verify(const Block* b, std::size_t upto) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(b);
  for (std::size_t i = sizeof(Block); i < upto; ++i) {
    if (bytes[i] != pattern(b->seed, i)) {
      std::fprintf(stderr, "soak: block %p (size %zu) corrupted at byte %zu\n",
                   static_cast<const void*>(b), b->size, i);
      std::abort();
    }
  }
}

std::size_t random_size(std::mt19937_64& rng) {
  const unsigned kind = rng() % 100;
  if (kind < 70) return sizeof(Block) + rng() % 256;
  if (kind < 95) return sizeof(Block) + rng() % 8192;
  return sizeof(Block) + rng() % (1 << 20);
}

Block* make(std::mt19937_64& rng) {
  const std::size_t size = random_size(rng);
  void* memory;
  if (rng() % 8 == 0) {
    const std::size_t align = std::size_t{16} << (rng() % 9);  // 16..4096
    if (posix_memalign(&memory, align, size) != 0) std::abort();
  } else {
    memory = std::malloc(size);
  }
  if (memory == nullptr) std::abort();
  auto* b = static_cast<Block*>(memory);
  b->seed = rng();
  b->size = size;
  fill(b, 0);
  return b;
}

Block* resize(Block* b, std::mt19937_64& rng) {
  verify(b, b->size);
  const std::size_t old_size = b->size;
  const std::size_t new_size = random_size(rng);
  auto* moved = static_cast<Block*>(std::realloc(b, new_size));
  if (moved == nullptr) std::abort();
  verify(moved, std::min(old_size, new_size));
  moved->size = new_size;
  if (new_size > old_size) fill(moved, old_size);
  return moved;
}

void worker(unsigned id) {
  std::mt19937_64 rng(0x5eed0000u + id);
  std::uint64_t local = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    Block* fresh = make(rng);
    if (rng() % 4 == 0) fresh = resize(fresh, rng);
    Block* old = slots[rng() % kSlots].exchange(fresh);
    if (old != nullptr) {
      verify(old, old->size);
      std::free(old);  // most likely made by another thread
    }
    ++local;
  }
  operations.fetch_add(local);
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 10;
  const unsigned threads =
      argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 4;
  auto* get_stats = reinterpret_cast<int (*)(rulloc_malloc_stats*)>(
      dlsym(RTLD_DEFAULT, "rulloc_get_malloc_stats"));
  std::printf("soak: %d s, %u threads, allocator: %s\n", seconds, threads,
              get_stats != nullptr ? "rulloc" : "not rulloc");

  std::vector<std::thread> pool;
  for (unsigned i = 0; i < threads; ++i) pool.emplace_back(worker, i);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  for (auto& slot : slots) {
    if (Block* b = slot.exchange(nullptr)) {
      verify(b, b->size);
      std::free(b);
    }
  }
  std::printf("soak: %llu allocate+verify+free rounds, every block intact\n",
              static_cast<unsigned long long>(operations.load()));
  if (get_stats != nullptr) {
    rulloc_malloc_stats stats;
    get_stats(&stats);
    std::printf(
        "soak: rulloc allocations %zu, frees %zu, bytes in use %zu, peak %zu, "
        "mapped %zu\n",
        stats.allocations, stats.frees, stats.bytes_in_use,
        stats.peak_bytes_in_use, stats.mapped_bytes);
  }
  return 0;
}
