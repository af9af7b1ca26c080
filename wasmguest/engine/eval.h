// eval.h — the value conversions of slots (CT_/LD_/ST_: a slot's uint64_t bits as a C value of
// each value type and back) and the semantics of every N2 row as a function ev_<name>(a, b),
// shared by the interpreter (interp.c) and the compile tier (jit_x64.c), so both compute every
// numeric instruction from the same opcodes.h expression.
#ifndef HL_ENGINE_EVAL_H
#define HL_ENGINE_EVAL_H

#include "internal.h"
#include "numeric.h"

#define CT_I uint32_t
#define CT_L uint64_t
#define CT_F float
#define CT_D double
#define LD_I(x) ((uint32_t)(x))
#define LD_L(x) ((uint64_t)(x))
#define LD_F(x) f32_from((uint32_t)(x))
#define LD_D(x) f64_from((uint64_t)(x))
#define ST_I(v) ((uint64_t)(uint32_t)(v))
#define ST_L(v) ((uint64_t)(v))
#define ST_F(v) ((uint64_t)f32_bits(v))
#define ST_D(v) f64_bits(v)

// The semantics of every N2 row as a function, ev_<name>(a, b): the fused forms (opcodes.h
// HL_FUSED_CMP, HL_FUSED_BIN, HL_FUSED_LD) name the rows they stand for and compute with these.
#define EV_N2(n, byte_, i1, i2, out, e)                                                        \
  static inline __attribute__((always_inline)) CT_##out ev_##n(CT_##i1 a, CT_##i2 b) { return (CT_##out)(e); }
#define EV_Z(...)
HL_OPCODES(EV_Z, EV_N2, EV_Z, EV_Z, EV_Z, EV_Z, EV_Z, EV_Z, EV_Z, EV_Z)
#undef EV_N2
#undef EV_Z

#endif
