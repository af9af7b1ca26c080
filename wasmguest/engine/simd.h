// simd.h — the 0xFD-prefixed (fixed-width SIMD, WebAssembly 2.0) instruction table.
//
// One X-macro list, like opcodes.h, drives decoding and validation (compile.c's compile_simd and
// scan_body look rows up with eng_simd_kind; the kind's immediates are read by reader.h's rd_imm,
// simd_imm maps SK_* to the opcodes.h immediate kind; SK_CONST is the one constant expression),
// and execution (simd.c's switch over enum simd_op, built from the
// same list: -Wswitch makes a missing case a compile error).
//
// X(name, sub, kind, a) — sub: the LEB128 sub-opcode after 0xFD; kind (SK_*) fixes immediates
// and stack signature; a: kind-specific (natural alignment log2 for memory ops, lane count for
// lane ops, operand value type for splat/replace, result type for extract).
//
// Compiled form (all SIMD ops): OP_SIMD dst sub a b c x y [d0 d1 d2 d3]
//   dst: result slot (v128: dst, dst+1); a, b, c: operand slots; x: memarg offset or lane;
//   y: lane (load/store_lane); d0..d3: the 16 immediate bytes of v128.const / i8x16.shuffle.
// A v128 value takes two consecutive slots (low 64 bits, then high 64 bits).
#ifndef HL_ENGINE_SIMD_H
#define HL_ENGINE_SIMD_H

#include <stdint.h>

enum {
  SK_LOAD = 1, // memarg: i32 -> v128
  SK_STORE,    // memarg: i32 v128 ->
  SK_LOADLANE, // memarg lane: i32 v128 -> v128
  SK_STORELANE,// memarg lane: i32 v128 ->
  SK_CONST,    // 16 bytes: -> v128
  SK_SHUFFLE,  // 16 lane bytes: v128 v128 -> v128
  SK_EXTRACT,  // lane: v128 -> t
  SK_REPLACE,  // lane: v128 t -> v128
  SK_SPLAT,    // t -> v128
  SK_UN,       // v128 -> v128
  SK_BIN,      // v128 v128 -> v128
  SK_TERN,     // v128 v128 v128 -> v128
  SK_TEST,     // v128 -> i32
  SK_SHIFT,    // v128 i32 -> v128
  SK_INTERNAL, // emitted by the compiler only (copies, select, globals)
};

// lane type codes for SK_EXTRACT / SK_REPLACE / SK_SPLAT: the value types of internal.h
#define SIMD_T_I 0x7f
#define SIMD_T_L 0x7e
#define SIMD_T_F 0x7d
#define SIMD_T_D 0x7c

// For lane ops `a` packs lanes (low byte) and the scalar type (next byte).
#define SL(lanes, t) ((lanes) | (SIMD_T_##t << 8))

