# simdgen.py SEED [nof] — a random SIMD program (wat on stdout) for the tier differential test
# (make -C wasmguest/engine/tests simd-diff): 12 exports, each a loop of random statements over
# v128 and i32 locals and memory, returning an i64 hash of its locals and memory. nof: no float
# ops. STMTS=N: N statements per loop (small programs localize a difference).
import random, sys
seed = int(sys.argv[1]); random.seed(seed)
NOF = len(sys.argv) > 2
NV, NS = 5, 3
bin_ops = """i8x16.add i8x16.sub i8x16.add_sat_s i8x16.add_sat_u i8x16.sub_sat_s i8x16.sub_sat_u i8x16.min_s i8x16.min_u
i8x16.max_s i8x16.max_u i8x16.avgr_u i8x16.eq i8x16.ne i8x16.lt_s i8x16.lt_u i8x16.gt_s i8x16.gt_u i8x16.le_s i8x16.le_u
i8x16.ge_s i8x16.ge_u i16x8.add i16x8.sub i16x8.mul i16x8.add_sat_s i16x8.add_sat_u i16x8.sub_sat_s i16x8.sub_sat_u
i16x8.min_s i16x8.min_u i16x8.max_s i16x8.max_u i16x8.avgr_u i16x8.eq i16x8.ne i16x8.lt_s i16x8.lt_u i16x8.gt_s
i16x8.gt_u i16x8.le_s i16x8.le_u i16x8.ge_s i16x8.ge_u i32x4.add i32x4.sub i32x4.mul i32x4.min_s i32x4.min_u
i32x4.max_s i32x4.max_u i32x4.eq i32x4.ne i32x4.lt_s i32x4.lt_u i32x4.gt_s i32x4.gt_u i32x4.le_s i32x4.le_u
i32x4.ge_s i32x4.ge_u i32x4.dot_i16x8_s i64x2.add i64x2.sub i64x2.mul i64x2.eq i64x2.ne i64x2.lt_s i64x2.gt_s
i64x2.le_s i64x2.ge_s v128.and v128.or v128.xor v128.andnot i8x16.narrow_i16x8_s i8x16.narrow_i16x8_u
i16x8.narrow_i32x4_s i16x8.narrow_i32x4_u i8x16.swizzle f32x4.add f32x4.sub f32x4.mul f32x4.div f32x4.pmin f32x4.pmax
f64x2.add f64x2.sub f64x2.mul f64x2.div f64x2.pmin f64x2.pmax f32x4.eq f32x4.ne f32x4.lt f32x4.gt f32x4.le f32x4.ge
f64x2.eq f64x2.ne f64x2.lt f64x2.gt f64x2.le f64x2.ge i16x8.extmul_low_i8x16_s i32x4.extmul_high_i16x8_u
f32x4.min f64x2.max i16x8.q15mulr_sat_s""".split()
un_ops = """v128.not i8x16.abs i8x16.neg i8x16.popcnt i16x8.abs i16x8.neg i32x4.abs i32x4.neg i64x2.abs i64x2.neg
f32x4.abs f32x4.neg f64x2.abs f64x2.neg f32x4.sqrt f64x2.sqrt f32x4.ceil f32x4.floor f32x4.trunc f32x4.nearest
f64x2.ceil f64x2.floor f64x2.trunc f64x2.nearest f32x4.convert_i32x4_s f32x4.convert_i32x4_u f64x2.convert_low_i32x4_s
f32x4.demote_f64x2_zero f64x2.promote_low_f32x4 i16x8.extend_low_i8x16_s i16x8.extend_high_i8x16_s
i16x8.extend_low_i8x16_u i16x8.extend_high_i8x16_u i32x4.extend_low_i16x8_s i32x4.extend_high_i16x8_s
i32x4.extend_low_i16x8_u i32x4.extend_high_i16x8_u i64x2.extend_low_i32x4_s i64x2.extend_high_i32x4_s
i64x2.extend_low_i32x4_u i64x2.extend_high_i32x4_u i32x4.trunc_sat_f32x4_s i16x8.extadd_pairwise_i8x16_u""".split()
shift_ops = "i8x16.shl i16x8.shl i16x8.shr_s i16x8.shr_u i32x4.shl i32x4.shr_s i32x4.shr_u i64x2.shl i64x2.shr_u i64x2.shr_s".split()
test_ops = "v128.any_true i8x16.all_true i16x8.all_true i32x4.all_true i64x2.all_true i8x16.bitmask i16x8.bitmask i32x4.bitmask i64x2.bitmask".split()
extract = [("i8x16.extract_lane_s",16),("i8x16.extract_lane_u",16),("i16x8.extract_lane_s",8),("i16x8.extract_lane_u",8),("i32x4.extract_lane",4)]
if NOF:
    bin_ops = [o for o in bin_ops if not o.startswith("f")]
    un_ops = [o for o in un_ops if not o.startswith("f") and "trunc_sat" not in o]
