// Round-trip guest for the wit package tests: a core module following the Canonical ABI for
// the world rt in rt.wit. Built by mk/testdata.mk (clang-19 --target=wasm32 -nostdlib).
//
// The echo-<type> exports (generated, rt_gen.c) pass their arguments to the host import of
// the same name and return what it returns: the host lowers, lifts, lowers and lifts each
// value. The other exports build or read values with C's own struct layouts, which match
// the Canonical ABI's, so a layout bug in the host cannot cancel itself out; the bad-* and
// call-bad exports produce malformed values.
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

extern unsigned char __heap_base;
static uintptr_t heap;
static uint32_t realloc_mode;
_Alignas(8) static unsigned char RET[256]; // return area

void *memcpy(void *d, const void *s, size_t n) {
	unsigned char *dp = d;
	const unsigned char *sp = s;
	while (n--) *dp++ = *sp++;
	return d;
}

void *memset(void *d, int c, size_t n) {
	unsigned char *dp = d;
	while (n--) *dp++ = (unsigned char)c;
	return d;
}

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
	switch (realloc_mode) {
	case 1: return (void *)0xFFFFFFF0u;            // out of bounds
	case 2: return (void *)((uintptr_t)RET + 1);  // misaligned for align > 1
	case 3: __builtin_trap();
	}
	if (!heap) heap = (uintptr_t)&__heap_base;
	heap = (heap + align - 1) & ~(uintptr_t)(align - 1);
	uintptr_t p = heap;
	heap += new_size;
	size_t have = __builtin_wasm_memory_size(0) * 65536;
	if (heap > have) {
		if (__builtin_wasm_memory_grow(0, (heap - have + 65535) / 65536) < 0) __builtin_trap();
	}
	if (old) memcpy((void *)p, old, old_size < new_size ? old_size : new_size);
	return (void *)p;
}

static void *alloc(size_t align, size_t n) { return cabi_realloc(0, 0, align, n); }

#include "rt_gen.c"

// spill: 18 flat parameters, so both the export and the import take a pointer to them.
__attribute__((import_module("test:rt/host@0.1.0"), import_name("spill")))
void host_spill(int32_t args, int32_t ret);
__attribute__((export_name("test:rt/guest@0.1.0#spill")))
int32_t guest_spill(int32_t args) {
	host_spill(args, (int32_t)RET);
	return (int32_t)RET;
}

typedef struct { const char *p; size_t len; } str;
typedef struct { int32_t x, y; } point;
typedef struct { uint8_t a; uint64_t b; str c; float d; bool e; } mixed;
typedef struct {
	uint8_t tag;
	union { float circle; point rect; uint64_t big; str label; } u;
} shape;

_Static_assert(sizeof(mixed) == 32, "mixed layout");
_Static_assert(sizeof(shape) == 16, "shape layout");

__attribute__((export_name("test:rt/guest@0.1.0#sum-points")))
int64_t sum_points(const point *p, size_t n) {
	int64_t s = 0;
	for (size_t i = 0; i < n; i++) s += (int64_t)p[i].x * 1000 + p[i].y;
	return s;
}

__attribute__((export_name("test:rt/guest@0.1.0#make-mixed")))
mixed *make_mixed(uint32_t n) {
	mixed *m = (mixed *)RET;
	m->a = (uint8_t)n;
	m->b = (uint64_t)n * 1000000000000ull;
	m->c = (str){"mixed", 5};
	m->d = (float)n + 0.5f;
	m->e = n & 1;
	return m;
}

__attribute__((export_name("test:rt/guest@0.1.0#make-shape")))
shape *make_shape(uint32_t which) {
	shape *s = (shape *)RET;
	memset(s, 0, sizeof *s);
	s->tag = (uint8_t)which;
	switch (which) {
	case 0: s->u.circle = 1.5f; break;
	case 1: s->u.rect = (point){-3, 4}; break;
	case 3: s->u.big = 0xFFFFFFFFFFFFFFFFull; break;
	case 4: s->u.label = (str){"lbl", 3}; break;
	}
	return s;
}

__attribute__((export_name("test:rt/guest@0.1.0#count-flags")))
uint32_t count_flags(uint32_t bits) {
	return __builtin_popcount(bits);
}

static const uint16_t n0[] = {1, 2, 3};
static const uint16_t n2[] = {65535};
typedef struct { const uint16_t *p; size_t len; } u16list;

