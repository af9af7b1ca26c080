# engine.mk — the engine's sources and required flags, included by the guest and hosted builds.
# Paths are relative to this directory (wasmguest/engine).
ENGINE_SRCS := decode.c compile.c interp.c store.c host.c
# -fno-math-errno: __builtin_sqrt/sqrtf compile to sqrtss/sqrtsd with no libm fallback.
# -fno-strict-overflow is NOT required (no signed overflow is relied on).
ENGINE_CFLAGS += -fno-math-errno
