// rt.h — the guest runtime's internal interface (CPL3).
#ifndef HL_RT_H
#define HL_RT_H

#include <stddef.h>
#include <stdint.h>

#include "../include/abi.h"
#include "../engine/engine.h"

#define MB_ADDR(off) ((uintptr_t)(HL_MAILBOX_ADDR + (off)))
#define MB_U32(off) (*(volatile uint32_t *)MB_ADDR(off))
#define MB_U64(off) (*(volatile uint64_t *)MB_ADDR(off))

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void heap_init(uint64_t base, uint64_t size);
// code_init sets the code region (its writable view; the executable view is at
// HL_CODE_EXEC_ADDR) that plat_code_alloc hands out.
void code_init(uint64_t base, uint64_t size);
// heap_usage reports the engine heap's and the code region's bytes handed out so far.
void heap_usage(uint64_t *data, uint64_t *code);

// rt_define_host defines the host function table that comes with OpLoad (hostmod.c).
uint32_t rt_define_host(eng_store *store, const uint8_t *p, size_t len, uint32_t count, eng_error *err);
// wait_while and outb are the mailbox primitives (main.c).
uint32_t wait_while(uint32_t waiting, uint32_t parked, uint16_t port, uint32_t budget_off);
// rt_io_local answers a small fd_write or fd_read without a host call when it can (io.c).
#include <stdbool.h>
bool rt_io_local(uint32_t id, uint64_t *slots, uint32_t nparams, uint32_t nresults, uint8_t *mem, uint64_t size);
_Noreturn void rt_panic(const char *msg);

#endif
