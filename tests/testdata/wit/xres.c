// Guest for the exported-resource tests: implements the resource counter of xres.wit. Its
// representation is a slot number (1-based) in a static table; the host holds handles.
// Built by mk/testdata.mk (make -f mk/testdata.mk tests/testdata/wit/xres.wasm).
#include <stdint.h>

#define BUILTIN(name) __attribute__((import_module("[export]test:xres/store"), import_name(name)))
BUILTIN("[resource-new]counter") int32_t counter_new(int32_t rep);
BUILTIN("[resource-rep]counter") int32_t counter_rep(int32_t handle);
BUILTIN("[resource-drop]counter") void counter_drop(int32_t handle);

__attribute__((import_module("$root"), import_name("added"))) void added(int32_t n);

#define EXPORT(name) __attribute__((export_name("test:xres/store#" name)))

#define SLOTS 64
static uint32_t value[SLOTS + 1];
static uint8_t used[SLOTS + 1];
static uint32_t freed;

static int32_t alloc(uint32_t start) {
	for (int32_t i = 1; i <= SLOTS; i++) {
		if (!used[i]) {
			used[i] = 1;
			value[i] = start;
			return i;
		}
	}
	__builtin_trap();
}

static uint32_t *at(int32_t rep) {
	if (rep < 1 || rep > SLOTS || !used[rep]) {
		__builtin_trap();
	}
	return &value[rep];
}

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, uint32_t old_size, uint32_t align, uint32_t new_size) {
	(void)old, (void)old_size, (void)align, (void)new_size;
	__builtin_trap();
}

EXPORT("[dtor]counter") void counter_dtor(int32_t rep) {
	at(rep);
	used[rep] = 0;
	freed++;
}

EXPORT("[constructor]counter") int32_t counter_ctor(int32_t start) { return counter_new(alloc((uint32_t)start)); }
EXPORT("[method]counter.add") int32_t counter_add(int32_t self, int32_t n) {
	added(n);
	return (int32_t)(*at(self) += (uint32_t)n);
}
EXPORT("[method]counter.get") int32_t counter_get(int32_t self) { return (int32_t)*at(self); }
EXPORT("[static]counter.make") int32_t counter_make(int32_t start) { return counter_new(alloc((uint32_t)start)); }

EXPORT("[method]counter.absorb") void counter_absorb(int32_t self, int32_t other) {
	*at(self) += *at(counter_rep(other));
	counter_drop(other); // runs the destructor on other's rep
}

EXPORT("total") int32_t total(int32_t a, int32_t b) { return (int32_t)(*at(a) + *at(b)); }
EXPORT("freed") int32_t get_freed(void) { return (int32_t)freed; }

EXPORT("roundtrip") int32_t roundtrip(int32_t start) {
	int32_t h = counter_new(alloc((uint32_t)start));
	uint32_t v = *at(counter_rep(h));
	counter_drop(h);
	return (int32_t)v;
}

EXPORT("rep-of") int32_t rep_of(int32_t h) { return counter_rep(h); }
EXPORT("drop-handle") void drop_handle(int32_t h) { counter_drop(h); }
EXPORT("forge") int32_t forge(int32_t h) { return h; }
EXPORT("flood") int32_t flood(int32_t n) {
	int32_t h = 0;
	for (int32_t i = 0; i < n; i++) {
		h = counter_new(1);
	}
	return h;
}
