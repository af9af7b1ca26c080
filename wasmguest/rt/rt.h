// rt.h — the guest runtime's internal interface (CPL3).
#ifndef HL_RT_H
#define HL_RT_H

#include <stddef.h>
#include <stdint.h>

#include "../include/abi.h"

#define MB_ADDR(off) ((uintptr_t)(HL_MAILBOX_ADDR + (off)))
#define MB_U32(off) (*(volatile uint32_t *)MB_ADDR(off))
#define MB_U64(off) (*(volatile uint64_t *)MB_ADDR(off))

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void heap_init(uint64_t base, uint64_t size);
_Noreturn void rt_panic(const char *msg);

#endif
