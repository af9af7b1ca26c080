// A WASI preview1 reactor with WIT exports (tests/testdata/wasi/p2reactor.wit), made a
// component with jco's preview1 reactor adapter: the shape cargo-component and
// `wasm-tools component new --adapt` give libraries. Built by mk/testdata.mk.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((import_module("$root"), import_name("note"))) uint32_t note(const char *p, uint32_t n);

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

__attribute__((export_name("relay"))) uint32_t relay(char *p, uint32_t n) { return note(p, n); }

__attribute__((export_name("boom"))) void boom(void) { __builtin_trap(); }
