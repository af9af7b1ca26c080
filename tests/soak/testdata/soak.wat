;; soak.wat — the guest of tests/soak (TestSoak). Built by mk/testdata.mk:
;;   wat2wasm tests/soak/testdata/soak.wat -o tests/soak/testdata/soak.wasm
;;
;; Imports (provided by the test):
;;   env.sleep(ms) -> ms   sleeps ms milliseconds on the host, honouring the call's context
;;   env.stall(ms) -> ms   sleeps ms milliseconds on the host, ignoring the call's context
;; Exports:
;;   fresh() -> old        increments a global and memory[0]; returns their old value (-1 if
;;                         they disagree): 0 on fresh state, 0, 1, 2, ... on one sandbox
;;   spin(n i64, x i64) -> x after n steps of the 64-bit LCG x*6364136223846793005+1442695040888963407
;;   sleep_then(ms) -> ms+1, stall_then(ms) -> ms+2   (through env.sleep / env.stall)
;;   trap_unreachable, trap_div(d) = 100/d (d = 0 traps), trap_oob(addr) = i32 load at addr
(module
  (import "env" "sleep" (func $sleep (param i32) (result i32)))
  (import "env" "stall" (func $stall (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $g (mut i32) (i32.const 0))

  (func (export "fresh") (result i32) (local $old i32)
    (local.set $old (global.get $g))
    (global.set $g (i32.add (local.get $old) (i32.const 1)))
    (if (result i32) (i32.ne (i32.load (i32.const 0)) (local.get $old))
      (then (i32.const -1))
      (else
        (i32.store (i32.const 0) (i32.add (local.get $old) (i32.const 1)))
        (local.get $old))))

  (func (export "spin") (param $n i64) (param $x i64) (result i64)
    (block $done
      (loop $l
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 6364136223846793005))
                               (i64.const 1442695040888963407)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $l)))
    (local.get $x))

  (func (export "sleep_then") (param $ms i32) (result i32)
    (i32.add (call $sleep (local.get $ms)) (i32.const 1)))

  (func (export "stall_then") (param $ms i32) (result i32)
    (i32.add (call $stall (local.get $ms)) (i32.const 2)))

  (func (export "trap_unreachable") (result i32)
    unreachable)

  (func (export "trap_div") (param $d i32) (result i32)
    (i32.div_s (i32.const 100) (local.get $d)))

  (func (export "trap_oob") (param $addr i32) (result i32)
    (i32.load (local.get $addr)))
)
