// opcodes.h — the single instruction table of the engine.
//
// Every instruction the engine knows appears exactly once below. The lists drive:
//   * decoding      (byte -> internal opcode tables in compile.c),
//   * validation    (fixed stack signatures for the N1/N2/T1/T2/LD/ST kinds are checked generically),
//   * execution     (interp.c builds its computed-goto table from the same list, so an opcode without
//                    a handler fails to compile; N1/N2 handlers are generated from the expression).
//
// Kinds:
//   N1(name, byte, in, out, expr)       unary numeric, no immediates, result = expr(a)
//   N2(name, byte, in1, in2, out, expr) binary numeric, result = expr(a, b)
//   T1(name, byte, in, out)             unary numeric that may trap (hand-written handler)
//   T2(name, byte, in1, in2, out)       binary numeric that may trap (hand-written handler)
//   LD(name, byte, valtype, align_log2) load  (memarg)
//   ST(name, byte, valtype, align_log2) store (memarg)
//   S(name, byte)                       special: immediates / validation written by hand
//   FN1(name, sub, in, out, expr)       0xFC-prefixed unary numeric (saturating truncation)
//   FS(name, sub)                       0xFC-prefixed special
//   I(name)                             internal opcode produced by the compiler only
// Types: I = i32, L = i64, F = f32, D = f64.
#ifndef HL_ENGINE_OPCODES_H
#define HL_ENGINE_OPCODES_H

