;; The `spectest` module the official test suite imports from, as a real Wasm module (see the
;; spec repository's interpreter/host/spectest.ml): print functions are no-ops. Both spec
;; runners instantiate it in every store and register it as "spectest": the Go one embeds
;; spectest.wasm, the hosted C one (wasmguest/hosted) compiles in spectest_wasm.inc, the same
;; bytes, and binds the print functions as host functions. mk/testdata.mk builds both files
;; (make -f mk/testdata.mk spectest-wasm).
(module
  (global (export "global_i32") i32 (i32.const 666))
  (global (export "global_i64") i64 (i64.const 666))
  (global (export "global_f32") f32 (f32.const 666.6))
  (global (export "global_f64") f64 (f64.const 666.6))
  (table (export "table") 10 20 funcref)
  (memory (export "memory") 1 2)
  (func (export "print"))
  (func (export "print_i32") (param i32))
  (func (export "print_i64") (param i64))
  (func (export "print_f32") (param f32))
  (func (export "print_f64") (param f64))
  (func (export "print_i32_f32") (param i32 f32))
  (func (export "print_f64_f64") (param f64 f64)))
