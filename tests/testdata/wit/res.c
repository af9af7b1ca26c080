// Guest for the resource test: uses the host resource counter of res.wit through handles.
// Built by mk/testdata.mk (make -f mk/testdata.mk tests/testdata/wit/res.wasm).
#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("test:res/store"), import_name(name)))
IMPORT("[constructor]counter") int32_t counter_new(int32_t start);
IMPORT("[method]counter.add") int32_t counter_add(int32_t self, int32_t n);
IMPORT("[static]counter.make") int32_t counter_make(void);
IMPORT("[resource-drop]counter") void counter_drop(int32_t self);
IMPORT("total") int32_t total(int32_t c);

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, uint32_t old_size, uint32_t align, uint32_t new_size) {
	__builtin_trap();
}

__attribute__((export_name("run")))
int32_t run(void) {
	int32_t a = counter_new(5);
	int32_t b = counter_make();
	counter_add(a, 3);           // 8
	counter_add(b, 100);         // 100
	int32_t r = total(a) * 1000 + total(b);
	counter_drop(a);
	counter_drop(b);
	return r;                    // 8100
}
