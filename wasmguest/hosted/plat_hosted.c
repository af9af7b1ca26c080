// plat_hosted.c — the engine's platform services (engine.h, plat_*) on Linux libc, for the hosted
// builds: the spec test runner, unit tests and fuzz targets. plat_host_call dispatches to a
// handler the program installs (plat_hosted.h).
#define _GNU_SOURCE // MAP_ANONYMOUS, MAP_NORESERVE, memfd_create
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../engine/engine.h"
#include "plat_hosted.h"

static uint64_t heap_limit, heap_used; // plat_hosted_set_heap_limit
static void *hosted_alloc(size_t size);

void plat_hosted_set_heap_limit(uint64_t bytes) { heap_limit = bytes; }

void *plat_alloc(size_t size) {
  if (size == 0) size = 1; // a unique, freeable pointer, like the guest allocator
  uint64_t used = __atomic_add_fetch(&heap_used, size, __ATOMIC_RELAXED);
  if (heap_limit && used > heap_limit) {
    __atomic_sub_fetch(&heap_used, size, __ATOMIC_RELAXED);
    return NULL;
  }
  void *p = hosted_alloc(size);
  if (!p) __atomic_sub_fetch(&heap_used, size, __ATOMIC_RELAXED);
  return p;
}

static void *hosted_alloc(size_t size) {
  // calloc first: large blocks come zeroed from mmap, with no memset to touch every page (the
  // engine's 4 MiB value stack per store). glibc's and the sanitizers' calloc align to 16 on
  // x86-64; anything else falls back to posix_memalign.
  void *p = calloc(1, size);
  if (p == NULL || ((uintptr_t)p & 15) == 0) return p;
  free(p);
  if (posix_memalign(&p, 16, size) != 0) return NULL;
  memset(p, 0, size);
  return p;
}

void plat_free(void *p, size_t size) {
  if (p) __atomic_sub_fetch(&heap_used, size ? size : 1, __ATOMIC_RELAXED);
  free(p);
}

void *plat_mem_reserve(uint64_t max_bytes) {
  if (max_bytes == 0) max_bytes = 1; // mmap rejects length 0; one page keeps base unique
  if (max_bytes > (uint64_t)SIZE_MAX) return NULL;
  void *p = mmap(NULL, (size_t)max_bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void plat_mem_release(void *base, uint64_t max_bytes) {
  if (base == NULL) return;
  if (max_bytes == 0) max_bytes = 1;
  munmap(base, (size_t)max_bytes);
}

// Code memory as in the guest: one memfd mapped twice, read-write (the compiler writes it) and
// read-execute (the code runs from it), never both at one address. Reserved lazily and bump
// allocated (stores of one process share it; see plat_code_free).
#define CODE_BYTES ((size_t)1 << 30)
static uint8_t *code_w, *code_x;
static size_t code_used, code_live; // bytes handed out, blocks not yet freed
static size_t code_keep;            // the first block (the engine's trampoline) stays

static pthread_mutex_t code_mu = PTHREAD_MUTEX_INITIALIZER;

static void *code_alloc_locked(size_t size, uintptr_t *exec) {
  if (!code_w) {
    int fd = memfd_create("hlwasm-code", MFD_CLOEXEC);
    if (fd < 0) return NULL;
    if (ftruncate(fd, (off_t)CODE_BYTES) != 0) { close(fd); return NULL; }
    void *w = mmap(NULL, CODE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    void *x = mmap(NULL, CODE_BYTES, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_NORESERVE, fd, 0);
    close(fd);
    if (w == MAP_FAILED || x == MAP_FAILED) {
      if (w != MAP_FAILED) munmap(w, CODE_BYTES);
      if (x != MAP_FAILED) munmap(x, CODE_BYTES);
      return NULL;
    }
    code_w = w;
    code_x = x;
  }
  size = (size + 15) & ~(size_t)15;
  if (size > CODE_BYTES - code_used) return NULL;
  uint8_t *p = code_w + code_used;
  *exec = (uintptr_t)(code_x + code_used);
  code_used += size;
  if (code_keep == 0) code_keep = code_used;
  else code_live++;
  return p;
}

// Once every instance's code is freed (a fuzzer's store per input), the region is reused from
// the start, so a long run neither runs out of it nor grows without bound.
void plat_code_free(void *p, size_t size) {
  (void)p;
  (void)size;
  pthread_mutex_lock(&code_mu);
  if (code_live && --code_live == 0) code_used = code_keep;
  pthread_mutex_unlock(&code_mu);
}

void *plat_code_alloc(size_t size, uintptr_t *exec) {
  pthread_mutex_lock(&code_mu);
  void *p = code_alloc_locked(size, exec);
  pthread_mutex_unlock(&code_mu);
  return p;
}

static plat_hosted_host_fn host_call;

void plat_hosted_set_host_call(plat_hosted_host_fn fn) { host_call = fn; }

// Overrides the engine's weak default, which fails every call.
uint32_t plat_host_call(uint32_t id, uint64_t *slots, uint32_t nparams, uint32_t nresults,
                        uint8_t *mem, uint64_t mem_size) {
  if (host_call == NULL) return 1;
  return host_call(id, slots, nparams, nresults, mem, mem_size);
}
