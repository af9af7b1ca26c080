// rt.h — the whole "runtime" of the benchmark kernels: no libc, no imports. Each kernel is one
// freestanding translation unit compiled by clang-19 --target=wasm32 -O2 -nostdlib (see
// mk/testdata.mk) and exports `run(...)` returning a 64-bit checksum, identical on every
// correct engine.
#ifndef BENCH_RT_H
#define BENCH_RT_H

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long i64;
typedef unsigned long usize;

#ifdef __wasm__
#define EXPORT(name) __attribute__((export_name(#name), used))
#else
#define EXPORT(name)
#endif

// clang may lower loops to calls of these; with -nostdlib they must exist. `volatile` keeps the
// loop idiom recogniser from turning their bodies back into calls to themselves.
void *memset(void *dst, int c, usize n) {
  volatile u8 *d = dst;
  while (n--) *d++ = (u8)c;
  return dst;
}
void *memcpy(void *dst, const void *src, usize n) {
  volatile u8 *d = dst;
  const u8 *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

// Bump allocator over linear memory above __heap_base, growing memory as needed. heap_reset()
// at the start of every run() keeps repeated calls from growing memory without bound.
#ifdef __wasm__
extern u8 __heap_base;
#define HEAP_START ((usize)&__heap_base)
static usize mem_end(void) { return __builtin_wasm_memory_size(0) * 65536ul; }
static int mem_grow(usize pages) { return __builtin_wasm_memory_grow(0, pages) != (usize)-1; }
#else // native build, only to cross-check checksums (kernels/native_check.sh)
static u8 native_heap[64 << 20] __attribute__((aligned(16)));
#define HEAP_START ((usize)native_heap)
static usize mem_end(void) { return HEAP_START + sizeof native_heap; }
static int mem_grow(usize pages) { (void)pages; return 0; }
#endif

static usize heap_top;

static void heap_reset(void) { heap_top = HEAP_START; }

static void *heap_alloc(usize size) {
  if (heap_top == 0) heap_reset();
  usize p = (heap_top + 15) & ~(usize)15;
  usize end = p + size;
  usize have = mem_end();
  if (end > have && !mem_grow((end - have + 65535) / 65536)) __builtin_trap();
  heap_top = end;
  return (void *)p;
}

// Deterministic pseudo-random numbers (64-bit LCG, Knuth's MMIX constants).
static u64 lcg_state;
static void lcg_seed(u64 s) { lcg_state = s; }
static u32 lcg_next(void) {
  lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
  return (u32)(lcg_state >> 32);
}

// FNV-1a style 64-bit mixing for checksums.
static u64 mix64(u64 h, u64 v) {
  h ^= v;
  h *= 0x100000001b3ull;
  h ^= h >> 29;
  return h;
}

#endif
