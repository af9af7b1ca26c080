// c_basic.c — a small freestanding C module (no libc, no imports) exercising what clang emits
// for ordinary code: recursion, data segments, loops over static arrays, float math, the
// shadow stack (__stack_pointer) and exported memory.
//
// Built by mk/testdata.mk:
//   clang-19 --target=wasm32 -mcpu=mvp -O2 -nostdlib -ffreestanding -Wall \
//     -Wl,--no-entry -Wl,--strip-debug -Wl,--export-dynamic -o c_basic.wasm c_basic.c
//
// Expected results (checked against wazero in bench/fixtures_test.go):
//   fib(20) = 6765, fib(30) = 832040
//   greeting_len() = 27, sum_bytes() = 2357
//   isqrt(1000000) = 1000, sqrt_newton(2.0) = 0x3ff6a09e667f3bcc (1 ulp below sqrt(2))
//   count_primes(10000) = 1229
//   sum_squares_stack(100) = 338350

#define EXPORT(name) __attribute__((export_name(#name), used))

// clang lowers zeroing loops to memset calls; without libc we provide it.
void *memset(void *dst, int c, unsigned long n) {
  volatile unsigned char *d = dst; // volatile: keep clang from turning this back into memset
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

EXPORT(fib) int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static const char greeting[] = "hello from hlwasm, in C ok!";

static unsigned my_strlen(const char *s) {
  const char *p = s;
  while (*p) p++;
  return (unsigned)(p - s);
}

// Length of a string held in a data segment.
EXPORT(greeting_len) unsigned greeting_len(void) { return my_strlen(greeting); }

// Sum of the bytes of that string (volatile read defeats constant folding).
EXPORT(sum_bytes) unsigned sum_bytes(void) {
  unsigned sum = 0;
  for (unsigned i = 0; i < sizeof greeting - 1; i++) sum += ((const volatile char *)greeting)[i];
  return sum;
}

// Address of the greeting in linear memory, so a host can read it through the memory export.
EXPORT(greeting_ptr) const char *greeting_ptr(void) { return greeting; }

// Square root by Newton's method, in double precision.
static double newton_sqrt(double x) {
  if (x <= 0) return 0;
  double g = x > 1 ? x / 2 : 1;
  for (int i = 0; i < 64; i++) {
    double next = 0.5 * (g + x / g);
    if (next == g) break;
    g = next;
  }
  return g;
}

EXPORT(sqrt_newton) double sqrt_newton(double x) { return newton_sqrt(x); }

// Integer square root via the float routine (exercises f64 <-> i32 conversions).
EXPORT(isqrt) unsigned isqrt(unsigned n) {
  unsigned r = (unsigned)newton_sqrt((double)n);
  while ((unsigned long long)r * r > n) r--;
  while ((unsigned long long)(r + 1) * (r + 1) <= n) r++;
  return r;
}

// Sieve of Eratosthenes over a static (zero-initialised, .bss) array.
#define SIEVE_MAX 100000
static unsigned char composite[SIEVE_MAX + 1];

EXPORT(count_primes) int count_primes(int n) {
  if (n > SIEVE_MAX) n = SIEVE_MAX;
  for (int i = 0; i <= n; i++) composite[i] = 0;
  int count = 0;
  for (int i = 2; i <= n; i++) {
    if (composite[i]) continue;
    count++;
    for (long j = (long)i * i; j <= n; j += i) composite[j] = 1;
  }
  return count;
}

// Uses the shadow stack: a local array whose address escapes into a noinline function.
__attribute__((noinline)) static long long sum_array(const volatile int *a, int n) {
  long long s = 0;
  for (int i = 0; i < n; i++) s += a[i];
  return s;
}

EXPORT(sum_squares_stack) long long sum_squares_stack(int n) {
  volatile int buf[128];
  if (n > 128) n = 128;
  for (int i = 0; i < n; i++) buf[i] = (i + 1) * (i + 1);
  return sum_array(buf, n);
}
