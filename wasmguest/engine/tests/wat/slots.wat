(module
  ;; expected results are in the export names' comments; checked by edge.c
  (func $id (param i32) (result i32) (local.get 0))
  ;; (x + x) with x overwritten after both reads: 2*x0
  (func (export "hz2") (param i32) (result i32)
    (local.get 0) (local.get 0) (local.set 0 (i32.const 5)) (i32.add))
  ;; br_if carrying a pending local: returns p1 if p0 != 0 else p2
  (func (export "brv") (param i32 i32 i32) (result i32)
    (block (result i32) (local.get 1) (local.get 0) (br_if 0) (drop) (local.get 2)))
  ;; tee inside call args: id(p0 = p0 + 1) + p0  -> 2*(p0+1)
  (func (export "teecall") (param i32) (result i32)
    (call $id (local.tee 0 (i32.add (local.get 0) (i32.const 1)))) (local.get 0) (i32.add))
  ;; br_table with a value: index p0 selects 10/20/30 via blocks, value p1 added
  (func (export "brt") (param i32 i32) (result i32)
    (block (result i32)
      (block (result i32)
        (block (result i32)
          (local.get 1) (local.get 0) (br_table 0 1 2))
        (i32.add (i32.const 10)) (return))
      (i32.add (i32.const 20)) (return))
    (i32.add (i32.const 30)))
  ;; loop with a param fed from a local: sum p0 + (p0-1) + ... + 1
  (func (export "loopsum") (param i32) (result i32) (local i32)
    (local.get 0)
    (loop (param i32) (result i32)
      (local.set 1 (i32.add (local.get 1)))
      (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))
      (local.get 0)
      (br_if 0))
    (drop) (local.get 1))
  ;; if with a param coming from a pending local, result multi-value
  (func (export "ifp") (param i32 i32) (result i32 i32)
    (local.get 1)
    (if (param i32) (result i32 i32) (local.get 0)
      (then (i32.const 1))
      (else (i32.const 2))))
  ;; select between pending locals and a constant condition chain
  (func (export "sel") (param i32 i32 i32) (result i32)
    (select (local.get 0) (local.get 1) (local.get 2)))
  ;; constant folding paths: const as second operand, first operand, stored to local, tee'd
  (func (export "konst") (param i32) (result i32) (local i32)
    (local.set 1 (i32.const 7))
    (i32.sub (i32.const 100) (local.get 0))
    (i32.mul (local.tee 1 (i32.const 3)))
    (local.get 1) (i32.add))
  ;; i64 constant wider than 32 bits as immediate and materialized
  (func (export "k64") (param i64) (result i64)
    (i64.add (local.get 0) (i64.const 0x100000000))
    (i64.const 0x200000000) (i64.xor))
  ;; fused compare+branch inside if/else with else value
  (func (export "cmpif") (param i32 i32) (result i32)
    (if (result i32) (i32.lt_s (local.get 0) (local.get 1)) (then (i32.const -1))
      (else (if (result i32) (i32.eqz (i32.sub (local.get 0) (local.get 1))) (then (i32.const 0)) (else (i32.const 1))))))
  ;; fused load: address = p0 + 8, wraps around 2^32 when p0 = -8
  (memory 1)
  (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
  (func (export "ldx") (param i32) (result i32)
    (i32.load8_u offset=1 (i32.add (local.get 0) (i32.const 8))))
  ;; retarget chain: p0*2 stored via local.set then reused
  (func (export "rt") (param i32) (result i32) (local i32 i32)
    (local.set 1 (i32.mul (local.get 0) (i32.const 2)))
    (local.set 2 (i32.add (local.get 1) (local.get 0)))
    (i32.add (local.get 1) (local.get 2)))
)
