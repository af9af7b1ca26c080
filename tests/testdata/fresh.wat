;; Fixture for fresh-state-per-call and reset tests: every function changes state (a global,
;; memory) and reports what it saw, so a leak between calls is visible.
(module
  (memory (export "memory") 300)
  (global $g (mut i32) (i32.const 0))

  ;; Increments the global and memory[0]; returns g*1000 + mem[0]: 1001 on fresh state.
  (func (export "incr") (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (i32.add (i32.mul (global.get $g) (i32.const 1000)) (i32.load (i32.const 0))))

  ;; What incr would see, without changing anything: 0 on fresh state.
  (func (export "peek") (result i32)
    (i32.add (i32.mul (global.get $g) (i32.const 1000)) (i32.load (i32.const 0))))

  (func (export "dirty_then_trap")
    (global.set $g (i32.const 99))
    (i32.store (i32.const 0) (i32.const 99))
    unreachable)

  (func (export "dirty_then_spin")
    (global.set $g (i32.const 77))
    (i32.store (i32.const 0) (i32.const 77))
    (loop $l (br $l)))

  ;; Writes one byte into each of the first n pages (n <= 300): a call that dirties n pages.
  (func (export "dirty_pages") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (i32.mul (local.get $i) (i32.const 65536)) (i32.const 100))
                    (i32.add (local.get $i) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $n))
)
