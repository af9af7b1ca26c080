// The guest of examples/wit: a core module following the Canonical ABI for hello.wit.
// Built by mk/testdata.mk: make -f mk/testdata.mk examples/wit/hello.wasm
#include <stddef.h>
#include <stdint.h>

// import log: func(msg: string) — a string is (pointer, length).
__attribute__((import_module("$root"), import_name("log")))
void host_log(const char *msg, size_t len);

extern unsigned char __heap_base;
static uintptr_t heap;

// cabi_realloc: the host calls it to allocate the strings it passes in (a bump allocator).
__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
	if (!heap) heap = (uintptr_t)&__heap_base;
	heap = (heap + align - 1) & ~(uintptr_t)(align - 1);
	unsigned char *p = (unsigned char *)heap;
	heap += new_size;
	size_t have = __builtin_wasm_memory_size(0) * 65536;
	if (heap > have && __builtin_wasm_memory_grow(0, (heap - have + 65535) / 65536) < 0) __builtin_trap();
	for (size_t i = 0; old && i < old_size && i < new_size; i++) p[i] = ((unsigned char *)old)[i];
	return p;
}

// The result of run (a string) flattens to two values, more than one: it is returned
// through a return area, a (pointer, length) pair in memory.
_Alignas(4) static uint32_t ret[2];

// export run: func(name: string) -> string
__attribute__((export_name("run")))
uint32_t *run(const char *name, size_t len) {
	host_log("run called", 10);
	static const char hello[] = "Hello, ";
	char *out = cabi_realloc(0, 0, 1, sizeof hello - 1 + len + 1);
	size_t n = 0;
	for (size_t i = 0; i < sizeof hello - 1; i++) out[n++] = hello[i];
	for (size_t i = 0; i < len; i++) out[n++] = name[i];
	out[n++] = '!';
	ret[0] = (uint32_t)out;
	ret[1] = n;
	return ret;
}
