package wasi

import (
	"encoding/binary"
	"io/fs"
	"time"
)

var le = binary.LittleEndian

// File types.
const (
	filetypeUnknown     = 0
	filetypeBlockDevice = 1
	filetypeCharDevice  = 2
	filetypeDirectory   = 3
	filetypeRegular     = 4
	filetypeSymlink     = 7
)

// fdflags.
const (
	fdflagAppend   = 1
	fdflagDsync    = 2
	fdflagNonblock = 4
	fdflagRsync    = 8
	fdflagSync     = 16
)

// Rights (only those this package tests, plus the sets it reports, which match wazero's).
const (
	rightFdDatasync         = 1 << 0
	rightFdRead             = 1 << 1
	rightFdSeek             = 1 << 2
	rightFdstatSetFlags     = 1 << 3
	rightFdSync             = 1 << 4
	rightFdTell             = 1 << 5
	rightFdWrite            = 1 << 6
	rightFdAdvise           = 1 << 7
	rightFdAllocate         = 1 << 8
	rightPathCreateDir      = 1 << 9
	rightPathCreateFile     = 1 << 10
	rightPathLinkSource     = 1 << 11
	rightPathLinkTarget     = 1 << 12
	rightPathOpen           = 1 << 13
	rightFdReaddir          = 1 << 14
	rightPathReadlink       = 1 << 15
	rightPathRenameSource   = 1 << 16
	rightPathRenameTarget   = 1 << 17
	rightPathFilestatGet    = 1 << 18
	rightPathSetSize        = 1 << 19
	rightPathSetTimes       = 1 << 20
	rightFdFilestatGet      = 1 << 21
	rightFdFilestatSetSize  = 1 << 22
	rightFdFilestatSetTimes = 1 << 23
	rightPathSymlink        = 1 << 24
	rightPathRemoveDir      = 1 << 25
	rightPathUnlinkFile     = 1 << 26
	rightPollFdReadwrite    = 1 << 27

	fileRights = rightFdDatasync | rightFdRead | rightFdSeek | rightFdstatSetFlags | rightFdSync |
		rightFdTell | rightFdWrite | rightFdAdvise | rightFdAllocate | rightFdFilestatGet |
		rightFdFilestatSetSize | rightFdFilestatSetTimes | rightPollFdReadwrite
	dirRights = rightFdDatasync | rightFdstatSetFlags | rightFdSync | rightPathCreateDir |
		rightPathCreateFile | rightPathLinkSource | rightPathLinkTarget | rightPathOpen |
		rightFdReaddir | rightPathReadlink | rightPathRenameSource | rightPathRenameTarget |
		rightPathFilestatGet | rightPathSetSize | rightPathSetTimes | rightFdFilestatGet |
		rightFdFilestatSetTimes | rightPathSymlink | rightPathRemoveDir | rightPathUnlinkFile
	// writeRights in a path_open request mean the guest wants to write. Only FD_WRITE is
	// reliable: Go's O_RDONLY asks for FD_FILESTAT_SET_SIZE (it masks the PATH_ bit instead).
	writeRights = rightFdWrite
)

// path_open flags.
const (
	lookupSymlinkFollow = 1
	oflagCreat          = 1
	oflagDirectory      = 2
	oflagExcl           = 4
	oflagTrunc          = 8
)

// Sizes of fixed records.
const (
	fdstatSize   = 24
	filestatSize = 64
	prestatSize  = 8
	direntSize   = 24
	iovecSize    = 8
)

// filetypeOf maps a file mode to a WASI file type.
func filetypeOf(mode fs.FileMode) uint8 {
	switch {
	case mode.IsRegular():
		return filetypeRegular
	case mode.IsDir():
		return filetypeDirectory
	case mode&fs.ModeSymlink != 0:
		return filetypeSymlink
	case mode&fs.ModeCharDevice != 0:
		return filetypeCharDevice
	case mode&fs.ModeDevice != 0:
		return filetypeBlockDevice
	}
	return filetypeUnknown
}

// stat is the content of a filestat record.
type stat struct {
	dev, ino, nlink, size uint64
	filetype              uint8
	atim, mtim, ctim      uint64
}

func statOf(fi fs.FileInfo) stat {
	st := stat{nlink: 1, filetype: filetypeOf(fi.Mode())}
	if fi.Mode().IsRegular() && fi.Size() > 0 {
		st.size = uint64(fi.Size())
	}
	if t := fi.ModTime(); !t.IsZero() && t.After(time.Unix(0, 0)) {
		st.mtim = uint64(t.UnixNano())
	}
	st.atim, st.ctim = st.mtim, st.mtim
	sysStat(fi, &st)
	return st
}

func (st stat) bytes() []byte {
	b := make([]byte, filestatSize)
	le.PutUint64(b[0:], st.dev)
	le.PutUint64(b[8:], st.ino)
	b[16] = st.filetype
	le.PutUint64(b[24:], st.nlink)
	le.PutUint64(b[32:], st.size)
	le.PutUint64(b[40:], st.atim)
	le.PutUint64(b[48:], st.mtim)
	le.PutUint64(b[56:], st.ctim)
	return b
}

func fdstatBytes(filetype uint8, flags uint16, base, inheriting uint64) []byte {
	b := make([]byte, fdstatSize)
	b[0] = filetype
	le.PutUint16(b[2:], flags)
	le.PutUint64(b[8:], base)
	le.PutUint64(b[16:], inheriting)
	return b
}
