// hello.c — a freestanding C guest: no libc, no imports, only exported functions and the
// exported linear memory. Built by `make examples-wasm` (mk/testdata.mk):
//
//   clang-19 --target=wasm32 -mcpu=mvp -O2 -nostdlib -ffreestanding -Wall \
//     -Wl,--no-entry -Wl,--strip-debug -o hello.wasm hello.c
//
// A host reads a string out of the guest like this: p = greet(n) returns a pointer into linear
// memory, len = greet_len() its length; read memory[p : p+len].
#define EXPORT(name) __attribute__((export_name(#name), used))

static char out[64];
static unsigned out_len;

static unsigned put(unsigned i, const char *s) {
  while (*s && i < sizeof out) out[i++] = *s++;
  return i;
}

static unsigned put_uint(unsigned i, unsigned v) {
  char tmp[10];
  unsigned n = 0;
  do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n && i < sizeof out) out[i++] = tmp[--n];
  return i;
}

// Writes "hello, guest #<n>!" into a static buffer and returns its address.
EXPORT(greet) const char *greet(unsigned n) {
  unsigned i = put(0, "hello, guest #");
  i = put_uint(i, n);
  out_len = put(i, "!");
  return out;
}

// Length of the string the last greet() produced.
EXPORT(greet_len) unsigned greet_len(void) { return out_len; }

// gcd(a, b) by Euclid's algorithm.
EXPORT(gcd) unsigned gcd(unsigned a, unsigned b) {
  while (b) { unsigned t = a % b; a = b; b = t; }
  return a;
}

// Deliberately traps ("integer divide by zero") when d == 0: for demonstrating trap errors.
EXPORT(divide) int divide(int n, int d) { return n / d; }
