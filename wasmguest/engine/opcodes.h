// opcodes.h — the single instruction table of the engine.
//
// Every instruction the engine knows appears exactly once below. The lists drive:
//   * decoding      (byte -> internal opcode tables, and the immediate reader rd_imm in reader.h:
//                    compile_body, scan_body and rd_constexpr all read immediates through it),
//   * validation    (fixed stack signatures for the N1/N2/T1/T2/LD/ST kinds are checked generically;
//                    the const-expression flag decides what rd_constexpr accepts),
//   * execution     (interp.c builds its computed-goto table from the same list, so an opcode without
//                    a handler fails to compile; N1/N2 handlers are generated from the expression),
//   * the compiled form's word counts (eng_op_words / eng_op_len in internal.h), so a dumper or
//     iterator can step over every compiled instruction, derived and fused ones included.
//
// Kinds (the kind fixes the immediates and, for emitted ops, the number of words after the opcode
// word in the compiled form):
//   N1(name, byte, in, out, expr)       unary numeric, no immediates, result = expr(a)      dst, a
//   N2(name, byte, in1, in2, out, expr) binary numeric, result = expr(a, b)                dst, a, b
//   T1(name, byte, in, out)             unary numeric that may trap (hand-written handler) dst, a
//   T2(name, byte, in1, in2, out)       binary numeric that may trap (hand-written handler) dst, a, b
//   LD(name, byte, valtype, align_log2) load  (immediate MEMARG)                           dst, addr, offset
//   ST(name, byte, valtype, align_log2) store (immediate MEMARG)                           addr, val, offset
//   S(name, byte, imm, cexpr, words)    special: validation/emission written by hand (compile.c)
//   FN1(name, sub, in, out, expr)       0xFC-prefixed unary numeric (saturating truncation) dst, a
//   FS(name, sub, imm, words)           0xFC-prefixed special
//   I(name, words)                      internal opcode produced by the compiler only
// imm:   the immediate kind (HL_IMM_KINDS below) of the binary encoding.
// cexpr: 1 if the instruction is allowed in a constant expression (WebAssembly 2.0: t.const,
//        ref.null, ref.func, global.get; and v128.const, simd.h; the numeric ones of extended
//        constant expressions are listed in HL_CONST_BIN).
// words: words after the opcode word in the compiled form (the comment names them), W_NEVER for
//        instructions the compiler never emits (control flow and locals compile to other ops),
//        W_VAR for the two variable-length ones (BR_TABLE_X, SIMD: see eng_op_len).
// Types: I = i32, L = i64, F = f32, D = f64.
#ifndef HL_ENGINE_OPCODES_H
#define HL_ENGINE_OPCODES_H

// Immediate kinds of the binary encoding: X(kind, f1, f2, f3) reads fields f1, f2, f3 in order
// into an eng_imm (reader.h; rd_imm is generated from this list). Fields:
//   U32A / U32B  a u32 LEB128 into .a / .b       MIDX    a memory index (u32) into .m
//   MIDXB        a memory index (u32) into .b     BYTE    one byte into .t (a lane index)
//   ALIGN        memarg flags: the alignment (< 32) into .a; with bit 6 set a memory index
//                follows (into .m; else .m = 0)
//   OFF          a memarg offset: u64 LEB128 into .v, its low 32 bits into .b
//   S32 / S64    signed LEB128 into .v            B4 / B8 4 / 8 little-endian bytes into .v
//   B16          16 bytes, .p points at them      REFT    a heap type, as a nullable reference type, into .ty
//   BLOCKT       0x40 or a value type into .ty, or (.ty = 0) an s33 type index into .a
//   LABELS       vec(u32): count into .a, .p at the first label (br_table re-reads them)
//   CATCHES      try_table's vec(catch): count into .b, .p at the first clause (re-read by
//                compile_try_table); a clause is a kind byte 0..3, a tag index for kinds 0
//                and 1 (catch, catch_ref), and a label
//   VALTS        vec(valtype): count into .a, the first type into .ty (0 if none)
//   CASTT        two heap types: the first into .ty, the second into .b (br_on_cast)
//   _            nothing
#define HL_IMM_KINDS(X)                                                                          \
  X(NONE, _, _, _)                                                                              \
  X(BLOCKTYPE, BLOCKT, _, _)     /* block, loop, if */                                          \
  X(LABEL, U32A, _, _)           /* br, br_if: label depth */                                   \
  X(BR_TABLE, LABELS, U32B, _)   /* labels, default label */                                    \
  X(FUNC, U32A, _, _)            /* call, ref.func: function index */                           \
  X(CALL_INDIRECT, U32A, U32B, _) /* type index, table index */                                 \
  X(SELECT_T, VALTS, _, _)       /* select t*: result types */                                  \
  X(LOCAL, U32A, _, _)           /* local index */                                              \
  X(GLOBAL, U32A, _, _)          /* global index */                                             \
  X(TABLE, U32A, _, _)           /* table index */                                              \
  X(TABLE2, U32A, U32B, _)       /* table.copy: destination table, source table */              \
  X(ELEM, U32A, _, _)            /* elem segment index */                                       \
  X(ELEM_TABLE, U32A, U32B, _)   /* table.init: elem segment, table */                          \
  X(DATA, U32A, _, _)            /* data segment index */                                       \
  X(DATA_MEM, U32A, MIDX, _)     /* memory.init: data segment, memory */                        \
  X(MEM, MIDX, _, _)             /* memory.size, memory.grow, memory.fill: memory */            \
  X(MEM2, MIDX, MIDXB, _)        /* memory.copy: destination and source memory */               \
  X(MEMARG, ALIGN, OFF, _)       /* loads and stores: align (and memory), offset */             \
  X(MEMARG_LANE, ALIGN, OFF, BYTE) /* v128.loadN_lane / storeN_lane: align, offset, lane */     \
  X(I32, S32, _, _)              /* i32.const */                                                \
  X(I64, S64, _, _)              /* i64.const */                                                \
  X(F32, B4, _, _)               /* f32.const (bits) */                                         \
  X(F64, B8, _, _)               /* f64.const (bits) */                                         \
  X(V128, B16, _, _)             /* v128.const, i8x16.shuffle (16 lane indices) */              \
  X(LANE, BYTE, _, _)            /* extract_lane / replace_lane: lane index */                  \
  X(REFTYPE, REFT, _, _)         /* ref.null: reference type */                                 \
  X(TAG, U32A, _, _)             /* throw, catch: tag index */                                  \
  X(TYPE, U32A, _, _)            /* call_ref, return_call_ref: type index */                    \
  X(TRY_TABLE, BLOCKT, CATCHES, _) /* try_table: block type, catch clauses */                   \
  X(BR_ON_CAST, BYTE, U32A, CASTT) /* br_on_cast(_fail): flags, label, two heap types (.ty, .b) */ \
  X(TYPE2, U32A, U32B, _)        /* struct.get/set: type, field; array.new_fixed: type, n; array.copy: types */

