package wasmbin

import "fmt"

// Opcodes that may appear in a constant expression (MVP, reference types, SIMD,
// extended constant expressions, GC's ref.i31, struct.new(_default), array.new(_default,
// _fixed), any.convert_extern and extern.convert_any).
const (
	opEnd       = 0x0b
	opGlobalGet = 0x23
	opI32Const  = 0x41
	opI64Const  = 0x42
	opF32Const  = 0x43
	opF64Const  = 0x44
	opI32Add    = 0x6a
	opI32Sub    = 0x6b
	opI32Mul    = 0x6c
	opI64Add    = 0x7c
	opI64Sub    = 0x7d
	opI64Mul    = 0x7e
	opRefNull   = 0xd0
	opRefFunc   = 0xd2
	opSIMD      = 0xfd
	simdV128Cst = 12
	opGC        = 0xfb
	gcRefI31    = 28
)

// maxConstExprOps bounds the work spent on one expression (each op takes at least a byte,
// so this only matters for absurd inputs).
const maxConstExprOps = 1 << 16

// nonConstant reports an instruction that may not appear in a constant expression. Its
// immediates cannot be skipped without decoding it, so the reader stops; it calls the module
// invalid ("constant expression required") even if the opcode does not exist at all.
func nonConstant(r *reader, op string) error {
	return fmt.Errorf("%w: at offset %d: constant expression required (opcode %s)", ErrInvalid, r.off+r.pos-1, op)
}

// skipConstExpr skips a constant expression up to and including its end opcode. It decodes
// instructions rather than scanning for 0x0b, because immediates may contain that byte.
// Typing is the engine's job.
func skipConstExpr(r *reader) error {
	for i := 0; i < maxConstExprOps; i++ {
		op, err := r.byte()
		if err != nil {
			return err
		}
		switch op {
		case opEnd:
			return nil
		case opI32Const:
			_, err = r.sleb(32)
		case opI64Const:
			_, err = r.sleb(64)
		case opF32Const:
			_, err = r.bytes(4)
		case opF64Const:
			_, err = r.bytes(8)
		case opGlobalGet, opRefFunc:
			_, err = r.u32()
		case opRefNull:
			_, err = r.heapType()
		case opI32Add, opI32Sub, opI32Mul, opI64Add, opI64Sub, opI64Mul:
		case opGC:
			var sub uint32
			if sub, err = r.u32(); err != nil {
				break
			}
			switch sub {
			case gcRefI31, 26, 27: // ref.i31, any.convert_extern, extern.convert_any
			case 0, 1, 6, 7: // struct.new, struct.new_default, array.new, array.new_default: type
				_, err = r.u32()
			case 8: // array.new_fixed: type, count
				if _, err = r.u32(); err == nil {
					_, err = r.u32()
				}
			default:
				return nonConstant(r, fmt.Sprintf("0xfb %d", sub))
			}
		case opSIMD:
			var sub uint32
			if sub, err = r.u32(); err == nil {
				if sub != simdV128Cst {
					return nonConstant(r, fmt.Sprintf("0xfd %d", sub))
				}
				_, err = r.bytes(16)
			}
		default:
			return nonConstant(r, fmt.Sprintf("0x%02x", op))
		}
		if err != nil {
			return err
		}
	}
	return r.errorf("constant expression too long")
}
