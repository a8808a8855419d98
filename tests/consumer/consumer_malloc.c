/* Linked with rulloc::malloc: malloc is rulloc's, as its figures show. */
#include <rulloc/malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  rulloc_malloc_stats before, after;
  if (rulloc_get_malloc_stats(&before) != 0) return 1;
  /* (Both blocks are used below: the optimizer may not drop them.) */
  void* volatile p = malloc(1234);
  char* s = strdup("copied by libc, into rulloc");
  if (rulloc_get_malloc_stats(&after) != 0) return 2;
  if (p == NULL || s == NULL) return 3;
  if (after.allocations < before.allocations + 2) return 4;
  printf("consumer_malloc: '%s', %zu allocations so far\n", s,
         after.allocations);
  free(s);
  free(p);
  return 0;
}
