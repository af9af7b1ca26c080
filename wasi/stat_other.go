//go:build !linux

package wasi

import "io/fs"

func sysStat(fs.FileInfo, *stat) {}
