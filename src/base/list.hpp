// An intrusive doubly linked list. Regions, blocks and free-list nodes are all
// nodes of one: each carries its own `next` and `prev`, so linking never
// allocates (an allocator cannot ask itself for list cells).
#pragma once

#include <cstddef>

namespace rulloc::base {

template <class Node>
struct LinkedList {
  Node* head = nullptr;
  Node* tail = nullptr;
  std::size_t len = 0;

  void push_back(Node* node) noexcept {
    node->next = nullptr;
    node->prev = tail;
    if (tail != nullptr) {
      tail->next = node;
    } else {
      head = node;
    }
    tail = node;
    ++len;
  }

  // Links `node` right after `position`, which is already in the list.
  void insert_after(Node* position, Node* node) noexcept {
    node->prev = position;
    node->next = position->next;
    if (position->next != nullptr) {
      position->next->prev = node;
    } else {
      tail = node;
    }
    position->next = node;
    ++len;
  }

  void remove(Node* node) noexcept {
    if (node->prev != nullptr) {
      node->prev->next = node->next;
    } else {
      head = node->next;
    }
    if (node->next != nullptr) {
      node->next->prev = node->prev;
    } else {
      tail = node->prev;
    }
    node->next = nullptr;
    node->prev = nullptr;
    --len;
  }
};

}  // namespace rulloc::base