// GC's 0xFB-prefixed instructions are FS rows too, their sub-opcode offset by HL_FB (0xFC's are
// below 32): eng_fc_map maps both.
#define HL_FB(n) (0x100 + (n))
#define HL_PREFIX_MAP 0x120

// Word counts that are not a number (see "words" above).
#define W_NEVER 0xff
#define W_VAR 0xfe

#define HL_OPCODES(XN1, XN2, XT1, XT2, XLD, XST, XS, XFN1, XFS, XI)                                      \
  XS(UNREACHABLE, 0x00, NONE, 0, 0)                                                            \
  XS(NOP, 0x01, NONE, 0, W_NEVER)                                                              \
  XS(BLOCK, 0x02, BLOCKTYPE, 0, W_NEVER)                                                       \
  XS(LOOP, 0x03, BLOCKTYPE, 0, W_NEVER)                                                        \
  XS(IF, 0x04, BLOCKTYPE, 0, W_NEVER)                                                          \
  XS(ELSE, 0x05, NONE, 0, W_NEVER)                                                             \
  XS(TRY, 0x06, BLOCKTYPE, 0, W_NEVER)       /* legacy exception handling */                   \
  XS(CATCH, 0x07, TAG, 0, W_NEVER)           /* legacy */                                      \
  XS(THROW, 0x08, TAG, 0, 2) /* tag, base (the payload's first slot) */                        \
  XS(RETHROW, 0x09, LABEL, 0, 1) /* slot holding the caught exception (legacy) */              \
  XS(THROW_REF, 0x0a, NONE, 0, 1) /* exnref slot */                                            \
  XS(END, 0x0b, NONE, 0, W_NEVER)                                                              \
  XS(BR, 0x0c, LABEL, 0, W_NEVER)                                                              \
  XS(BR_IF, 0x0d, LABEL, 0, W_NEVER)                                                           \
  XS(BR_TABLE, 0x0e, BR_TABLE, 0, W_NEVER)                                                     \
  XS(RETURN, 0x0f, NONE, 0, W_NEVER)                                                           \
  XS(CALL, 0x10, FUNC, 0, 2) /* func, base (the callee frame starts at slot base) */           \
  XS(CALL_INDIRECT, 0x11, CALL_INDIRECT, 0, 4) /* table, type id, idx, base */                 \
  XS(RETURN_CALL, 0x12, FUNC, 0, 2) /* func, base: the callee replaces the frame (tail call) */ \
  XS(RETURN_CALL_INDIRECT, 0x13, CALL_INDIRECT, 0, 4) /* table, type id, idx, base */          \
  XS(CALL_REF, 0x14, TYPE, 0, 2) /* ref, base (typed function references) */                  \
  XS(RETURN_CALL_REF, 0x15, TYPE, 0, 2) /* ref, base */                                        \
  XS(DELEGATE, 0x18, LABEL, 0, W_NEVER)      /* legacy */                                      \
  XS(CATCH_ALL, 0x19, NONE, 0, W_NEVER)      /* legacy */                                      \
  XS(DROP, 0x1a, NONE, 0, W_NEVER)                                                             \
  XS(SELECT, 0x1b, NONE, 0, 4) /* dst, a, b, cond */                                           \
  XS(SELECT_T, 0x1c, SELECT_T, 0, W_NEVER)                                                     \
  XS(TRY_TABLE, 0x1f, TRY_TABLE, 0, W_NEVER) /* compiles to HANDLER */                         \
  XS(LOCAL_GET, 0x20, LOCAL, 0, W_NEVER)                                                       \
  XS(LOCAL_SET, 0x21, LOCAL, 0, W_NEVER)                                                       \
  XS(LOCAL_TEE, 0x22, LOCAL, 0, W_NEVER)                                                       \
  XS(GLOBAL_GET, 0x23, GLOBAL, 1, 2) /* dst, global */                                         \
  XS(GLOBAL_SET, 0x24, GLOBAL, 0, 2) /* src, global */                                         \
  XS(TABLE_GET, 0x25, TABLE, 0, 3) /* dst, idx, table */                                       \
  XS(TABLE_SET, 0x26, TABLE, 0, 3) /* idx, val, table */                                       \
  XLD(I32_LOAD, 0x28, I, 2)                                                                    \
  XLD(I64_LOAD, 0x29, L, 3)                                                                    \
  XLD(F32_LOAD, 0x2a, F, 2)                                                                    \
  XLD(F64_LOAD, 0x2b, D, 3)                                                                    \
  XLD(I32_LOAD8_S, 0x2c, I, 0)                                                                 \
  XLD(I32_LOAD8_U, 0x2d, I, 0)                                                                 \
  XLD(I32_LOAD16_S, 0x2e, I, 1)                                                                \
  XLD(I32_LOAD16_U, 0x2f, I, 1)                                                                \
  XLD(I64_LOAD8_S, 0x30, L, 0)                                                                 \
  XLD(I64_LOAD8_U, 0x31, L, 0)                                                                 \
  XLD(I64_LOAD16_S, 0x32, L, 1)                                                                \
  XLD(I64_LOAD16_U, 0x33, L, 1)                                                                \
  XLD(I64_LOAD32_S, 0x34, L, 2)                                                                \
  XLD(I64_LOAD32_U, 0x35, L, 2)                                                                \
  XST(I32_STORE, 0x36, I, 2)                                                                   \
  XST(I64_STORE, 0x37, L, 3)                                                                   \
  XST(F32_STORE, 0x38, F, 2)                                                                   \
  XST(F64_STORE, 0x39, D, 3)                                                                   \
  XST(I32_STORE8, 0x3a, I, 0)                                                                  \
  XST(I32_STORE16, 0x3b, I, 1)                                                                 \
  XST(I64_STORE8, 0x3c, L, 0)                                                                  \
  XST(I64_STORE16, 0x3d, L, 1)                                                                 \
  XST(I64_STORE32, 0x3e, L, 2)                                                                 \
  XS(MEMORY_SIZE, 0x3f, MEM, 0, 1) /* dst */                                                   \
  XS(MEMORY_GROW, 0x40, MEM, 0, 2) /* dst, delta */                                            \
  XS(I32_CONST, 0x41, I32, 1, 2) /* dst, k */                                                  \
  XS(I64_CONST, 0x42, I64, 1, 3) /* dst, k lo, k hi */                                         \
  XS(F32_CONST, 0x43, F32, 1, 2) /* dst, bits */                                               \
  XS(F64_CONST, 0x44, F64, 1, 3) /* dst, bits lo, bits hi */                                   \
  XN1(I32_EQZ, 0x45, I, I, a == 0)                                                             \
  XN2(I32_EQ, 0x46, I, I, I, a == b)                                                           \
  XN2(I32_NE, 0x47, I, I, I, a != b)                                                           \
  XN2(I32_LT_S, 0x48, I, I, I, (int32_t)a < (int32_t)b)                                        \
  XN2(I32_LT_U, 0x49, I, I, I, a < b)                                                          \
  XN2(I32_GT_S, 0x4a, I, I, I, (int32_t)a > (int32_t)b)                                        \
  XN2(I32_GT_U, 0x4b, I, I, I, a > b)                                                          \
  XN2(I32_LE_S, 0x4c, I, I, I, (int32_t)a <= (int32_t)b)                                       \
  XN2(I32_LE_U, 0x4d, I, I, I, a <= b)                                                         \
  XN2(I32_GE_S, 0x4e, I, I, I, (int32_t)a >= (int32_t)b)                                       \
  XN2(I32_GE_U, 0x4f, I, I, I, a >= b)                                                         \
  XN1(I64_EQZ, 0x50, L, I, a == 0)                                                             \
  XN2(I64_EQ, 0x51, L, L, I, a == b)                                                           \
  XN2(I64_NE, 0x52, L, L, I, a != b)                                                           \
  XN2(I64_LT_S, 0x53, L, L, I, (int64_t)a < (int64_t)b)                                        \
  XN2(I64_LT_U, 0x54, L, L, I, a < b)                                                          \
  XN2(I64_GT_S, 0x55, L, L, I, (int64_t)a > (int64_t)b)                                        \
  XN2(I64_GT_U, 0x56, L, L, I, a > b)                                                          \
  XN2(I64_LE_S, 0x57, L, L, I, (int64_t)a <= (int64_t)b)                                       \
  XN2(I64_LE_U, 0x58, L, L, I, a <= b)                                                         \
  XN2(I64_GE_S, 0x59, L, L, I, (int64_t)a >= (int64_t)b)                                       \
  XN2(I64_GE_U, 0x5a, L, L, I, a >= b)                                                         \
  XN2(F32_EQ, 0x5b, F, F, I, a == b)                                                           \
  XN2(F32_NE, 0x5c, F, F, I, a != b)                                                           \
  XN2(F32_LT, 0x5d, F, F, I, a < b)                                                            \
  XN2(F32_GT, 0x5e, F, F, I, a > b)                                                            \
  XN2(F32_LE, 0x5f, F, F, I, a <= b)                                                           \
  XN2(F32_GE, 0x60, F, F, I, a >= b)                                                           \
  XN2(F64_EQ, 0x61, D, D, I, a == b)                                                           \
  XN2(F64_NE, 0x62, D, D, I, a != b)                                                           \
  XN2(F64_LT, 0x63, D, D, I, a < b)                                                            \
  XN2(F64_GT, 0x64, D, D, I, a > b)                                                            \
  XN2(F64_LE, 0x65, D, D, I, a <= b)                                                           \
  XN2(F64_GE, 0x66, D, D, I, a >= b)                                                           \
  XN1(I32_CLZ, 0x67, I, I, a ? (uint32_t)__builtin_clz(a) : 32u)                               \
  XN1(I32_CTZ, 0x68, I, I, a ? (uint32_t)__builtin_ctz(a) : 32u)                               \
  XN1(I32_POPCNT, 0x69, I, I, popcnt32(a))                                                     \
  XN2(I32_ADD, 0x6a, I, I, I, a + b)                                                           \
  XN2(I32_SUB, 0x6b, I, I, I, a - b)                                                           \
  XN2(I32_MUL, 0x6c, I, I, I, a * b)                                                           \
  XT2(I32_DIV_S, 0x6d, I, I, I)                                                                \
  XT2(I32_DIV_U, 0x6e, I, I, I)                                                                \
  XT2(I32_REM_S, 0x6f, I, I, I)                                                                \
  XT2(I32_REM_U, 0x70, I, I, I)                                                                \
  XN2(I32_AND, 0x71, I, I, I, a & b)                                                           \
  XN2(I32_OR, 0x72, I, I, I, a | b)                                                            \
  XN2(I32_XOR, 0x73, I, I, I, a ^ b)                                                           \
  XN2(I32_SHL, 0x74, I, I, I, a << (b & 31))                                                   \
  XN2(I32_SHR_S, 0x75, I, I, I, (uint32_t)((int32_t)a >> (b & 31)))                            \
  XN2(I32_SHR_U, 0x76, I, I, I, a >> (b & 31))                                                 \
  XN2(I32_ROTL, 0x77, I, I, I, rotl32(a, b))                                                   \
  XN2(I32_ROTR, 0x78, I, I, I, rotr32(a, b))                                                   \
  XN1(I64_CLZ, 0x79, L, L, a ? (uint64_t)__builtin_clzll(a) : 64u)                             \
  XN1(I64_CTZ, 0x7a, L, L, a ? (uint64_t)__builtin_ctzll(a) : 64u)                             \
  XN1(I64_POPCNT, 0x7b, L, L, popcnt64(a))                                                     \
  XN2(I64_ADD, 0x7c, L, L, L, a + b)                                                           \
  XN2(I64_SUB, 0x7d, L, L, L, a - b)                                                           \
  XN2(I64_MUL, 0x7e, L, L, L, a * b)                                                           \
  XT2(I64_DIV_S, 0x7f, L, L, L)                                                                \
  XT2(I64_DIV_U, 0x80, L, L, L)                                                                \
  XT2(I64_REM_S, 0x81, L, L, L)                                                                \
  XT2(I64_REM_U, 0x82, L, L, L)                                                                \
  XN2(I64_AND, 0x83, L, L, L, a & b)                                                           \
  XN2(I64_OR, 0x84, L, L, L, a | b)                                                            \
  XN2(I64_XOR, 0x85, L, L, L, a ^ b)                                                           \
  XN2(I64_SHL, 0x86, L, L, L, a << (b & 63))                                                   \
  XN2(I64_SHR_S, 0x87, L, L, L, (uint64_t)((int64_t)a >> (b & 63)))                            \
  XN2(I64_SHR_U, 0x88, L, L, L, a >> (b & 63))                                                 \
  XN2(I64_ROTL, 0x89, L, L, L, rotl64(a, b))                                                   \
  XN2(I64_ROTR, 0x8a, L, L, L, rotr64(a, b))                                                   \
  XN1(F32_ABS, 0x8b, F, F, f32_abs(a))                                                         \
  XN1(F32_NEG, 0x8c, F, F, f32_neg(a))                                                         \
  XN1(F32_CEIL, 0x8d, F, F, f32_ceil(a))                                                       \
  XN1(F32_FLOOR, 0x8e, F, F, f32_floor(a))                                                     \
  XN1(F32_TRUNC, 0x8f, F, F, f32_trunc(a))                                                     \
  XN1(F32_NEAREST, 0x90, F, F, f32_nearest(a))                                                 \
  XN1(F32_SQRT, 0x91, F, F, __builtin_sqrtf(a))                                                \
  XN2(F32_ADD, 0x92, F, F, F, a + b)                                                           \
  XN2(F32_SUB, 0x93, F, F, F, a - b)                                                           \
  XN2(F32_MUL, 0x94, F, F, F, a * b)                                                           \
  XN2(F32_DIV, 0x95, F, F, F, a / b)                                                           \
  XN2(F32_MIN, 0x96, F, F, F, f32_min(a, b))                                                   \
  XN2(F32_MAX, 0x97, F, F, F, f32_max(a, b))                                                   \
  XN2(F32_COPYSIGN, 0x98, F, F, F, f32_copysign(a, b))                                         \
  XN1(F64_ABS, 0x99, D, D, f64_abs(a))                                                         \
  XN1(F64_NEG, 0x9a, D, D, f64_neg(a))                                                         \
  XN1(F64_CEIL, 0x9b, D, D, f64_ceil(a))                                                       \
  XN1(F64_FLOOR, 0x9c, D, D, f64_floor(a))                                                     \
  XN1(F64_TRUNC, 0x9d, D, D, f64_trunc(a))                                                     \
  XN1(F64_NEAREST, 0x9e, D, D, f64_nearest(a))                                                 \
  XN1(F64_SQRT, 0x9f, D, D, __builtin_sqrt(a))                                                 \
  XN2(F64_ADD, 0xa0, D, D, D, a + b)                                                           \
  XN2(F64_SUB, 0xa1, D, D, D, a - b)                                                           \
  XN2(F64_MUL, 0xa2, D, D, D, a * b)                                                           \
  XN2(F64_DIV, 0xa3, D, D, D, a / b)                                                           \
  XN2(F64_MIN, 0xa4, D, D, D, f64_min(a, b))                                                   \
  XN2(F64_MAX, 0xa5, D, D, D, f64_max(a, b))                                                   \
  XN2(F64_COPYSIGN, 0xa6, D, D, D, f64_copysign(a, b))                                         \
  XN1(I32_WRAP_I64, 0xa7, L, I, (uint32_t)a)                                                   \
  XT1(I32_TRUNC_F32_S, 0xa8, F, I)                                                             \
  XT1(I32_TRUNC_F32_U, 0xa9, F, I)                                                             \
  XT1(I32_TRUNC_F64_S, 0xaa, D, I)                                                             \
  XT1(I32_TRUNC_F64_U, 0xab, D, I)                                                             \
  XN1(I64_EXTEND_I32_S, 0xac, I, L, (uint64_t)(int64_t)(int32_t)a)                             \
  XN1(I64_EXTEND_I32_U, 0xad, I, L, (uint64_t)a)                                               \
  XT1(I64_TRUNC_F32_S, 0xae, F, L)                                                             \
  XT1(I64_TRUNC_F32_U, 0xaf, F, L)                                                             \
  XT1(I64_TRUNC_F64_S, 0xb0, D, L)                                                             \
  XT1(I64_TRUNC_F64_U, 0xb1, D, L)                                                             \
  XN1(F32_CONVERT_I32_S, 0xb2, I, F, (float)(int32_t)a)                                        \
  XN1(F32_CONVERT_I32_U, 0xb3, I, F, (float)a)                                                 \
  XN1(F32_CONVERT_I64_S, 0xb4, L, F, (float)(int64_t)a)                                        \
  XN1(F32_CONVERT_I64_U, 0xb5, L, F, (float)a)                                                 \
  XN1(F32_DEMOTE_F64, 0xb6, D, F, (float)a)                                                    \
  XN1(F64_CONVERT_I32_S, 0xb7, I, D, (double)(int32_t)a)                                       \
  XN1(F64_CONVERT_I32_U, 0xb8, I, D, (double)a)                                                \
  XN1(F64_CONVERT_I64_S, 0xb9, L, D, (double)(int64_t)a)                                       \
  XN1(F64_CONVERT_I64_U, 0xba, L, D, (double)a)                                                \
  XN1(F64_PROMOTE_F32, 0xbb, F, D, (double)a)                                                  \
  XN1(I32_REINTERPRET_F32, 0xbc, F, I, f32_bits(a))                                            \
  XN1(I64_REINTERPRET_F64, 0xbd, D, L, f64_bits(a))                                            \
  XN1(F32_REINTERPRET_I32, 0xbe, I, F, f32_from(a))                                            \
  XN1(F64_REINTERPRET_I64, 0xbf, L, D, f64_from(a))                                            \
  XN1(I32_EXTEND8_S, 0xc0, I, I, (uint32_t)(int32_t)(int8_t)(uint8_t)a)                        \
  XN1(I32_EXTEND16_S, 0xc1, I, I, (uint32_t)(int32_t)(int16_t)(uint16_t)a)                     \
  XN1(I64_EXTEND8_S, 0xc2, L, L, (uint64_t)(int64_t)(int8_t)(uint8_t)a)                        \
  XN1(I64_EXTEND16_S, 0xc3, L, L, (uint64_t)(int64_t)(int16_t)(uint16_t)a)                     \
  XN1(I64_EXTEND32_S, 0xc4, L, L, (uint64_t)(int64_t)(int32_t)(uint32_t)a)                     \
  XS(REF_NULL, 0xd0, REFTYPE, 1, 1) /* dst */                                                  \
  XS(REF_IS_NULL, 0xd1, NONE, 0, 2) /* dst, a */                                               \
  XS(REF_FUNC, 0xd2, FUNC, 1, 2) /* dst, func */                                               \
  XS(REF_AS_NON_NULL, 0xd4, NONE, 0, 2) /* dst, a: traps on null */                            \
  XS(BR_ON_NULL, 0xd5, LABEL, 0, 5) /* target, ref, dst, src, n: copy n slots, jump if null */ \
  XS(BR_ON_NON_NULL, 0xd6, LABEL, 0, 5) /* target, ref, dst, src, n: ... if not null */        \
  XS(REF_EQ, 0xd3, NONE, 0, 3) /* dst, a, b (GC) */                                             \
  XFN1(I32_TRUNC_SAT_F32_S, 0, F, I, sat_i32_f32_s(a))                                         \
  XFN1(I32_TRUNC_SAT_F32_U, 1, F, I, sat_i32_f32_u(a))                                         \
  XFN1(I32_TRUNC_SAT_F64_S, 2, D, I, sat_i32_f64_s(a))                                         \
  XFN1(I32_TRUNC_SAT_F64_U, 3, D, I, sat_i32_f64_u(a))                                         \
  XFN1(I64_TRUNC_SAT_F32_S, 4, F, L, sat_i64_f32_s(a))                                         \
  XFN1(I64_TRUNC_SAT_F32_U, 5, F, L, sat_i64_f32_u(a))                                         \
  XFN1(I64_TRUNC_SAT_F64_S, 6, D, L, sat_i64_f64_s(a))                                         \
  XFN1(I64_TRUNC_SAT_F64_U, 7, D, L, sat_i64_f64_u(a))                                         \
  XFS(MEMORY_INIT, 8, DATA_MEM, 4) /* seg, d, s, n */                                          \
  XFS(DATA_DROP, 9, DATA, 1) /* seg */                                                         \
  XFS(MEMORY_COPY, 10, MEM2, 3) /* d, s, n */                                                  \
  XFS(MEMORY_FILL, 11, MEM, 3) /* d, val, n */                                                 \
  XFS(TABLE_INIT, 12, ELEM_TABLE, 5) /* seg, table, d, s, n */                                 \
  XFS(ELEM_DROP, 13, ELEM, 1) /* seg */                                                        \
  XFS(TABLE_COPY, 14, TABLE2, 5) /* dst table, src table, d, s, n */                           \
  XFS(TABLE_GROW, 15, TABLE, 4) /* dst, table, val, n */                                       \
  XFS(TABLE_SIZE, 16, TABLE, 2) /* dst, table */                                               \
  XFS(TABLE_FILL, 17, TABLE, 4) /* table, d, val, n */                                         \
  /* GC (0xFB): casts take the target heap type as a store-wide eng_vt word (eng_ref_test) */   \
  XFS(STRUCT_NEW, HL_FB(0), TYPE, 3) /* dst (= base), type id, base: the fields' values */         \
  XFS(STRUCT_NEW_DEFAULT, HL_FB(1), TYPE, 2) /* dst, type id */                                    \
  XFS(STRUCT_GET, HL_FB(2), TYPE2, 4) /* dst, ref, slot, mode (GC_M_*) */                          \
  XFS(STRUCT_GET_S, HL_FB(3), TYPE2, 4) /* dst, ref, slot, mode */                                 \
  XFS(STRUCT_GET_U, HL_FB(4), TYPE2, 4) /* dst, ref, slot, mode */                                 \
  XFS(STRUCT_SET, HL_FB(5), TYPE2, 4) /* ref, val, slot, mode */                                   \
  XFS(ARRAY_NEW, HL_FB(6), TYPE, 5) /* dst, type id, val, len, mode */                             \
  XFS(ARRAY_NEW_DEFAULT, HL_FB(7), TYPE, 4) /* dst, type id, len, mode */                          \
  XFS(ARRAY_NEW_FIXED, HL_FB(8), TYPE2, 4) /* dst (= base), type id, n, mode */                    \
  XFS(ARRAY_NEW_DATA, HL_FB(9), TYPE2, 6) /* dst, type id, data, off, n, mode */                  \
  XFS(ARRAY_NEW_ELEM, HL_FB(10), TYPE2, 5) /* dst, type id, elem, off, n */                        \
  XFS(ARRAY_GET, HL_FB(11), TYPE, 4) /* dst, ref, idx, mode */                                     \
  XFS(ARRAY_GET_S, HL_FB(12), TYPE, 4) /* dst, ref, idx, mode */                                   \
  XFS(ARRAY_GET_U, HL_FB(13), TYPE, 4) /* dst, ref, idx, mode */                                   \
  XFS(ARRAY_SET, HL_FB(14), TYPE, 4) /* ref, idx, val, mode */                                     \
  XFS(ARRAY_LEN, HL_FB(15), NONE, 2) /* dst, ref */                                                \
  XFS(ARRAY_FILL, HL_FB(16), TYPE, 5) /* ref, off, val, n, mode */                                 \
  XFS(ARRAY_COPY, HL_FB(17), TYPE2, 6) /* dref, doff, sref, soff, n, element slots */              \
  XFS(ARRAY_INIT_DATA, HL_FB(18), TYPE2, 6) /* ref, d, s, n, data, mode */                         \
  XFS(ARRAY_INIT_ELEM, HL_FB(19), TYPE2, 5) /* ref, d, s, n, elem */                               \
  XFS(REF_TEST, HL_FB(20), REFTYPE, 3) /* dst, a, heap type */                                  \
  XFS(REF_TEST_NULL, HL_FB(21), REFTYPE, 3) /* dst, a, heap type: null passes */                \
  XFS(REF_CAST, HL_FB(22), REFTYPE, 3) /* dst, a, heap type: traps "cast failure" */            \
  XFS(REF_CAST_NULL, HL_FB(23), REFTYPE, 3) /* dst, a, heap type: null passes */                \
  XFS(BR_ON_CAST, HL_FB(24), BR_ON_CAST, 6) /* target, ref, dst, src, n, heap type|null flag */ \
  XFS(BR_ON_CAST_FAIL, HL_FB(25), BR_ON_CAST, 6) /* target, ref, dst, src, n, heap type|flag */ \
  XFS(ANY_CONVERT_EXTERN, HL_FB(26), NONE, 2) /* dst, a: boxes a host value (eng_internalize) */ \
  XFS(EXTERN_CONVERT_ANY, HL_FB(27), NONE, 2) /* dst, a (eng_externalize) */                    \
  XFS(REF_I31, HL_FB(28), NONE, 2) /* dst, a */                                                 \
  XFS(I31_GET_S, HL_FB(29), NONE, 2) /* dst, a: traps on null */                                \
  XFS(I31_GET_U, HL_FB(30), NONE, 2) /* dst, a: traps on null */                                \
  XI(COPY, 2)        /* dst, src */                                                            \
  XI(JMP, 1)         /* target */                                                              \
  XI(BR_MOVE, 4)     /* target, dst, src, n: copy n slots src -> dst, jump */                  \
  XI(BR_IF_NZ, 2)    /* target, cond */                                                        \
  XI(BR_IF_MOVE, 5)  /* target, cond, dst, src, n */                                           \
  XI(BR_UNLESS, 2)   /* target, cond: jump if cond == 0 */                                     \
  XI(BR_TABLE_X, W_VAR)  /* idx, n, arity, src, then n+1 x (target, dst) */                    \
  XI(RETURN_X, 2)    /* n, src: copy n slots src -> 0, return */                               \
  XI(FUEL, 1)        /* amount */                                                              \
  /* multi-memory: an access to a memory other than 0 (op: the LD/ST row, mem: its index) */    \
  XI(LOAD_M, 5)      /* dst, addr, offset, mem, op */                                          \
  XI(STORE_M, 5)     /* addr, val, offset, mem, op */                                          \
  XI(MEMORY_SIZE_M, 2) /* dst, mem */                                                          \
  XI(MEMORY_GROW_M, 3) /* dst, delta, mem */                                                   \
  XI(MEMORY_INIT_M, 5) /* seg, d, s, n, mem */                                                 \
  XI(MEMORY_COPY_M, 5) /* d, s, n, dst mem, src mem (either not 0) */                          \
  XI(MEMORY_FILL_M, 4) /* d, v, n, mem */                                                      \
  XI(BRIF_I32_EQZ, 2) /* target, a: jump if a == 0 (fused i32.eqz + br_if) */                  \
  XI(SIMD, W_VAR)        /* dst, sub, a, b, c, x, y [, 4 data words]: simd.h */                \
  XI(HANDLER, W_VAR) /* start end depth deleg n, n x (kind tag target dst xslot): see below */

