// A WASI preview1 reactor with WIT exports (tests/testdata/wasi/p2reactor.wit: world p2lib,
// and with -DNOTE world p2reactor), made a
// component with jco's preview1 reactor adapter: the shape cargo-component and
// `wasm-tools component new --adapt` give libraries. Built by mk/testdata.mk.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef NOTE // world p2reactor: an import of the embedder's own
__attribute__((import_module("$root"), import_name("note"))) uint32_t note(const char *p, uint32_t n);
#endif

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
	(void)old_size, (void)align;
	return realloc(old, new_size);
}

static uint32_t ret[3];

__attribute__((export_name("add"))) uint32_t add(uint32_t a, uint32_t b) { return a + b; }

__attribute__((export_name("shout"))) uint32_t *shout(char *p, uint32_t n) {
	char *o = malloc(n ? n : 1);
	for (uint32_t i = 0; i < n; i++) {
		o[i] = (p[i] >= 'a' && p[i] <= 'z') ? p[i] - 32 : p[i];
	}
	printf("shouting %u bytes\n", (unsigned)n);
	fflush(stdout);
	ret[0] = (uint32_t)(uintptr_t)o;
	ret[1] = n;
	return ret;
}

__attribute__((export_name("env"))) uint32_t *env(char *p, uint32_t n) {
	char *name = malloc(n + 1);
	memcpy(name, p, n);
	name[n] = 0;
	const char *v = getenv(name);
	ret[0] = v != NULL;
	ret[1] = (uint32_t)(uintptr_t)v;
	ret[2] = v ? (uint32_t)strlen(v) : 0;
	return ret;
}

static uint32_t calls;

__attribute__((export_name("bump"))) uint32_t bump(void) { return ++calls; }

#ifdef NOTE
__attribute__((export_name("relay"))) uint32_t relay(char *p, uint32_t n) { return note(p, n); }
#endif

__attribute__((export_name("boom"))) void boom(void) { __builtin_trap(); }

// The exported resource counter of interface store: its rep is a pointer to a heap cell.
#define BUILTIN(name) __attribute__((import_module("[export]test:p2reactor/store"), import_name(name)))
BUILTIN("[resource-new]counter") int32_t counter_new(uint32_t *rep);
BUILTIN("[resource-rep]counter") uint32_t *counter_rep(int32_t handle);
BUILTIN("[resource-drop]counter") void counter_drop(int32_t handle);
#define STORE(name) __attribute__((export_name("test:p2reactor/store#" name)))

static uint32_t freed;

static uint32_t *cell(uint32_t start) {
	uint32_t *c = malloc(sizeof *c);
	*c = start;
	return c;
}

STORE("[dtor]counter") void counter_dtor(uint32_t *rep) {
	free(rep);
	freed++;
}

STORE("[constructor]counter") int32_t counter_ctor(uint32_t start) { return counter_new(cell(start)); }

STORE("[method]counter.add") uint32_t counter_add(uint32_t *self, uint32_t n) { return *self += n; }

STORE("roundtrip") uint32_t roundtrip(uint32_t start) {
	int32_t h = counter_new(cell(start));
	uint32_t v = *counter_rep(h);
	counter_drop(h);
	return v;
}

STORE("freed") uint32_t get_freed(void) { return freed; }