def vexpr(d):
    r = random.random()
    if d <= 0 or r < 0.25:
        k = random.random()
        if k < 0.6: return "(local.get $v%d)" % random.randrange(NV)
        if k < 0.8: return "(v128.const i32x4 %s)" % " ".join(hex(random.getrandbits(32)) for _ in range(4))
        if k < 0.9: return "(v128.load offset=%d (i32.and (local.get $s0) (i32.const 255)))" % random.randrange(64)
        t = random.choice(["i8x16","i16x8","i32x4"])
        return "(%s.splat (local.get $s%d))" % (t, random.randrange(NS))
    if r < 0.55: return "(%s %s %s)" % (random.choice(bin_ops), vexpr(d-1), vexpr(d-1))
    if r < 0.7: return "(%s %s)" % (random.choice(un_ops), vexpr(d-1))
    if r < 0.74: return "(%s %s (local.get $s%d))" % (random.choice(shift_ops), vexpr(d-1), random.randrange(NS))
    if r < 0.78: return "(%s %s (i32.const %d))" % (random.choice(shift_ops), vexpr(d-1), random.randrange(-3, 70))
    if r < 0.84: return "(v128.bitselect %s %s %s)" % (vexpr(d-1), vexpr(d-1), vexpr(d-1))
    if r < 0.90:
        lanes = " ".join(str(random.randrange(32)) for _ in range(16))
        if random.random() < 0.5:
            q = [random.randrange(8) for _ in range(4)]
            lanes = " ".join(str(4*x+i) for x in q for i in range(4))
        return "(i8x16.shuffle %s %s %s)" % (lanes, vexpr(d-1), vexpr(d-1))
    if r < 0.95:
        t, n = random.choice([("i8x16",16),("i16x8",8),("i32x4",4),("i64x2",2)])
        val = "(local.get $s%d)" % random.randrange(NS) if t != "i64x2" else "(i64.extend_i32_u (local.get $s%d))" % random.randrange(NS)
        return "(%s.replace_lane %d %s %s)" % (t, random.randrange(n), vexpr(d-1), val)
    return "(select %s %s (local.get $s%d))" % (vexpr(d-1), vexpr(d-1), random.randrange(NS))
def sexpr(d):
    r = random.random()
    if r < 0.4: return "(%s %s)" % (random.choice(test_ops), vexpr(d))
    if r < 0.7:
        op, n = random.choice(extract)
        return "(%s %d %s)" % (op, random.randrange(n), vexpr(d))
    if r < 0.85: return "(i32.add (local.get $s%d) (i32.wrap_i64 (i64x2.extract_lane %d %s)))" % (random.randrange(NS), random.randrange(2), vexpr(d))
    if NOF: return "(i32.wrap_i64 (i64x2.extract_lane %d %s))" % (random.randrange(2), vexpr(d))
    return "(i32.trunc_sat_f32_s (f32x4.extract_lane %d %s))" % (random.randrange(4), vexpr(d))
def stmt():
    r = random.random()
    if r < 0.55: return "(local.set $v%d %s)" % (random.randrange(NV), vexpr(3))
    if r < 0.8: return "(local.set $s%d %s)" % (random.randrange(NS), sexpr(2))
    if r < 0.9: return "(v128.store offset=%d (i32.and (local.get $s1) (i32.const 255)) %s)" % (random.randrange(64), vexpr(2))
    return "(local.set $v%d (local.tee $v%d %s))" % (random.randrange(NV), random.randrange(NV), vexpr(2))
out = ["(module (memory 1)"]
for f in range(12):
    body = []
    body.append("(local.set $s0 (i32.const %d)) (local.set $s1 (i32.const %d)) (local.set $s2 (i32.const %d))" % tuple(random.getrandbits(31) for _ in range(3)))
    for i in range(NV): body.append("(local.set $v%d (v128.const i64x2 %d %d))" % (i, random.getrandbits(63), random.getrandbits(63)))
    import os; ns = int(os.environ.get("STMTS", "0"))
    loop = [stmt() for _ in range(ns or random.randrange(3, 14))]
    body.append("(block $out (loop $top %s (br_if $top (i32.lt_u (local.tee $n (i32.add (local.get $n) (i32.const 1))) (i32.const %d)))))" % (" ".join(loop), random.randrange(1, 6)))
    h = "(i64.const 0)"
    for i in range(NV):
        h = "(i64.xor (i64.mul %s (i64.const 1099511628211)) (i64.xor (i64x2.extract_lane 0 (local.get $v%d)) (i64.rotl (i64x2.extract_lane 1 (local.get $v%d)) (i64.const 17))))" % (h, i, i)
    for i in range(NS): h = "(i64.add (i64.mul %s (i64.const 31)) (i64.extend_i32_u (local.get $s%d)))" % (h, i)
    h = "(i64.xor %s (i64.load offset=%d (i32.const 0)))" % (h, random.randrange(0, 300, 8))
    locs = " ".join("(local $v%d v128)" % i for i in range(NV)) + " " + " ".join("(local $s%d i32)" % i for i in range(NS))
    out.append('(func (export "f%02d") (result i64) %s (local $n i32) %s %s)' % (f, locs, " ".join(body), h))
out.append(")")
print("\n".join(out))
