;; Exceptions through the compile tier (edge.c, with jit3ec.wat and jit3ea.wat): this instance
;; declares the tag and throws; none of its functions has a handler, so all are compiled.
(module
  (tag $e (export "e") (param i32))
  (func (export "throw") (param i32)
    (throw $e (local.get 0)))
  (func (export "throw_null")
    (throw_ref (ref.null exn)))
)
