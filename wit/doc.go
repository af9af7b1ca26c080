// Package wit runs guests whose imports and exports are declared in WIT, the WebAssembly
// Interface Type language, using the Component Model's Canonical ABI on plain core modules.
//
// [Load] or [LoadFile] parse a .wit file at run time into a [World] (wasm-tools' parser, run
// under wazero). The world is the allow-list: [World.Bind] binds each imported WIT function
// to one Go function (by reflection over Go types, or a [DynamicFunc] over dynamic
// [Value]s) and returns the []api.HostFunction a guest links; [World.Call] and [Invoke] call
// exports of an [Instance] with Go values. [ParseWAVE] and [FormatWAVE] read and write
// values as text (WAVE, as wasmtime --invoke uses); [Bindgen] writes typed Go bindings.
//
// Guest conventions follow wit-bindgen and wit-component: imports from module
// "ns:pkg/iface@ver" (world-level functions from "$root") named by the WIT function name;
// exports named "ns:pkg/iface@ver#name" (world-level: "name"); the guest exports memory and
// cabi_realloc; flat signatures, return areas and post-return functions as in the Canonical
// ABI (MAX_FLAT_PARAMS 16, MAX_FLAT_RESULTS 1). Strings are UTF-8.
//
// Nothing a guest writes is trusted: every pointer, length, alignment, discriminant, char
// and string is checked, and the bytes lifted per call are bounded ([Options.MaxBytes]).
// A bad value fails the call with an error wrapping [ErrTrap] and a specific sentinel
// ([ErrBadPointer], [ErrMisaligned], [ErrInvalidUTF8], [ErrLimit], [ErrInvalidValue],
// [ErrRealloc]).
//
// See docs/wit.md.
package wit
