// plat_hosted.c — the engine's platform services (engine.h, plat_*) on Linux libc, for the hosted
// builds: the spec test runner, unit tests and fuzz targets. plat_host_call dispatches to a
// handler the program installs (plat_hosted.h).
#define _DEFAULT_SOURCE // MAP_ANONYMOUS, MAP_NORESERVE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../engine/engine.h"
#include "plat_hosted.h"

void *plat_alloc(size_t size) {
  if (size == 0) size = 1; // a unique, freeable pointer, like the guest allocator
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
  (void)size;
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

static plat_hosted_host_fn host_call;

void plat_hosted_set_host_call(plat_hosted_host_fn fn) { host_call = fn; }

// Overrides the engine's weak default, which fails every call.
uint32_t plat_host_call(uint32_t id, uint64_t *slots, uint32_t nparams, uint32_t nresults,
                        uint8_t *mem, uint64_t mem_size) {
  if (host_call == NULL) return 1;
  return host_call(id, slots, nparams, nresults, mem, mem_size);
}
