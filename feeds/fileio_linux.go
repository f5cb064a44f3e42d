package feeds

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// createDirect creates path for writing with O_DIRECT, or without it where
// the file system refuses it (tmpfs, some network file systems).
func createDirect(path string) (*os.File, bool, error) {
	const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	f, err := os.OpenFile(path, flags|syscall.O_DIRECT, 0o644)
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, syscall.EINVAL) {
		return nil, false, err
	}
	f, err = os.OpenFile(path, flags, 0o644)
	return f, false, err
}

// clearDirect switches O_DIRECT off, for a last block that is not whole.
func clearDirect(f *os.File) error {
	fd := int(f.Fd())
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_DIRECT)
	return err
}

// startWriteback asks Linux to start writing a range of f to disk without
// waiting for it (sync_file_range); the fsync at commit still guarantees
// it. An error only means the fsync will have more to do.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
