/* Built with the flags of `pkg-config --cflags --libs rulloc` (run.sh):
 * the C API of librulloc.a. */
#include <rulloc/rulloc.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  size_t limits[] = {64, 512};
  rulloc_heap* heap = rulloc_heap_create(limits, 2, 1);
  if (heap == NULL) return 1;
  char* text = rulloc_alloc(heap, 64, 16);
  if (text == NULL) return 2;
  strcpy(text, "hello from pkg-config");
  text = rulloc_realloc(heap, text, 4000, 16);
  if (text == NULL || strcmp(text, "hello from pkg-config") != 0) return 3;
  rulloc_bucket_stats stats[3];
  size_t n = rulloc_heap_stats(heap, stats, 3);
  rulloc_free(heap, text);
  if (n != 3 || !rulloc_heap_check(heap)) return 4;
  rulloc_heap_destroy(heap);
  printf("pkg_consumer: %s, %zu buckets\n", "ok", n);
  return 0;
}
