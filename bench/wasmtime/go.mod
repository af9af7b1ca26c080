module github.com/hlwasm/hlwasm/bench/wasmtime

go 1.26.0

require github.com/bytecodealliance/wasmtime-go/v39 v39.0.1