#define HL_SIMD_OPS(X)                                                                           \
  X(V128_LOAD, 0, SK_LOAD, 4)                                                                    \
  X(V128_LOAD8X8_S, 1, SK_LOAD, 3)                                                               \
  X(V128_LOAD8X8_U, 2, SK_LOAD, 3)                                                               \
  X(V128_LOAD16X4_S, 3, SK_LOAD, 3)                                                              \
  X(V128_LOAD16X4_U, 4, SK_LOAD, 3)                                                              \
  X(V128_LOAD32X2_S, 5, SK_LOAD, 3)                                                              \
  X(V128_LOAD32X2_U, 6, SK_LOAD, 3)                                                              \
  X(V128_LOAD8_SPLAT, 7, SK_LOAD, 0)                                                             \
  X(V128_LOAD16_SPLAT, 8, SK_LOAD, 1)                                                            \
  X(V128_LOAD32_SPLAT, 9, SK_LOAD, 2)                                                            \
  X(V128_LOAD64_SPLAT, 10, SK_LOAD, 3)                                                           \
  X(V128_STORE, 11, SK_STORE, 4)                                                                 \
  X(V128_CONST, 12, SK_CONST, 0)                                                                 \
  X(I8X16_SHUFFLE, 13, SK_SHUFFLE, 0)                                                            \
  X(I8X16_SWIZZLE, 14, SK_BIN, 0)                                                                \
  X(I8X16_SPLAT, 15, SK_SPLAT, SL(16, I))                                                        \
  X(I16X8_SPLAT, 16, SK_SPLAT, SL(8, I))                                                         \
  X(I32X4_SPLAT, 17, SK_SPLAT, SL(4, I))                                                         \
  X(I64X2_SPLAT, 18, SK_SPLAT, SL(2, L))                                                         \
  X(F32X4_SPLAT, 19, SK_SPLAT, SL(4, F))                                                         \
  X(F64X2_SPLAT, 20, SK_SPLAT, SL(2, D))                                                         \
  X(I8X16_EXTRACT_LANE_S, 21, SK_EXTRACT, SL(16, I))                                             \
  X(I8X16_EXTRACT_LANE_U, 22, SK_EXTRACT, SL(16, I))                                             \
  X(I8X16_REPLACE_LANE, 23, SK_REPLACE, SL(16, I))                                               \
  X(I16X8_EXTRACT_LANE_S, 24, SK_EXTRACT, SL(8, I))                                              \
  X(I16X8_EXTRACT_LANE_U, 25, SK_EXTRACT, SL(8, I))                                              \
  X(I16X8_REPLACE_LANE, 26, SK_REPLACE, SL(8, I))                                                \
  X(I32X4_EXTRACT_LANE, 27, SK_EXTRACT, SL(4, I))                                                \
  X(I32X4_REPLACE_LANE, 28, SK_REPLACE, SL(4, I))                                                \
  X(I64X2_EXTRACT_LANE, 29, SK_EXTRACT, SL(2, L))                                                \
  X(I64X2_REPLACE_LANE, 30, SK_REPLACE, SL(2, L))                                                \
  X(F32X4_EXTRACT_LANE, 31, SK_EXTRACT, SL(4, F))                                                \
  X(F32X4_REPLACE_LANE, 32, SK_REPLACE, SL(4, F))                                                \
  X(F64X2_EXTRACT_LANE, 33, SK_EXTRACT, SL(2, D))                                                \
  X(F64X2_REPLACE_LANE, 34, SK_REPLACE, SL(2, D))                                                \
  X(I8X16_EQ, 35, SK_BIN, 0)                                                                     \
  X(I8X16_NE, 36, SK_BIN, 0)                                                                     \
  X(I8X16_LT_S, 37, SK_BIN, 0)                                                                   \
  X(I8X16_LT_U, 38, SK_BIN, 0)                                                                   \
  X(I8X16_GT_S, 39, SK_BIN, 0)                                                                   \
  X(I8X16_GT_U, 40, SK_BIN, 0)                                                                   \
  X(I8X16_LE_S, 41, SK_BIN, 0)                                                                   \
  X(I8X16_LE_U, 42, SK_BIN, 0)                                                                   \
  X(I8X16_GE_S, 43, SK_BIN, 0)                                                                   \
  X(I8X16_GE_U, 44, SK_BIN, 0)                                                                   \
  X(I16X8_EQ, 45, SK_BIN, 0)                                                                     \
  X(I16X8_NE, 46, SK_BIN, 0)                                                                     \
  X(I16X8_LT_S, 47, SK_BIN, 0)                                                                   \
  X(I16X8_LT_U, 48, SK_BIN, 0)                                                                   \
  X(I16X8_GT_S, 49, SK_BIN, 0)                                                                   \
  X(I16X8_GT_U, 50, SK_BIN, 0)                                                                   \
  X(I16X8_LE_S, 51, SK_BIN, 0)                                                                   \
  X(I16X8_LE_U, 52, SK_BIN, 0)                                                                   \
  X(I16X8_GE_S, 53, SK_BIN, 0)                                                                   \
  X(I16X8_GE_U, 54, SK_BIN, 0)                                                                   \
  X(I32X4_EQ, 55, SK_BIN, 0)                                                                     \
  X(I32X4_NE, 56, SK_BIN, 0)                                                                     \
  X(I32X4_LT_S, 57, SK_BIN, 0)                                                                   \
  X(I32X4_LT_U, 58, SK_BIN, 0)                                                                   \
  X(I32X4_GT_S, 59, SK_BIN, 0)                                                                   \
  X(I32X4_GT_U, 60, SK_BIN, 0)                                                                   \
  X(I32X4_LE_S, 61, SK_BIN, 0)                                                                   \
  X(I32X4_LE_U, 62, SK_BIN, 0)                                                                   \
  X(I32X4_GE_S, 63, SK_BIN, 0)                                                                   \
  X(I32X4_GE_U, 64, SK_BIN, 0)                                                                   \
  X(F32X4_EQ, 65, SK_BIN, 0)                                                                     \
  X(F32X4_NE, 66, SK_BIN, 0)                                                                     \
  X(F32X4_LT, 67, SK_BIN, 0)                                                                     \
  X(F32X4_GT, 68, SK_BIN, 0)                                                                     \
  X(F32X4_LE, 69, SK_BIN, 0)                                                                     \
  X(F32X4_GE, 70, SK_BIN, 0)                                                                     \
  X(F64X2_EQ, 71, SK_BIN, 0)                                                                     \
  X(F64X2_NE, 72, SK_BIN, 0)                                                                     \
  X(F64X2_LT, 73, SK_BIN, 0)                                                                     \
  X(F64X2_GT, 74, SK_BIN, 0)                                                                     \
  X(F64X2_LE, 75, SK_BIN, 0)                                                                     \
  X(F64X2_GE, 76, SK_BIN, 0)                                                                     \
  X(V128_NOT, 77, SK_UN, 0)                                                                      \
  X(V128_AND, 78, SK_BIN, 0)                                                                     \
  X(V128_ANDNOT, 79, SK_BIN, 0)                                                                  \
  X(V128_OR, 80, SK_BIN, 0)                                                                      \
  X(V128_XOR, 81, SK_BIN, 0)                                                                     \
  X(V128_BITSELECT, 82, SK_TERN, 0)                                                              \
  X(V128_ANY_TRUE, 83, SK_TEST, 0)                                                               \
  X(V128_LOAD8_LANE, 84, SK_LOADLANE, 0)                                                         \
  X(V128_LOAD16_LANE, 85, SK_LOADLANE, 1)                                                        \
  X(V128_LOAD32_LANE, 86, SK_LOADLANE, 2)                                                        \
  X(V128_LOAD64_LANE, 87, SK_LOADLANE, 3)                                                        \
  X(V128_STORE8_LANE, 88, SK_STORELANE, 0)                                                       \
  X(V128_STORE16_LANE, 89, SK_STORELANE, 1)                                                      \
  X(V128_STORE32_LANE, 90, SK_STORELANE, 2)                                                      \
  X(V128_STORE64_LANE, 91, SK_STORELANE, 3)                                                      \
  X(V128_LOAD32_ZERO, 92, SK_LOAD, 2)                                                            \
  X(V128_LOAD64_ZERO, 93, SK_LOAD, 3)                                                            \
  X(F32X4_DEMOTE_F64X2_ZERO, 94, SK_UN, 0)                                                       \
  X(F64X2_PROMOTE_LOW_F32X4, 95, SK_UN, 0)                                                       \
  X(I8X16_ABS, 96, SK_UN, 0)                                                                     \
  X(I8X16_NEG, 97, SK_UN, 0)                                                                     \
  X(I8X16_POPCNT, 98, SK_UN, 0)                                                                  \
  X(I8X16_ALL_TRUE, 99, SK_TEST, 0)                                                              \
  X(I8X16_BITMASK, 100, SK_TEST, 0)                                                              \
  X(I8X16_NARROW_I16X8_S, 101, SK_BIN, 0)                                                        \
  X(I8X16_NARROW_I16X8_U, 102, SK_BIN, 0)                                                        \
  X(F32X4_CEIL, 103, SK_UN, 0)                                                                   \
  X(F32X4_FLOOR, 104, SK_UN, 0)                                                                  \
  X(F32X4_TRUNC, 105, SK_UN, 0)                                                                  \
  X(F32X4_NEAREST, 106, SK_UN, 0)                                                                \
  X(I8X16_SHL, 107, SK_SHIFT, 0)                                                                 \
  X(I8X16_SHR_S, 108, SK_SHIFT, 0)                                                               \
  X(I8X16_SHR_U, 109, SK_SHIFT, 0)                                                               \
  X(I8X16_ADD, 110, SK_BIN, 0)                                                                   \
  X(I8X16_ADD_SAT_S, 111, SK_BIN, 0)                                                             \
  X(I8X16_ADD_SAT_U, 112, SK_BIN, 0)                                                             \
  X(I8X16_SUB, 113, SK_BIN, 0)                                                                   \
  X(I8X16_SUB_SAT_S, 114, SK_BIN, 0)                                                             \
  X(I8X16_SUB_SAT_U, 115, SK_BIN, 0)                                                             \
  X(F64X2_CEIL, 116, SK_UN, 0)                                                                   \
  X(F64X2_FLOOR, 117, SK_UN, 0)                                                                  \
  X(I8X16_MIN_S, 118, SK_BIN, 0)                                                                 \
  X(I8X16_MIN_U, 119, SK_BIN, 0)                                                                 \
  X(I8X16_MAX_S, 120, SK_BIN, 0)                                                                 \
  X(I8X16_MAX_U, 121, SK_BIN, 0)                                                                 \
  X(F64X2_TRUNC, 122, SK_UN, 0)                                                                  \
  X(I8X16_AVGR_U, 123, SK_BIN, 0)                                                                \
  X(I16X8_EXTADD_PAIRWISE_I8X16_S, 124, SK_UN, 0)                                                \
  X(I16X8_EXTADD_PAIRWISE_I8X16_U, 125, SK_UN, 0)                                                \
  X(I32X4_EXTADD_PAIRWISE_I16X8_S, 126, SK_UN, 0)                                                \
  X(I32X4_EXTADD_PAIRWISE_I16X8_U, 127, SK_UN, 0)                                                \
  X(I16X8_ABS, 128, SK_UN, 0)                                                                    \
  X(I16X8_NEG, 129, SK_UN, 0)                                                                    \
  X(I16X8_Q15MULR_SAT_S, 130, SK_BIN, 0)                                                         \
  X(I16X8_ALL_TRUE, 131, SK_TEST, 0)                                                             \
  X(I16X8_BITMASK, 132, SK_TEST, 0)                                                              \
  X(I16X8_NARROW_I32X4_S, 133, SK_BIN, 0)                                                        \
  X(I16X8_NARROW_I32X4_U, 134, SK_BIN, 0)                                                        \
  X(I16X8_EXTEND_LOW_I8X16_S, 135, SK_UN, 0)                                                     \
  X(I16X8_EXTEND_HIGH_I8X16_S, 136, SK_UN, 0)                                                    \
  X(I16X8_EXTEND_LOW_I8X16_U, 137, SK_UN, 0)                                                     \
  X(I16X8_EXTEND_HIGH_I8X16_U, 138, SK_UN, 0)                                                    \
  X(I16X8_SHL, 139, SK_SHIFT, 0)                                                                 \
  X(I16X8_SHR_S, 140, SK_SHIFT, 0)                                                               \
  X(I16X8_SHR_U, 141, SK_SHIFT, 0)                                                               \
  X(I16X8_ADD, 142, SK_BIN, 0)                                                                   \
  X(I16X8_ADD_SAT_S, 143, SK_BIN, 0)                                                             \
  X(I16X8_ADD_SAT_U, 144, SK_BIN, 0)                                                             \
  X(I16X8_SUB, 145, SK_BIN, 0)                                                                   \
  X(I16X8_SUB_SAT_S, 146, SK_BIN, 0)                                                             \
  X(I16X8_SUB_SAT_U, 147, SK_BIN, 0)                                                             \
  X(F64X2_NEAREST, 148, SK_UN, 0)                                                                \
  X(I16X8_MUL, 149, SK_BIN, 0)                                                                   \
  X(I16X8_MIN_S, 150, SK_BIN, 0)                                                                 \
  X(I16X8_MIN_U, 151, SK_BIN, 0)                                                                 \
  X(I16X8_MAX_S, 152, SK_BIN, 0)                                                                 \
  X(I16X8_MAX_U, 153, SK_BIN, 0)                                                                 \
  X(I16X8_AVGR_U, 155, SK_BIN, 0)                                                                \
  X(I16X8_EXTMUL_LOW_I8X16_S, 156, SK_BIN, 0)                                                    \
  X(I16X8_EXTMUL_HIGH_I8X16_S, 157, SK_BIN, 0)                                                   \
  X(I16X8_EXTMUL_LOW_I8X16_U, 158, SK_BIN, 0)                                                    \
  X(I16X8_EXTMUL_HIGH_I8X16_U, 159, SK_BIN, 0)                                                   \
  X(I32X4_ABS, 160, SK_UN, 0)                                                                    \
  X(I32X4_NEG, 161, SK_UN, 0)                                                                    \
  X(I32X4_ALL_TRUE, 163, SK_TEST, 0)                                                             \
  X(I32X4_BITMASK, 164, SK_TEST, 0)                                                              \
  X(I32X4_EXTEND_LOW_I16X8_S, 167, SK_UN, 0)                                                     \
  X(I32X4_EXTEND_HIGH_I16X8_S, 168, SK_UN, 0)                                                    \
  X(I32X4_EXTEND_LOW_I16X8_U, 169, SK_UN, 0)                                                     \
  X(I32X4_EXTEND_HIGH_I16X8_U, 170, SK_UN, 0)                                                    \
  X(I32X4_SHL, 171, SK_SHIFT, 0)                                                                 \
  X(I32X4_SHR_S, 172, SK_SHIFT, 0)                                                               \
  X(I32X4_SHR_U, 173, SK_SHIFT, 0)                                                               \
  X(I32X4_ADD, 174, SK_BIN, 0)                                                                   \
  X(I32X4_SUB, 177, SK_BIN, 0)                                                                   \
  X(I32X4_MUL, 181, SK_BIN, 0)                                                                   \
  X(I32X4_MIN_S, 182, SK_BIN, 0)                                                                 \
  X(I32X4_MIN_U, 183, SK_BIN, 0)                                                                 \
  X(I32X4_MAX_S, 184, SK_BIN, 0)                                                                 \
  X(I32X4_MAX_U, 185, SK_BIN, 0)                                                                 \
  X(I32X4_DOT_I16X8_S, 186, SK_BIN, 0)                                                           \
  X(I32X4_EXTMUL_LOW_I16X8_S, 188, SK_BIN, 0)                                                    \
  X(I32X4_EXTMUL_HIGH_I16X8_S, 189, SK_BIN, 0)                                                   \
  X(I32X4_EXTMUL_LOW_I16X8_U, 190, SK_BIN, 0)                                                    \
  X(I32X4_EXTMUL_HIGH_I16X8_U, 191, SK_BIN, 0)                                                   \
  X(I64X2_ABS, 192, SK_UN, 0)                                                                    \
  X(I64X2_NEG, 193, SK_UN, 0)                                                                    \
  X(I64X2_ALL_TRUE, 195, SK_TEST, 0)                                                             \
  X(I64X2_BITMASK, 196, SK_TEST, 0)                                                              \
  X(I64X2_EXTEND_LOW_I32X4_S, 199, SK_UN, 0)                                                     \
  X(I64X2_EXTEND_HIGH_I32X4_S, 200, SK_UN, 0)                                                    \
  X(I64X2_EXTEND_LOW_I32X4_U, 201, SK_UN, 0)                                                     \
  X(I64X2_EXTEND_HIGH_I32X4_U, 202, SK_UN, 0)                                                    \
  X(I64X2_SHL, 203, SK_SHIFT, 0)                                                                 \
  X(I64X2_SHR_S, 204, SK_SHIFT, 0)                                                               \
  X(I64X2_SHR_U, 205, SK_SHIFT, 0)                                                               \
  X(I64X2_ADD, 206, SK_BIN, 0)                                                                   \
  X(I64X2_SUB, 209, SK_BIN, 0)                                                                   \
  X(I64X2_MUL, 213, SK_BIN, 0)                                                                   \
  X(I64X2_EQ, 214, SK_BIN, 0)                                                                    \
  X(I64X2_NE, 215, SK_BIN, 0)                                                                    \
  X(I64X2_LT_S, 216, SK_BIN, 0)                                                                  \
  X(I64X2_GT_S, 217, SK_BIN, 0)                                                                  \
  X(I64X2_LE_S, 218, SK_BIN, 0)                                                                  \
  X(I64X2_GE_S, 219, SK_BIN, 0)                                                                  \
  X(I64X2_EXTMUL_LOW_I32X4_S, 220, SK_BIN, 0)                                                    \
  X(I64X2_EXTMUL_HIGH_I32X4_S, 221, SK_BIN, 0)                                                   \
  X(I64X2_EXTMUL_LOW_I32X4_U, 222, SK_BIN, 0)                                                    \
  X(I64X2_EXTMUL_HIGH_I32X4_U, 223, SK_BIN, 0)                                                   \
  X(F32X4_ABS, 224, SK_UN, 0)                                                                    \
  X(F32X4_NEG, 225, SK_UN, 0)                                                                    \
  X(F32X4_SQRT, 227, SK_UN, 0)                                                                   \
  X(F32X4_ADD, 228, SK_BIN, 0)                                                                   \
  X(F32X4_SUB, 229, SK_BIN, 0)                                                                   \
  X(F32X4_MUL, 230, SK_BIN, 0)                                                                   \
  X(F32X4_DIV, 231, SK_BIN, 0)                                                                   \
  X(F32X4_MIN, 232, SK_BIN, 0)                                                                   \
  X(F32X4_MAX, 233, SK_BIN, 0)                                                                   \
  X(F32X4_PMIN, 234, SK_BIN, 0)                                                                  \
  X(F32X4_PMAX, 235, SK_BIN, 0)                                                                  \
  X(F64X2_ABS, 236, SK_UN, 0)                                                                    \
  X(F64X2_NEG, 237, SK_UN, 0)                                                                    \
  X(F64X2_SQRT, 239, SK_UN, 0)                                                                   \
  X(F64X2_ADD, 240, SK_BIN, 0)                                                                   \
  X(F64X2_SUB, 241, SK_BIN, 0)                                                                   \
  X(F64X2_MUL, 242, SK_BIN, 0)                                                                   \
  X(F64X2_DIV, 243, SK_BIN, 0)                                                                   \
  X(F64X2_MIN, 244, SK_BIN, 0)                                                                   \
  X(F64X2_MAX, 245, SK_BIN, 0)                                                                   \
  X(F64X2_PMIN, 246, SK_BIN, 0)                                                                  \
  X(F64X2_PMAX, 247, SK_BIN, 0)                                                                  \
  X(I32X4_TRUNC_SAT_F32X4_S, 248, SK_UN, 0)                                                      \
  X(I32X4_TRUNC_SAT_F32X4_U, 249, SK_UN, 0)                                                      \
  X(F32X4_CONVERT_I32X4_S, 250, SK_UN, 0)                                                        \
  X(F32X4_CONVERT_I32X4_U, 251, SK_UN, 0)                                                        \
  X(I32X4_TRUNC_SAT_F64X2_S_ZERO, 252, SK_UN, 0)                                                 \
  X(I32X4_TRUNC_SAT_F64X2_U_ZERO, 253, SK_UN, 0)                                                 \
  X(F64X2_CONVERT_LOW_I32X4_S, 254, SK_UN, 0)                                                    \
  X(F64X2_CONVERT_LOW_I32X4_U, 255, SK_UN, 0)                                                    \
  /* relaxed SIMD (WebAssembly 3.0): deterministic, see simd.c */                              \
  X(I8X16_RELAXED_SWIZZLE, 0x100, SK_BIN, 0)                                                     \
  X(I32X4_RELAXED_TRUNC_F32X4_S, 0x101, SK_UN, 0)                                                \
  X(I32X4_RELAXED_TRUNC_F32X4_U, 0x102, SK_UN, 0)                                                \
  X(I32X4_RELAXED_TRUNC_F64X2_S_ZERO, 0x103, SK_UN, 0)                                           \
  X(I32X4_RELAXED_TRUNC_F64X2_U_ZERO, 0x104, SK_UN, 0)                                           \
  X(F32X4_RELAXED_MADD, 0x105, SK_TERN, 0)                                                       \
  X(F32X4_RELAXED_NMADD, 0x106, SK_TERN, 0)                                                      \
  X(F64X2_RELAXED_MADD, 0x107, SK_TERN, 0)                                                       \
  X(F64X2_RELAXED_NMADD, 0x108, SK_TERN, 0)                                                      \
  X(I8X16_RELAXED_LANESELECT, 0x109, SK_TERN, 0)                                                 \
  X(I16X8_RELAXED_LANESELECT, 0x10a, SK_TERN, 0)                                                 \
  X(I32X4_RELAXED_LANESELECT, 0x10b, SK_TERN, 0)                                                 \
  X(I64X2_RELAXED_LANESELECT, 0x10c, SK_TERN, 0)                                                 \
  X(F32X4_RELAXED_MIN, 0x10d, SK_BIN, 0)                                                         \
  X(F32X4_RELAXED_MAX, 0x10e, SK_BIN, 0)                                                         \
  X(F64X2_RELAXED_MIN, 0x10f, SK_BIN, 0)                                                         \
  X(F64X2_RELAXED_MAX, 0x110, SK_BIN, 0)                                                         \
  X(I16X8_RELAXED_Q15MULR_S, 0x111, SK_BIN, 0)                                                   \
  X(I16X8_RELAXED_DOT_I8X16_I7X16_S, 0x112, SK_BIN, 0)                                           \
  X(I32X4_RELAXED_DOT_I8X16_I7X16_ADD_S, 0x113, SK_TERN, 0)                                      \
  /* internal (compiler-generated; these sub-opcodes are not in the binary format) */           \
  X(V128_COPY, 0x1000, SK_INTERNAL, 0)   /* dst <- a */                                          \
  X(V128_SELECT, 0x1001, SK_INTERNAL, 0) /* dst <- c ? a : b (c: i32) */                        \
  X(V128_GLOBAL_GET, 0x1002, SK_INTERNAL, 0) /* dst <- global x */                              \
  X(V128_GLOBAL_SET, 0x1003, SK_INTERNAL, 0) /* global x <- a */


enum simd_op {
#define SIMD_ENUM(n, sub, k, a) SIMD_##n = sub,
  HL_SIMD_OPS(SIMD_ENUM)
#undef SIMD_ENUM
};

// Decoding/validation info of sub-opcode sub (kind 0: unknown); *a gets the table's `a`.
uint8_t eng_simd_kind(uint32_t sub, uint32_t *a);

// Words of one compiled SIMD instruction after the OP_SIMD word.
#define SIMD_WORDS 7
#define SIMD_WORDS_DATA 11

struct eng_inst;
// Runs the SIMD instruction whose words (after OP_SIMD) start at ip. Returns the words consumed,
// or 0 for an out-of-bounds memory access (trap).
uint32_t eng_simd_exec(const uint32_t *ip, uint64_t *fp, uint8_t *mem, uint64_t mem_size,
                       struct eng_inst *inst);

#endif