#define HL_OPCODES(XN1, XN2, XT1, XT2, XLD, XST, XS, XFN1, XFS, XI)                                      \
  XS(UNREACHABLE, 0x00)                                                                      \
  XS(NOP, 0x01)                                                                              \
  XS(BLOCK, 0x02)                                                                            \
  XS(LOOP, 0x03)                                                                             \
  XS(IF, 0x04)                                                                               \
  XS(ELSE, 0x05)                                                                             \
  XS(END, 0x0b)                                                                              \
  XS(BR, 0x0c)                                                                               \
  XS(BR_IF, 0x0d)                                                                            \
  XS(BR_TABLE, 0x0e)                                                                         \
  XS(RETURN, 0x0f)                                                                           \
  XS(CALL, 0x10)                                                                             \
  XS(CALL_INDIRECT, 0x11)                                                                    \
  XS(DROP, 0x1a)                                                                             \
  XS(SELECT, 0x1b)                                                                           \
  XS(SELECT_T, 0x1c)                                                                         \
  XS(LOCAL_GET, 0x20)                                                                        \
  XS(LOCAL_SET, 0x21)                                                                        \
  XS(LOCAL_TEE, 0x22)                                                                        \
  XS(GLOBAL_GET, 0x23)                                                                       \
  XS(GLOBAL_SET, 0x24)                                                                       \
  XS(TABLE_GET, 0x25)                                                                        \
  XS(TABLE_SET, 0x26)                                                                        \
  XLD(I32_LOAD, 0x28, I, 2)                                                                  \
  XLD(I64_LOAD, 0x29, L, 3)                                                                  \
  XLD(F32_LOAD, 0x2a, F, 2)                                                                  \
  XLD(F64_LOAD, 0x2b, D, 3)                                                                  \
  XLD(I32_LOAD8_S, 0x2c, I, 0)                                                               \
  XLD(I32_LOAD8_U, 0x2d, I, 0)                                                               \
  XLD(I32_LOAD16_S, 0x2e, I, 1)                                                              \
  XLD(I32_LOAD16_U, 0x2f, I, 1)                                                              \
  XLD(I64_LOAD8_S, 0x30, L, 0)                                                               \
  XLD(I64_LOAD8_U, 0x31, L, 0)                                                               \
  XLD(I64_LOAD16_S, 0x32, L, 1)                                                              \
  XLD(I64_LOAD16_U, 0x33, L, 1)                                                              \
  XLD(I64_LOAD32_S, 0x34, L, 2)                                                              \
  XLD(I64_LOAD32_U, 0x35, L, 2)                                                              \
  XST(I32_STORE, 0x36, I, 2)                                                                 \
  XST(I64_STORE, 0x37, L, 3)                                                                 \
  XST(F32_STORE, 0x38, F, 2)                                                                 \
  XST(F64_STORE, 0x39, D, 3)                                                                 \
  XST(I32_STORE8, 0x3a, I, 0)                                                                \
  XST(I32_STORE16, 0x3b, I, 1)                                                               \
  XST(I64_STORE8, 0x3c, L, 0)                                                                \
  XST(I64_STORE16, 0x3d, L, 1)                                                               \
  XST(I64_STORE32, 0x3e, L, 2)                                                               \
  XS(MEMORY_SIZE, 0x3f)                                                                      \
  XS(MEMORY_GROW, 0x40)                                                                      \
  XS(I32_CONST, 0x41)                                                                        \
  XS(I64_CONST, 0x42)                                                                        \
  XS(F32_CONST, 0x43)                                                                        \
  XS(F64_CONST, 0x44)                                                                        \
  XN1(I32_EQZ, 0x45, I, I, a == 0)                                                           \
  XN2(I32_EQ, 0x46, I, I, I, a == b)                                                         \
  XN2(I32_NE, 0x47, I, I, I, a != b)                                                         \
  XN2(I32_LT_S, 0x48, I, I, I, (int32_t)a < (int32_t)b)                                      \
  XN2(I32_LT_U, 0x49, I, I, I, a < b)                                                        \
  XN2(I32_GT_S, 0x4a, I, I, I, (int32_t)a > (int32_t)b)                                      \
  XN2(I32_GT_U, 0x4b, I, I, I, a > b)                                                        \
  XN2(I32_LE_S, 0x4c, I, I, I, (int32_t)a <= (int32_t)b)                                     \
  XN2(I32_LE_U, 0x4d, I, I, I, a <= b)                                                       \
  XN2(I32_GE_S, 0x4e, I, I, I, (int32_t)a >= (int32_t)b)                                     \
  XN2(I32_GE_U, 0x4f, I, I, I, a >= b)                                                       \
  XN1(I64_EQZ, 0x50, L, I, a == 0)                                                           \
  XN2(I64_EQ, 0x51, L, L, I, a == b)                                                         \
  XN2(I64_NE, 0x52, L, L, I, a != b)                                                         \
  XN2(I64_LT_S, 0x53, L, L, I, (int64_t)a < (int64_t)b)                                      \
  XN2(I64_LT_U, 0x54, L, L, I, a < b)                                                        \
  XN2(I64_GT_S, 0x55, L, L, I, (int64_t)a > (int64_t)b)                                      \
  XN2(I64_GT_U, 0x56, L, L, I, a > b)                                                        \
  XN2(I64_LE_S, 0x57, L, L, I, (int64_t)a <= (int64_t)b)                                     \
  XN2(I64_LE_U, 0x58, L, L, I, a <= b)                                                       \
  XN2(I64_GE_S, 0x59, L, L, I, (int64_t)a >= (int64_t)b)                                     \
  XN2(I64_GE_U, 0x5a, L, L, I, a >= b)                                                       \
  XN2(F32_EQ, 0x5b, F, F, I, a == b)                                                         \
  XN2(F32_NE, 0x5c, F, F, I, a != b)                                                         \
  XN2(F32_LT, 0x5d, F, F, I, a < b)                                                          \
  XN2(F32_GT, 0x5e, F, F, I, a > b)                                                          \
  XN2(F32_LE, 0x5f, F, F, I, a <= b)                                                         \
  XN2(F32_GE, 0x60, F, F, I, a >= b)                                                         \
  XN2(F64_EQ, 0x61, D, D, I, a == b)                                                         \
  XN2(F64_NE, 0x62, D, D, I, a != b)                                                         \
  XN2(F64_LT, 0x63, D, D, I, a < b)                                                          \
  XN2(F64_GT, 0x64, D, D, I, a > b)                                                          \
  XN2(F64_LE, 0x65, D, D, I, a <= b)                                                         \
  XN2(F64_GE, 0x66, D, D, I, a >= b)                                                         \
  XN1(I32_CLZ, 0x67, I, I, a ? (uint32_t)__builtin_clz(a) : 32u)                             \
  XN1(I32_CTZ, 0x68, I, I, a ? (uint32_t)__builtin_ctz(a) : 32u)                             \
  XN1(I32_POPCNT, 0x69, I, I, popcnt32(a))                                                                    \
  XN2(I32_ADD, 0x6a, I, I, I, a + b)                                                         \
  XN2(I32_SUB, 0x6b, I, I, I, a - b)                                                         \
  XN2(I32_MUL, 0x6c, I, I, I, a * b)                                                         \
  XT2(I32_DIV_S, 0x6d, I, I, I)                                                              \
  XT2(I32_DIV_U, 0x6e, I, I, I)                                                              \
  XT2(I32_REM_S, 0x6f, I, I, I)                                                              \
  XT2(I32_REM_U, 0x70, I, I, I)                                                              \
  XN2(I32_AND, 0x71, I, I, I, a & b)                                                         \
  XN2(I32_OR, 0x72, I, I, I, a | b)                                                          \
  XN2(I32_XOR, 0x73, I, I, I, a ^ b)                                                         \
  XN2(I32_SHL, 0x74, I, I, I, a << (b & 31))                                                 \
  XN2(I32_SHR_S, 0x75, I, I, I, (uint32_t)((int32_t)a >> (b & 31)))                          \
  XN2(I32_SHR_U, 0x76, I, I, I, a >> (b & 31))                                               \
  XN2(I32_ROTL, 0x77, I, I, I, rotl32(a, b))                                                 \
  XN2(I32_ROTR, 0x78, I, I, I, rotr32(a, b))                                                 \
  XN1(I64_CLZ, 0x79, L, L, a ? (uint64_t)__builtin_clzll(a) : 64u)                           \
  XN1(I64_CTZ, 0x7a, L, L, a ? (uint64_t)__builtin_ctzll(a) : 64u)                           \
  XN1(I64_POPCNT, 0x7b, L, L, popcnt64(a))                                                                \
  XN2(I64_ADD, 0x7c, L, L, L, a + b)                                                         \
  XN2(I64_SUB, 0x7d, L, L, L, a - b)                                                         \
  XN2(I64_MUL, 0x7e, L, L, L, a * b)                                                         \
  XT2(I64_DIV_S, 0x7f, L, L, L)                                                              \
  XT2(I64_DIV_U, 0x80, L, L, L)                                                              \
  XT2(I64_REM_S, 0x81, L, L, L)                                                              \
  XT2(I64_REM_U, 0x82, L, L, L)                                                              \
  XN2(I64_AND, 0x83, L, L, L, a & b)                                                         \
  XN2(I64_OR, 0x84, L, L, L, a | b)                                                          \
  XN2(I64_XOR, 0x85, L, L, L, a ^ b)                                                         \
  XN2(I64_SHL, 0x86, L, L, L, a << (b & 63))                                                 \
  XN2(I64_SHR_S, 0x87, L, L, L, (uint64_t)((int64_t)a >> (b & 63)))                          \
  XN2(I64_SHR_U, 0x88, L, L, L, a >> (b & 63))                                               \
  XN2(I64_ROTL, 0x89, L, L, L, rotl64(a, b))                                                 \
  XN2(I64_ROTR, 0x8a, L, L, L, rotr64(a, b))                                                 \
  XN1(F32_ABS, 0x8b, F, F, f32_abs(a))                                                       \
  XN1(F32_NEG, 0x8c, F, F, f32_neg(a))                                                       \
  XN1(F32_CEIL, 0x8d, F, F, f32_ceil(a))                                                     \
  XN1(F32_FLOOR, 0x8e, F, F, f32_floor(a))                                                   \
  XN1(F32_TRUNC, 0x8f, F, F, f32_trunc(a))                                                   \
  XN1(F32_NEAREST, 0x90, F, F, f32_nearest(a))                                               \
  XN1(F32_SQRT, 0x91, F, F, __builtin_sqrtf(a))                                              \
  XN2(F32_ADD, 0x92, F, F, F, a + b)                                                         \
  XN2(F32_SUB, 0x93, F, F, F, a - b)                                                         \
  XN2(F32_MUL, 0x94, F, F, F, a * b)                                                         \
  XN2(F32_DIV, 0x95, F, F, F, a / b)                                                         \
  XN2(F32_MIN, 0x96, F, F, F, f32_min(a, b))                                                 \
  XN2(F32_MAX, 0x97, F, F, F, f32_max(a, b))                                                 \
  XN2(F32_COPYSIGN, 0x98, F, F, F, f32_copysign(a, b))                                       \
  XN1(F64_ABS, 0x99, D, D, f64_abs(a))                                                       \
  XN1(F64_NEG, 0x9a, D, D, f64_neg(a))                                                       \
  XN1(F64_CEIL, 0x9b, D, D, f64_ceil(a))                                                     \
  XN1(F64_FLOOR, 0x9c, D, D, f64_floor(a))                                                   \
  XN1(F64_TRUNC, 0x9d, D, D, f64_trunc(a))                                                   \
  XN1(F64_NEAREST, 0x9e, D, D, f64_nearest(a))                                               \
  XN1(F64_SQRT, 0x9f, D, D, __builtin_sqrt(a))                                               \
  XN2(F64_ADD, 0xa0, D, D, D, a + b)                                                         \
  XN2(F64_SUB, 0xa1, D, D, D, a - b)                                                         \
  XN2(F64_MUL, 0xa2, D, D, D, a * b)                                                         \
  XN2(F64_DIV, 0xa3, D, D, D, a / b)                                                         \
  XN2(F64_MIN, 0xa4, D, D, D, f64_min(a, b))                                                 \
  XN2(F64_MAX, 0xa5, D, D, D, f64_max(a, b))                                                 \
  XN2(F64_COPYSIGN, 0xa6, D, D, D, f64_copysign(a, b))                                       \
  XN1(I32_WRAP_I64, 0xa7, L, I, (uint32_t)a)                                                 \
  XT1(I32_TRUNC_F32_S, 0xa8, F, I)                                                           \
  XT1(I32_TRUNC_F32_U, 0xa9, F, I)                                                           \
  XT1(I32_TRUNC_F64_S, 0xaa, D, I)                                                           \
  XT1(I32_TRUNC_F64_U, 0xab, D, I)                                                           \
  XN1(I64_EXTEND_I32_S, 0xac, I, L, (uint64_t)(int64_t)(int32_t)a)                           \
  XN1(I64_EXTEND_I32_U, 0xad, I, L, (uint64_t)a)                                             \
  XT1(I64_TRUNC_F32_S, 0xae, F, L)                                                           \
  XT1(I64_TRUNC_F32_U, 0xaf, F, L)                                                           \
  XT1(I64_TRUNC_F64_S, 0xb0, D, L)                                                           \
  XT1(I64_TRUNC_F64_U, 0xb1, D, L)                                                           \
  XN1(F32_CONVERT_I32_S, 0xb2, I, F, (float)(int32_t)a)                                      \
  XN1(F32_CONVERT_I32_U, 0xb3, I, F, (float)a)                                               \
  XN1(F32_CONVERT_I64_S, 0xb4, L, F, (float)(int64_t)a)                                      \
  XN1(F32_CONVERT_I64_U, 0xb5, L, F, (float)a)                                               \
  XN1(F32_DEMOTE_F64, 0xb6, D, F, (float)a)                                                  \
  XN1(F64_CONVERT_I32_S, 0xb7, I, D, (double)(int32_t)a)                                     \
  XN1(F64_CONVERT_I32_U, 0xb8, I, D, (double)a)                                              \
  XN1(F64_CONVERT_I64_S, 0xb9, L, D, (double)(int64_t)a)                                     \
  XN1(F64_CONVERT_I64_U, 0xba, L, D, (double)a)                                              \
  XN1(F64_PROMOTE_F32, 0xbb, F, D, (double)a)                                                \
  XN1(I32_REINTERPRET_F32, 0xbc, F, I, f32_bits(a))                                          \
  XN1(I64_REINTERPRET_F64, 0xbd, D, L, f64_bits(a))                                          \
  XN1(F32_REINTERPRET_I32, 0xbe, I, F, f32_from(a))                                          \
  XN1(F64_REINTERPRET_I64, 0xbf, L, D, f64_from(a))                                          \
  XN1(I32_EXTEND8_S, 0xc0, I, I, (uint32_t)(int32_t)(int8_t)(uint8_t)a)                      \
  XN1(I32_EXTEND16_S, 0xc1, I, I, (uint32_t)(int32_t)(int16_t)(uint16_t)a)                   \
  XN1(I64_EXTEND8_S, 0xc2, L, L, (uint64_t)(int64_t)(int8_t)(uint8_t)a)                      \
  XN1(I64_EXTEND16_S, 0xc3, L, L, (uint64_t)(int64_t)(int16_t)(uint16_t)a)                   \
  XN1(I64_EXTEND32_S, 0xc4, L, L, (uint64_t)(int64_t)(int32_t)(uint32_t)a)                   \
  XS(REF_NULL, 0xd0)                                                                         \
  XS(REF_IS_NULL, 0xd1)                                                                      \
  XS(REF_FUNC, 0xd2)                                                                         \
  XFN1(I32_TRUNC_SAT_F32_S, 0, F, I, sat_i32_f32_s(a))                                       \
  XFN1(I32_TRUNC_SAT_F32_U, 1, F, I, sat_i32_f32_u(a))                                       \
  XFN1(I32_TRUNC_SAT_F64_S, 2, D, I, sat_i32_f64_s(a))                                       \
  XFN1(I32_TRUNC_SAT_F64_U, 3, D, I, sat_i32_f64_u(a))                                       \
  XFN1(I64_TRUNC_SAT_F32_S, 4, F, L, sat_i64_f32_s(a))                                       \
  XFN1(I64_TRUNC_SAT_F32_U, 5, F, L, sat_i64_f32_u(a))                                       \
  XFN1(I64_TRUNC_SAT_F64_S, 6, D, L, sat_i64_f64_s(a))                                       \
  XFN1(I64_TRUNC_SAT_F64_U, 7, D, L, sat_i64_f64_u(a))                                       \
  XFS(MEMORY_INIT, 8)                                                                        \
  XFS(DATA_DROP, 9)                                                                          \
  XFS(MEMORY_COPY, 10)                                                                       \
  XFS(MEMORY_FILL, 11)                                                                       \
  XFS(TABLE_INIT, 12)                                                                        \
  XFS(ELEM_DROP, 13)                                                                         \
  XFS(TABLE_COPY, 14)                                                                        \
  XFS(TABLE_GROW, 15)                                                                        \
  XFS(TABLE_SIZE, 16)                                                                        \
  XFS(TABLE_FILL, 17)                                                                        \
  XI(COPY)        /* dst, src */                                                             \
  XI(JMP)         /* target */                                                               \
  XI(BR_MOVE)     /* target, dst, src, n: copy n slots src -> dst, jump */                   \
  XI(BR_IF_NZ)    /* target, cond */                                                         \
  XI(BR_IF_MOVE)  /* target, cond, dst, src, n */                                            \
  XI(BR_UNLESS)   /* target, cond: jump if cond == 0 */                                      \
  XI(BR_TABLE_X)  /* idx, n, arity, src, then n+1 x (target, dst) */                         \
  XI(RETURN_X)    /* n, src: copy n slots src -> 0, return */                                \
  XI(FUEL)        /* amount */                                                               \
  XI(BRIF_I32_EQZ) /* target, a: jump if a == 0 (fused i32.eqz + br_if) */                \
  XI(SIMD)        /* dst, sub, a, b, c, x, y [, 4 data words]: simd.h */

