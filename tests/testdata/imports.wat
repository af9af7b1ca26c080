;; A module with imports the host does not allow by default: loading it must fail naming each.
(module
  (import "env" "f" (func (param i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (func (export "run") (call 0 (i32.const 1))))
