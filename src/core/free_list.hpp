// The free list of a bucket: free blocks of all its regions, linked through
// nodes stored in the blocks' own content (hence kMinBlockSize = 16).
#pragma once

#include <new>

#include "core/block.hpp"
#include "core/list.hpp"

namespace rulloc::core {

struct FreeNode {
  FreeNode* next;
  FreeNode* prev;
};
static_assert(sizeof(FreeNode) == kMinBlockSize);

inline FreeNode* node_of(BlockHeader* block) noexcept {
  return reinterpret_cast<FreeNode*>(block->content());
}
inline BlockHeader* block_of(FreeNode* node) noexcept {
  return block_of_content(reinterpret_cast<std::byte*>(node));
}

class FreeList {
 public:
  void push(BlockHeader* block) noexcept {
    list_.push_back(new (block->content()) FreeNode{});
  }
  void remove(BlockHeader* block) noexcept { list_.remove(node_of(block)); }

  // First fit: the first block from the head with at least `size` bytes.
  BlockHeader* first_fit(std::size_t size) const noexcept {
    for (FreeNode* node = list_.head; node != nullptr; node = node->next) {
      BlockHeader* block = block_of(node);
      if (block->size >= size) return block;
    }
    return nullptr;
  }

  FreeNode* head() const noexcept { return list_.head; }
  std::size_t len() const noexcept { return list_.len; }

 private:
  LinkedList<FreeNode> list_;
};

}  // namespace rulloc::core