// Numeric rows allowed in constant expressions (extended constant expressions, WebAssembly 3.0):
// XC(name, type) names an N2 row whose operands and result are `type`. rd_constexpr accepts them,
// module validation types them, interp.c's eng_const_bin evaluates them with the row's ev_<name>.
#define HL_CONST_BIN(XC)                                                                        \
  XC(I32_ADD, I)                                                                                \
  XC(I32_SUB, I)                                                                                \
  XC(I32_MUL, I)                                                                                \
  XC(I64_ADD, L)                                                                                \
  XC(I64_SUB, L)                                                                                \
  XC(I64_MUL, L)

// ---------------------------------------------------------------- derived and fused opcodes
// The compiler also emits forms derived from the rows above; this is the one place that says which
// base rows each stands for (the handlers take their semantics from those rows: interp.c's
// per-row ev_<name> functions). Enum order (HL_ALL_OPS below): the HL_OPCODES rows, then
//   <name>_IMM         for every N2: dst, a, imm (1 word for I/F operands, 2 for L/D): b is a
//                      constant (i32.const k; <name>)                         words HL_W_IMM(in2)
//   BRIF_<name>        for every XF below: target, a, b: <name>; br_if (if: the negated compare)
//   BRIF_<name>_IMM    the same with b a constant: target, a, imm                        words 3
//   <load>_X           for every LD: dst, a, k, offset: i32.add_imm k; <load>, the address is
//                      (u32)(a + k) + offset                                             words 4
//   <outer>__<inner>   HL_FUSED_BIN: inner; outer (the inner result is an operand of outer)
//                      dst, x, y, a                                                      words 4
//   <outer>__<load>[_X] HL_FUSED_LD: load; outer: dst, addr, [k,] offset, a          words 4 / 5
//   COPY2              COPY; COPY: dst1, src1, dst2, src2                                words 4
// and among the XI rows above: BRIF_I32_EQZ (i32.eqz; br_if), BR_IF_NZ / BR_UNLESS (br_if / if),
// BR_IF_MOVE / BR_MOVE (br_if / br with a result copy), BR_TABLE_X (br_table), RETURN_X
// (return, end of function), FUEL (fuel accounting), SIMD (every 0xFD instruction, simd.h),
// HANDLER (an exception handler's descriptor: try_table, and each legacy catch/catch_all and
// delegate; executing it only steps over it). A HANDLER covers the code offsets [start, end)
// of a try body; depth counts the try/try_table blocks around it (itself included); deleg is
// HL_NO_SLOT, or (delegate) the depth at which the search for a handler resumes. Clauses:
// kind (HL_CATCH_*), tag index, target offset, dst (first slot of the label's values), xslot
// (HL_NO_SLOT, or the slot keeping the exception for a legacy rethrow). eng_func.handlers
// lists the HANDLERs of a function, innermost first.
#define HL_W_N1 2
#define HL_W_N2 3
#define HL_W_IMM(t) (2 + HL_IMMW_##t)
#define HL_IMMW_I 1
#define HL_IMMW_F 1
#define HL_IMMW_L 2
#define HL_IMMW_D 2
#define HL_W_MEM 3      /* LD, ST */
#define HL_W_BRIF 3     /* BRIF_<name>, BRIF_<name>_IMM */
#define HL_W_LDX 4
#define HL_W_FUSED_BIN 4
#define HL_W_FUSED_LD 4
#define HL_W_FUSED_LDX 5
#define HL_W_COPY2 4
#define HL_W_HANDLER(n) (5 + 5 * (n)) /* HANDLER with n clauses */
#define HL_NO_SLOT 0xffffffffu
enum { HL_CATCH = 0, HL_CATCH_REF = 1, HL_CATCH_ALL = 2, HL_CATCH_ALL_REF = 3 }; // binary kinds

