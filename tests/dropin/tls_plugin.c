/* A library with 100 KB of thread-local data, for reliability.c's
 * dlopen-tls mode: each thread that touches it gets a block of its own,
 * which the C library frees when the thread exits. */
__thread char dropin_tls[100 * 1024];

int dropin_touch_tls(int value) {
  dropin_tls[(unsigned)value * 4099u % sizeof dropin_tls] = (char)value;
  dropin_tls[sizeof dropin_tls - 1] = (char)(value + 1);
  return dropin_tls[(unsigned)value * 4099u % sizeof dropin_tls];
}