__attribute__((export_name("test:rt/guest@0.1.0#make-nested")))
int32_t make_nested(void) {
	u16list *l = alloc(4, 3 * sizeof(u16list));
	l[0] = (u16list){n0, 3};
	l[1] = (u16list){0, 0};
	l[2] = (u16list){n2, 1};
	uint32_t *r = (uint32_t *)RET;
	r[0] = (uint32_t)l;
	r[1] = 3;
	return (int32_t)RET;
}

static const char invalid_utf8[] = "ok\xff\xfe";
_Alignas(4) static uint32_t words[4] = {1, 2, 3, 4};

__attribute__((export_name("test:rt/guest@0.1.0#bad-string")))
int32_t bad_string(uint32_t kind) {
	uint32_t *r = (uint32_t *)RET;
	switch (kind) {
	case 0: r[0] = 0xFFFFFF00u; r[1] = 0x1000; break;           // past memory
	case 1: r[0] = (uint32_t)invalid_utf8; r[1] = 4; break;     // invalid UTF-8
	case 2: r[0] = 0; r[1] = 0x7FFFFFFF; break;                 // over the limit
	case 3: r[0] = 0xFFFFFFFFu; r[1] = 2; break;                // ptr+len wraps
	default: return 0xFFFFFFFC;                                 // return area out of bounds
	}
	return (int32_t)RET;
}

__attribute__((export_name("test:rt/guest@0.1.0#bad-list")))
int32_t bad_list(uint32_t kind) {
	uint32_t *r = (uint32_t *)RET;
	switch (kind) {
	case 0: r[0] = (uint32_t)words + 1; r[1] = 2; break;        // misaligned
	case 1: r[0] = (uint32_t)words; r[1] = 0x40000001; break;   // 4 GiB + 4 bytes
	case 2: r[0] = 0xFFFF0000u; r[1] = 0x100; break;            // past memory
	case 3: r[0] = (uint32_t)words; r[1] = 0x100000; break;     // 4 MiB: over a small limit
	default: return (int32_t)RET + 2;                           // misaligned return area
	}
	return (int32_t)RET;
}

__attribute__((export_name("test:rt/guest@0.1.0#bad-enum")))
int32_t bad_enum(void) { return 7; }

__attribute__((export_name("test:rt/guest@0.1.0#bad-char")))
int32_t bad_char(void) { return 0xD800; }

__attribute__((export_name("test:rt/guest@0.1.0#bad-option")))
int32_t bad_option(void) {
	RET[0] = 2;
	RET[1] = 0;
	return (int32_t)RET;
}

__attribute__((export_name("test:rt/guest@0.1.0#call-bad")))
int32_t call_bad(uint32_t kind) {
	switch (kind) {
	case 0: host_echo_string(0xFFFFFF00, 100, (int32_t)RET); break;             // bad pointer
	case 1: host_echo_string((int32_t)invalid_utf8, 4, (int32_t)RET); break;    // invalid UTF-8
	case 2: host_echo_string((int32_t)"x", 1, (int32_t)0xFFFFFFF0); break;      // bad return area
	case 3: host_echo_points((int32_t)words + 2, 1, (int32_t)RET); break;       // misaligned list
	case 4: host_echo_string((int32_t)"x", 1, (int32_t)RET + 1); break;         // misaligned return area
	case 5: host_echo_string(0, 0x7FFFFFFF, (int32_t)RET); break;               // over the limit
	default: host_echo_string((int32_t)"fine", 4, (int32_t)RET);
	}
	return (int32_t)RET;
}

__attribute__((export_name("test:rt/guest@0.1.0#set-realloc-mode")))
void set_realloc_mode(uint32_t mode) { realloc_mode = mode; }

__attribute__((import_module("$root"), import_name("root-log")))
void root_log(int32_t p, int32_t len);
__attribute__((import_module("test:rt/host@0.1.0"), import_name("log")))
void host_log(int32_t p, int32_t len);

static uint32_t posts;

__attribute__((export_name("run")))
int32_t run(const char *name, size_t len) {
	root_log((int32_t)name, len);
	host_log((int32_t)"from host#log", 13);
	char *out = alloc(1, 7 + len);
	memcpy(out, "hello, ", 7);
	memcpy(out + 7, name, len);
	uint32_t *r = (uint32_t *)RET;
	r[0] = (uint32_t)out;
	r[1] = 7 + len;
	return (int32_t)RET;
}

__attribute__((export_name("cabi_post_run")))
void post_run(int32_t ret) { posts++; }
