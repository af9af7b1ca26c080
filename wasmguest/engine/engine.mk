# engine.mk — the engine's sources and required flags, included by the guest and hosted builds.
# Paths are relative to this directory (wasmguest/engine).
ENGINE_SRCS := decode.c compile.c interp.c store.c host.c simd.c jit_x64.c
# -fno-math-errno: __builtin_sqrt/sqrtf compile to sqrtss/sqrtsd with no libm fallback.
ENGINE_CFLAGS += -fno-math-errno
# clang only: LLVM's tail duplication skips blocks with more than 16 predecessors, so all the
# interpreter's computed gotos would share ONE indirect jump (one branch-predictor entry for every
# instruction: about 1.6x slower). These flags restore one dispatch jump per handler. gcc needs
# nothing (and does not know -mllvm).
ENGINE_CLANG_CFLAGS := -mllvm -tail-dup-pred-size=1000 -mllvm -tail-dup-succ-size=1000
ifneq (,$(findstring clang,$(GUEST_CC) $(CC)))
ENGINE_CFLAGS += $(ENGINE_CLANG_CFLAGS)
endif
