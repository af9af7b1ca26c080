// alloc.c — the guest heap: plat_alloc/plat_free for the engine's data, plat_mem_reserve for
// linear memories. Small blocks come from size-class free lists and a bump pointer growing up;
// linear-memory reservations are carved from the top of the heap growing down. Guest memory
// starts zeroed and untouched, so a fresh block is zero without being written (first touches
// of guest pages are expensive on PVM, ~30 µs each); only reused blocks are cleared.
#include "../engine/engine.h"
#include "rt.h"

enum { MIN_SHIFT = 4, MAX_SMALL_SHIFT = 11, NCLASS = MAX_SMALL_SHIFT - MIN_SHIFT + 1, PAGE = 4096 };

typedef struct free_block {
  struct free_block *next;
  size_t size;
} free_block;

static uintptr_t heap_base;          // start of the heap: heap_lo - heap_base is its high-water mark
static uintptr_t heap_lo, heap_hi;    // [heap_lo, heap_hi) is still unallocated
static free_block *small_free[NCLASS]; // by class
static free_block *large_free;         // exact-size reuse of page-multiple blocks

void heap_init(uint64_t base, uint64_t size) {
  heap_base = heap_lo = (uintptr_t)base;
  heap_hi = (uintptr_t)(base + size);
}

static int size_class(size_t size) {
  int c = 0;
  while (((size_t)1 << (c + MIN_SHIFT)) < size) c++;
  return c;
}

static void *bump(size_t size, size_t align) {
  uintptr_t p = (heap_lo + align - 1) & ~(uintptr_t)(align - 1);
  if (p < heap_lo || p > heap_hi || heap_hi - p < size) return NULL;
  heap_lo = p + size;
  return (void *)p;
}

void *plat_alloc(size_t size) {
  if (size == 0) size = 1;
  if (size <= ((size_t)1 << MAX_SMALL_SHIFT)) {
    int c = size_class(size);
    size_t csize = (size_t)1 << (c + MIN_SHIFT);
    free_block *b = small_free[c];
    if (b) {
      small_free[c] = b->next;
      memset(b, 0, csize);
      return b;
    }
    return bump(csize, 16);
  }
  if (size > SIZE_MAX - PAGE) return NULL;
  size = (size + PAGE - 1) & ~(size_t)(PAGE - 1);
  for (free_block **pp = &large_free; *pp; pp = &(*pp)->next) {
    free_block *b = *pp;
    if (b->size == size) {
      *pp = b->next;
      memset(b, 0, size);
      return b;
    }
  }
  return bump(size, PAGE);
}

void plat_free(void *p, size_t size) {
  if (!p) return;
  if (size == 0) size = 1;
  free_block *b = p;
  if (size <= ((size_t)1 << MAX_SMALL_SHIFT)) {
    int c = size_class(size);
    b->next = small_free[c];
    small_free[c] = b;
    return;
  }
  b->size = (size + PAGE - 1) & ~(size_t)(PAGE - 1);
  b->next = large_free;
  large_free = b;
}

// Reservations are never reused: a reused region would have to be cleared page by page.
// A store lives as long as its VM, so this costs address space, never memory.
void *plat_mem_reserve(uint64_t max_bytes) {
  const uint64_t align = 65536;
  if (max_bytes > heap_hi - heap_lo) return NULL;
  uint64_t size = (max_bytes + align - 1) & ~(align - 1);
  if (size == 0) size = align; // a unique, valid base even for a zero-page memory
  uintptr_t p = (heap_hi - size) & ~(uintptr_t)(align - 1);
  if (p < heap_lo || p > heap_hi) return NULL;
  heap_hi = p;
  return (void *)p;
}

void plat_mem_release(void *base, uint64_t max_bytes) {
  (void)base;
  (void)max_bytes;
}

// Code memory (plat_code_alloc): bump allocated from the code region, never freed (a store
// lives as long as its VM). The host maps the region twice: writable and no-execute here,
// read+execute and never writable at HL_CODE_EXEC_ADDR.
static uintptr_t code_lo, code_hi, code_base;

void code_init(uint64_t base, uint64_t size) {
  if (size > HL_CODE_MAX) size = 0; // not a layout this runtime knows: no compile tier
  code_base = code_lo = (uintptr_t)base;
  code_hi = (uintptr_t)(base + size);
}

void *plat_code_alloc(size_t size, uintptr_t *exec) {
  size = (size + 15) & ~(size_t)15;
  if (size > code_hi - code_lo) return NULL;
  uintptr_t p = code_lo;
  code_lo += size;
  *exec = (uintptr_t)HL_CODE_EXEC_ADDR + (p - code_base);
  return (void *)p;
}

void heap_usage(uint64_t *data, uint64_t *code) {
  *data = heap_lo - heap_base;
  *code = code_lo - code_base;
}

// A store lives as long as its VM: code memory is never handed back.
void plat_code_free(void *p, size_t size) {
  (void)p;
  (void)size;
}

// Compiled code stops 128 KiB above the bottom of the engine stack: below that, only the C
// frames of host and nested calls run (main.c refuses a nested call with less than 64 KiB left).
uintptr_t plat_stack_limit(void) { return (uintptr_t)HL_U_STACK_BASE + (128u << 10); }
