package wasi

import (
	"io/fs"
	"syscall"
)

// sysStat fills device, inode, link count and times from a host stat when fi has one.
func sysStat(fi fs.FileInfo, st *stat) {
	s, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	st.dev, st.ino, st.nlink = uint64(s.Dev), s.Ino, uint64(s.Nlink)
	st.atim = uint64(s.Atim.Nano())
	st.ctim = uint64(s.Ctim.Nano())
}
