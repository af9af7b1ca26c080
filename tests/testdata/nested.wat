;; Fixture for nested host<->guest calls: `down(n)` returns 0 for n = 0, otherwise calls the
;; host function env.reenter(n), which calls back into `down(n-1)` (api.Caller.Call). So
;; down(n) is a mutual recursion n levels deep through the host. `local(n)` recurses inside
;; the guest only (the ordinary call-depth limit).
(module
  (import "env" "reenter" (func $reenter (param i32) (result i32)))
  (func $down (export "down") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (call $reenter (local.get $n)))))
  (func $local (export "local") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $local (i32.sub (local.get $n) (i32.const 1))))))))