// Derived internal opcodes (enum order: HL_OPCODES, then one _IMM variant per XN2 entry, then
// the fused compare-and-branch ops below):
//   <name>_IMM    for every XN2: dst, a, imm (1 word for I/F operands, 2 for L/D): b is a constant
//   BRIF_<name>   for every XF below: target, a, b: jump if the i32 comparison holds
//   BRIF_<name>_IMM  the same with b a constant: target, a, imm
//   <load>_X      for every XLD: dst, a, k, offset: load from (u32)(a + k) + offset (fused i32.add_imm)
#define HL_FUSED_CMP(XF)                                                                        \
  XF(I32_EQ, a == b)                                                                            \
  XF(I32_NE, a != b)                                                                            \
  XF(I32_LT_S, (int32_t)a < (int32_t)b)                                                         \
  XF(I32_LT_U, a < b)                                                                           \
  XF(I32_GT_S, (int32_t)a > (int32_t)b)                                                         \
  XF(I32_GT_U, a > b)                                                                           \
  XF(I32_LE_S, (int32_t)a <= (int32_t)b)                                                        \
  XF(I32_LE_U, a <= b)                                                                          \
  XF(I32_GE_S, (int32_t)a >= (int32_t)b)                                                        \
  XF(I32_GE_U, a >= b)