// i32 compares that fuse with br_if / if: XF(name) names an N2 row.
#define HL_FUSED_CMP(XF)                                                                        \
  XF(I32_EQ)                                                                                    \
  XF(I32_NE)                                                                                    \
  XF(I32_LT_S)                                                                                  \
  XF(I32_LT_U)                                                                                  \
  XF(I32_GT_S)                                                                                  \
  XF(I32_GT_U)                                                                                  \
  XF(I32_LE_S)                                                                                  \
  XF(I32_LE_U)                                                                                  \
  XF(I32_GE_S)                                                                                  \
  XF(I32_GE_U)

// Fused pairs "inner; outer" where one operand of the outer binary op is the inner op's result (a
// temporary used once): XB(outer, inner, type, imm, commutative) names two N2 rows; imm = 1: the
// inner op is inner's _IMM form (y is its immediate). Computes t = inner(x, y), then outer(a, t).
// Opcode OP_<outer>__<inner>[_IMM] (HL_FB_ID), words: dst, x, y, a. Only commutative outer ops
// fuse when the temporary is the LEFT operand. Each op rounds separately (no fused multiply-add):
// the same results as the two instructions.
#define HL_FUSED_BIN(XB)                                                                        \
  XB(I32_ADD, I32_ROTL, I, 1, 1)                                                                \
  XB(I32_ADD, I32_SHR_U, I, 1, 1)                                                               \
  XB(I32_ADD, I32_SHL, I, 1, 1)                                                                 \
  XB(I32_ADD, I32_XOR, I, 1, 1)                                                                 \
  XB(I32_ADD, I32_AND, I, 1, 1)                                                                 \
  XB(I32_ADD, I32_ADD, I, 0, 1)                                                                 \
  XB(I32_ADD, I32_XOR, I, 0, 1)                                                                 \
  XB(I32_ADD, I32_AND, I, 0, 1)                                                                 \
  XB(I32_ADD, I32_OR, I, 0, 1)                                                                  \
  XB(I32_XOR, I32_ROTL, I, 1, 1)                                                                \
  XB(I32_XOR, I32_SHR_U, I, 1, 1)                                                               \
  XB(I32_XOR, I32_SHL, I, 1, 1)                                                                 \
  XB(I32_XOR, I32_XOR, I, 1, 1)                                                                 \
  XB(I32_XOR, I32_AND, I, 1, 1)                                                                 \
  XB(I32_XOR, I32_ADD, I, 0, 1)                                                                 \
  XB(I32_XOR, I32_XOR, I, 0, 1)                                                                 \
  XB(I32_XOR, I32_AND, I, 0, 1)                                                                 \
  XB(I32_XOR, I32_OR, I, 0, 1)                                                                  \
  XB(I32_OR, I32_ROTL, I, 1, 1)                                                                 \
  XB(I32_OR, I32_SHR_U, I, 1, 1)                                                                \
  XB(I32_OR, I32_SHL, I, 1, 1)                                                                  \
  XB(I32_OR, I32_XOR, I, 1, 1)                                                                  \
  XB(I32_OR, I32_AND, I, 1, 1)                                                                  \
  XB(I32_OR, I32_ADD, I, 0, 1)                                                                  \
  XB(I32_OR, I32_XOR, I, 0, 1)                                                                  \
  XB(I32_OR, I32_AND, I, 0, 1)                                                                  \
  XB(I32_OR, I32_OR, I, 0, 1)                                                                   \
  XB(I32_AND, I32_ROTL, I, 1, 1)                                                                \
  XB(I32_AND, I32_SHR_U, I, 1, 1)                                                               \
  XB(I32_AND, I32_SHL, I, 1, 1)                                                                 \
  XB(I32_AND, I32_XOR, I, 1, 1)                                                                 \
  XB(I32_AND, I32_AND, I, 1, 1)                                                                 \
  XB(I32_AND, I32_ADD, I, 0, 1)                                                                 \
  XB(I32_AND, I32_XOR, I, 0, 1)                                                                 \
  XB(I32_AND, I32_AND, I, 0, 1)                                                                 \
  XB(I32_AND, I32_OR, I, 0, 1)                                                                  \
  XB(F64_ADD, F64_MUL, D, 0, 0)                                                                 \
  XB(F64_ADD, F64_ADD, D, 0, 0)                                                                 \
  XB(F64_ADD, F64_SUB, D, 0, 0)                                                                 \
  XB(F64_SUB, F64_MUL, D, 0, 0)                                                                 \
  XB(F64_SUB, F64_ADD, D, 0, 0)                                                                 \
  XB(F64_SUB, F64_SUB, D, 0, 0)                                                                 \
  XB(F64_MUL, F64_MUL, D, 0, 0)                                                                 \
  XB(F64_MUL, F64_ADD, D, 0, 0)                                                                 \
  XB(F64_MUL, F64_SUB, D, 0, 0)

