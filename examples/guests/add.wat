;; add.wat — the smallest useful guest: add(a, b) = a + b on i32.
;; Built by `make examples-wasm` (mk/testdata.mk): wat2wasm add.wat -o add.wasm
(module
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    (i32.add (local.get $a) (local.get $b))))