// Fused pairs "inner; outer" where one operand of the outer binary op is the inner op's result (a
// temporary used once): XB(outer, inner, type, imm, commutative, inner expr(x, y) -> t,
// outer expr(a, t)). Opcode OP_<outer>__<inner>, words: dst, x, y, a (y is the inner op's
// immediate when imm = 1). Only commutative outer ops fuse when the temporary is the LEFT operand.
// Each op rounds separately (no fused multiply-add): the same results as the two instructions.
#define HL_FUSED_BIN(XB) \
  XB(I32_ADD, I32_ROTL_IMM, I, 1, 1, rotl32(x, y), a + t)                                      \
  XB(I32_ADD, I32_SHR_U_IMM, I, 1, 1, x >> (y & 31), a + t)                                    \
  XB(I32_ADD, I32_SHL_IMM, I, 1, 1, x << (y & 31), a + t)                                      \
  XB(I32_ADD, I32_XOR_IMM, I, 1, 1, x ^ y, a + t)                                              \
  XB(I32_ADD, I32_AND_IMM, I, 1, 1, x & y, a + t)                                              \
  XB(I32_ADD, I32_ADD, I, 0, 1, x + y, a + t)                                                  \
  XB(I32_ADD, I32_XOR, I, 0, 1, x ^ y, a + t)                                                  \
  XB(I32_ADD, I32_AND, I, 0, 1, x & y, a + t)                                                  \
  XB(I32_ADD, I32_OR, I, 0, 1, x | y, a + t)                                                   \
  XB(I32_XOR, I32_ROTL_IMM, I, 1, 1, rotl32(x, y), a ^ t)                                      \
  XB(I32_XOR, I32_SHR_U_IMM, I, 1, 1, x >> (y & 31), a ^ t)                                    \
  XB(I32_XOR, I32_SHL_IMM, I, 1, 1, x << (y & 31), a ^ t)                                      \
  XB(I32_XOR, I32_XOR_IMM, I, 1, 1, x ^ y, a ^ t)                                              \
  XB(I32_XOR, I32_AND_IMM, I, 1, 1, x & y, a ^ t)                                              \
  XB(I32_XOR, I32_ADD, I, 0, 1, x + y, a ^ t)                                                  \
  XB(I32_XOR, I32_XOR, I, 0, 1, x ^ y, a ^ t)                                                  \
  XB(I32_XOR, I32_AND, I, 0, 1, x & y, a ^ t)                                                  \
  XB(I32_XOR, I32_OR, I, 0, 1, x | y, a ^ t)                                                   \
  XB(I32_OR, I32_ROTL_IMM, I, 1, 1, rotl32(x, y), a | t)                                       \
  XB(I32_OR, I32_SHR_U_IMM, I, 1, 1, x >> (y & 31), a | t)                                     \
  XB(I32_OR, I32_SHL_IMM, I, 1, 1, x << (y & 31), a | t)                                       \
  XB(I32_OR, I32_XOR_IMM, I, 1, 1, x ^ y, a | t)                                               \
  XB(I32_OR, I32_AND_IMM, I, 1, 1, x & y, a | t)                                               \
  XB(I32_OR, I32_ADD, I, 0, 1, x + y, a | t)                                                   \
  XB(I32_OR, I32_XOR, I, 0, 1, x ^ y, a | t)                                                   \
  XB(I32_OR, I32_AND, I, 0, 1, x & y, a | t)                                                   \
  XB(I32_OR, I32_OR, I, 0, 1, x | y, a | t)                                                    \
  XB(I32_AND, I32_ROTL_IMM, I, 1, 1, rotl32(x, y), a & t)                                      \
  XB(I32_AND, I32_SHR_U_IMM, I, 1, 1, x >> (y & 31), a & t)                                    \
  XB(I32_AND, I32_SHL_IMM, I, 1, 1, x << (y & 31), a & t)                                      \
  XB(I32_AND, I32_XOR_IMM, I, 1, 1, x ^ y, a & t)                                              \
  XB(I32_AND, I32_AND_IMM, I, 1, 1, x & y, a & t)                                              \
  XB(I32_AND, I32_ADD, I, 0, 1, x + y, a & t)                                                  \
  XB(I32_AND, I32_XOR, I, 0, 1, x ^ y, a & t)                                                  \
  XB(I32_AND, I32_AND, I, 0, 1, x & y, a & t)                                                  \
  XB(I32_AND, I32_OR, I, 0, 1, x | y, a & t)                                                   \
  XB(F64_ADD, F64_MUL, D, 0, 0, x * y, a + t)                                                  \
  XB(F64_ADD, F64_ADD, D, 0, 0, x + y, a + t)                                                  \
  XB(F64_ADD, F64_SUB, D, 0, 0, x - y, a + t)                                                  \
  XB(F64_SUB, F64_MUL, D, 0, 0, x * y, a - t)                                                  \
  XB(F64_SUB, F64_ADD, D, 0, 0, x + y, a - t)                                                  \
  XB(F64_SUB, F64_SUB, D, 0, 0, x - y, a - t)                                                  \
  XB(F64_MUL, F64_MUL, D, 0, 0, x * y, a * t)                                                  \
  XB(F64_MUL, F64_ADD, D, 0, 0, x + y, a * t)                                                  \
  XB(F64_MUL, F64_SUB, D, 0, 0, x - y, a * t)

// Fused "load; outer" pairs, the same way: XL(outer, load, type, C type loaded, bytes, commutative,
// outer expr(a, t)) with t the loaded value. OP_<outer>__<load>: dst, addr, offset, a;
// OP_<outer>__<load>_X (the load fused with i32.add_imm): dst, addr, k, offset, a.
#define HL_FUSED_LD(XL)                                                                          \
  XL(I32_ADD, I32_LOAD, I, uint32_t, 4, 1, a + t)                                               \
  XL(I32_XOR, I32_LOAD, I, uint32_t, 4, 1, a ^ t)                                               \
  XL(I64_ADD, I64_LOAD, L, uint64_t, 8, 1, a + t)                                               \
  XL(F64_ADD, F64_LOAD, D, uint64_t, 8, 0, a + t)                                               \
  XL(F64_SUB, F64_LOAD, D, uint64_t, 8, 0, a - t)                                               \
  XL(F64_MUL, F64_LOAD, D, uint64_t, 8, 0, a * t)

#endif
