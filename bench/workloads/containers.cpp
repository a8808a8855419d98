// C++ containers churn.
//
// Each thread runs a mix of what C++ programs do with the standard library,
// all through operator new/delete:
//  - std::map<uint64_t, std::string>: insert and erase random keys, with
//    values of 8..200 characters (node + string allocations);
//  - std::unordered_map<std::string, std::vector<uint32_t>>: an index from
//    string keys to growing vectors, with rehashing and erasure;
//  - std::string building: to_string, concatenation, substrings;
//  - std::vector<std::vector<int>>: push_back growth and shrinking;
//  - std::vector of a 64-byte-aligned struct (aligned operator new), whose
//    alignment is checked.
// The contents are folded into the checksum and the map sizes are checked.
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common.hpp"

namespace {

uint64_t hash_str(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

struct alignas(64) Line {
  uint64_t v[8];
};

uint64_t run_thread(int t, uint64_t rounds) {
  bench::Rng rng(777 + static_cast<uint64_t>(t));
  uint64_t sum = 0;
  std::map<uint64_t, std::string> tree;
  std::unordered_map<std::string, std::vector<uint32_t>> index;
  std::vector<std::vector<int>> vv(256);
  for (uint64_t round = 0; round < rounds; ++round) {
    // Ordered map churn.
    for (int i = 0; i < 200; ++i) {
      const uint64_t key = rng.next() % 50000;
      if (rng.next() & 1) {
        std::string v(8 + rng.next() % 193, static_cast<char>('a' + key % 26));
        v += std::to_string(key);
        tree[key] = std::move(v);
      } else {
        auto it = tree.find(key);
        if (it != tree.end()) {
          sum += hash_str(it->second);
          tree.erase(it);
        }
      }
    }
    // Hash index of string keys to vectors.
    for (int i = 0; i < 100; ++i) {
      std::string key = "k" + std::to_string(rng.next() % 20000) + "/" + std::to_string(t);
      auto& vec = index[key];
      vec.push_back(static_cast<uint32_t>(round));
      if (vec.size() > 40) {
        for (uint32_t x : vec) sum += x;
        index.erase(key);
      }
    }
    // String building.
    std::string line;
    for (int i = 0; i < 50; ++i) {
      line += std::to_string(rng.next() % 1000000);
      line += ',';
    }
    sum += hash_str(line.substr(line.size() / 3, line.size() / 3));
    // Over-aligned elements: storage from aligned operator new.
    {
      std::vector<Line> lines;
      const size_t n = 1 + rng.next() % 64;
      for (size_t k = 0; k < n; ++k) lines.push_back(Line{{k, round, 0, 0, 0, 0, 0, k ^ round}});
      bench::check_aligned(lines.data(), alignof(Line));
      for (const Line& l : lines) sum += l.v[0] + l.v[7];
    }
    // Vectors growing and shrinking.
    for (int i = 0; i < 20; ++i) {
      auto& v = vv[rng.next() % vv.size()];
      const int n = static_cast<int>(rng.next() % 300);
      for (int k = 0; k < n; ++k) v.push_back(k ^ static_cast<int>(round));
      if (v.size() > 5000) {
        for (int x : v) sum += static_cast<uint64_t>(x);
        std::vector<int>().swap(v);
      }
    }
  }
  for (auto& [k, v] : tree) sum += k * 3 + hash_str(v);
  for (auto& v : vv) sum += v.size();
  sum += tree.size() * 1000003 + index.size();
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args a = bench::parse_args(argc, argv);
  const uint64_t rounds = a.n(1500, 20);
  std::vector<uint64_t> sums(static_cast<size_t>(a.threads), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < a.threads; ++t)
    threads.emplace_back([&, t] { sums[static_cast<size_t>(t)] = run_thread(t, rounds); });
  for (auto& th : threads) th.join();
  uint64_t sum = 0;
  for (uint64_t s : sums) sum = bench::mix(sum ^ s);
  bench::report("containers", sum, rounds * static_cast<uint64_t>(a.threads));
  return 0;
}
