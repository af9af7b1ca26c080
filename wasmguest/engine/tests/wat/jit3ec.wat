;; No exception handling at all (compiled): "mid" calls "deep" (a native call between compiled
;; functions), which calls jit3eb's throw in another instance; an exception from there must
;; unwind through both compiled frames to the handler of jit3ea, which called mid.
(module
  (import "b" "throw" (func $throw (param i32)))
  (func $deep (param i32)
    (call $throw (i32.add (local.get 0) (i32.const 1))))
  (func (export "mid") (param i32) (result i32)
    (call $deep (local.get 0))
    (i32.const -1))
)
