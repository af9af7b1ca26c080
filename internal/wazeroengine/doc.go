// Package wazeroengine runs hlwasm guests in-process on wazero, for machines without /dev/kvm.
// Isolation is reduced to what the Wasm sandbox itself gives (no micro-VM), so hosts must only
// use it when the user asks.
//
// The guest sees the same allow-listed host functions ([api.HostFunction]) as on the KVM
// engine: they are registered as wazero host modules grouped by module name and get an
// [api.Memory] view of the calling module's linear memory (bounds-checked, copying).
package wazeroengine
