//go:build !linux

package feeds

import "os"

// createDirect creates path for buffered writes: O_DIRECT is Linux's.
func createDirect(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	return f, false, err
}

func clearDirect(*os.File) error { return nil }

// startWriteback does nothing where sync_file_range does not exist: the
// fsync at commit writes everything.
func startWriteback(*os.File, int64, int64) {}