// Fused "load; outer" pairs, the same way: XL(outer, load, type, bytes, commutative) names an N2
// row and an LD row (a full-width load of `bytes` bytes); computes outer(a, t) with t the loaded
// value. OP_<outer>__<load>: dst, addr, offset, a; OP_<outer>__<load>_X (the load fused with
// i32.add_imm): dst, addr, k, offset, a.
#define HL_FUSED_LD(XL)                                                                         \
  XL(I32_ADD, I32_LOAD, I, 4, 1)                                                                \
  XL(I32_XOR, I32_LOAD, I, 4, 1)                                                                \
  XL(I64_ADD, I64_LOAD, L, 8, 1)                                                                \
  XL(F64_ADD, F64_LOAD, D, 8, 0)                                                                \
  XL(F64_SUB, F64_LOAD, D, 8, 0)                                                                \
  XL(F64_MUL, F64_LOAD, D, 8, 0)

// Identifiers of fused and _IMM forms: HL_IMM_ID(pfx, name, imm) is pfx##name, or pfx##name##_IMM
// when imm is 1; HL_FB_ID(pfx, outer, inner, imm) is the HL_FUSED_BIN opcode's (pfx OP_, L_, ...).
#define HL_IMM_ID(pfx, n, imm) HL_IMM_ID_##imm(pfx, n)
#define HL_IMM_ID_0(pfx, n) pfx##n
#define HL_IMM_ID_1(pfx, n) pfx##n##_IMM
#define HL_FB_ID(pfx, o, i, imm) HL_IMM_ID(pfx, o##__##i, imm)
#define HL_NONE(...)

// Every opcode in enum order (internal.h's enum, interp.c's label table, eng_op_words and the
// dumpers all expand this): ROW(HL_OPCODES row), IMM(N2 row), BRIF(XF), BRIFI(XF), LDX(LD row),
// FB(XB), FL(XL: two opcodes, plain and _X), then COPY2 (CP, no arguments).
#define HL_ALL_OPS(ROW, IMM, BRIF, BRIFI, LDX, FB, FL, CP)                                      \
  HL_OPCODES(ROW, ROW, ROW, ROW, ROW, ROW, ROW, ROW, ROW, ROW)                                  \
  HL_OPCODES(HL_NONE, IMM, HL_NONE, HL_NONE, HL_NONE, HL_NONE, HL_NONE, HL_NONE, HL_NONE, HL_NONE) \
  HL_FUSED_CMP(BRIF)                                                                            \
  HL_FUSED_CMP(BRIFI)                                                                           \
  HL_OPCODES(HL_NONE, HL_NONE, HL_NONE, HL_NONE, LDX, HL_NONE, HL_NONE, HL_NONE, HL_NONE, HL_NONE) \
  HL_FUSED_BIN(FB)                                                                              \
  HL_FUSED_LD(FL)                                                                               \
  CP()

#endif
