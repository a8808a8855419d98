/* c_api: rulloc from C. A heap object with its own bucket limits; NULL as the
 * heap means the process-wide default instance. Failures return NULL and set
 * errno, like malloc. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rulloc/rulloc.h"

static void print_stats(rulloc_heap* heap) {
  rulloc_bucket_stats stats[8];
  size_t count = rulloc_heap_stats(heap, stats, 8);
  for (size_t i = 0; i < count && i < 8; ++i) {
    if (stats[i].limit == SIZE_MAX) {
      printf("  bucket dynamic:");
    } else {
      printf("  bucket %7zu:", stats[i].limit);
    }
    printf(" %zu regions, %zu blocks (%zu free), %zu bytes mapped\n",
           stats[i].regions, stats[i].blocks, stats[i].free_blocks,
           stats[i].mapped_bytes);
  }
}

int main(void) {
  int ok = 1;
  const size_t limits[] = {64, 4096};
  rulloc_heap* heap = rulloc_heap_create(limits, 2, 0);
  if (heap == NULL) return 1;
  printf("A heap with bucket limits 64 and 4096 (plus the dynamic bucket)\n");

  char* name = rulloc_alloc(heap, 40, 8);
  strcpy(name, "rulloc, from C");
  printf("\nrulloc_alloc(40): \"%s\", usable size %zu\n", name,
         rulloc_usable_size(heap, name));

  /* 40 -> 1000 bytes: another bucket, so the block moves; data comes along. */
  char* bigger = rulloc_realloc(heap, name, 1000, 8);
  printf("rulloc_realloc(1000): %s, still \"%s\"\n",
         bigger == name ? "in place" : "moved to the 4096 bucket", bigger);
  ok = ok && bigger != NULL && strcmp(bigger, "rulloc, from C") == 0;

  double* table = rulloc_alloc_zeroed(heap, 100 * sizeof(double), 64);
  printf("rulloc_alloc_zeroed(800, align 64): %p, aligned: %s, zeroed: %s\n",
         (void*)table, (uintptr_t)table % 64 == 0 ? "yes" : "no",
         table[0] == 0.0 && table[99] == 0.0 ? "yes" : "no");
  ok = ok && table != NULL && (uintptr_t)table % 64 == 0;

  printf("\nWhile in use:\n");
  print_stats(heap);

  errno = 0;
  void* huge = rulloc_alloc(heap, SIZE_MAX, 8);
  printf("\nrulloc_alloc(SIZE_MAX): %s, errno %s\n", huge ? "?!" : "NULL",
         errno == ENOMEM ? "ENOMEM" : "not ENOMEM");
  ok = ok && huge == NULL && errno == ENOMEM;
  errno = 0;
  void* odd = rulloc_alloc(heap, 16, 3);
  printf("rulloc_alloc(16, align 3): %s, errno %s\n", odd ? "?!" : "NULL",
         errno == EINVAL ? "EINVAL" : "not EINVAL");
  ok = ok && odd == NULL && errno == EINVAL;

  rulloc_free(heap, bigger);
  rulloc_free(heap, table);
  printf("\nAfter freeing (empty regions are unmapped):\n");
  print_stats(heap);
  ok = ok && rulloc_heap_check(heap);
  rulloc_heap_destroy(heap);

  /* The default instance needs no setup. */
  int* numbers = rulloc_alloc(NULL, 10 * sizeof(int), 8);
  for (int i = 0; i < 10; ++i) numbers[i] = i * i;
  printf("\nDefault instance: numbers[9] = %d\n", numbers[9]);
  ok = ok && numbers[9] == 81;
  rulloc_free(NULL, numbers);
  ok = ok && rulloc_heap_check(NULL);

  printf("%s\n", ok ? "all good" : "SOMETHING IS WRONG");
  return ok ? 0 : 1;
}
