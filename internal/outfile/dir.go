package outfile

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Dir is an output directory. Every file it writes is inside it.
type Dir struct {
	root *os.Root
	path string
}

// Open creates the directory root (and its parents) if need be and opens
// it for writing outputs. Close it when done.
func Open(root string) (*Dir, error) {
	if root == "" {
		root = "."
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	return &Dir{root: r, path: root}, nil
}

// Path returns the directory's path, as given to Open (or joined by Sub).
func (d *Dir) Path() string { return d.path }

// Close releases the directory.
func (d *Dir) Close() error { return d.root.Close() }

// checkName refuses a name that is not one plain path component.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`+"\x00") {
		return fmt.Errorf("output name %q is not a plain file name", name)
	}
	return nil
}

// Sub creates (if need be) and opens the subdirectory name, one plain
// path component, inside d. Close it when done.
func (d *Dir) Sub(name string) (*Dir, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := d.root.Mkdir(name, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	r, err := d.root.OpenRoot(name)
	if err != nil {
		return nil, err
	}
	return &Dir{root: r, path: filepath.Join(d.path, name)}, nil
}

// Write writes the file name inside d with fn and returns its path. name
// is one or more '/'-separated plain components (subdirectories are
// created). fn writes to a new temporary file in the same directory,
// which is synced, closed and renamed into place; on any error the
// temporary file is removed and the old file, if any, is left as it was.
// An existing file is replaced only if it is of kind k; otherwise Write
// returns an error wrapping ErrRefused, naming the file.
func (d *Dir) Write(name string, k Kind, fn func(io.Writer) error) (string, error) {
	for _, c := range strings.Split(name, "/") {
		if err := checkName(c); err != nil {
			return "", err
		}
	}
	if dir, base, ok := strings.Cut(name, "/"); ok {
		sub, err := d.Sub(dir)
		if err != nil {
			return "", err
		}
		defer sub.Close()
		return sub.Write(base, k, fn)
	}
	path := filepath.Join(d.path, name)
	if err := d.replaceable(name, k); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	tmp, fh, err := d.createTemp()
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	renamed := false
	defer func() { // also if fn panics
		if !renamed {
			fh.Close()
			_ = d.root.Remove(tmp)
		}
	}()
	err = fn(fh)
	if err == nil {
		err = fh.Sync()
	}
	if err == nil {
		err = fh.Close()
	}
	if err == nil {
		err = d.root.Rename(tmp, name)
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	renamed = true
	return path, nil
}

// replaceable says whether name may be written: it does not exist, or it
// is a regular file of kind k.
func (d *Dir) replaceable(name string, k Kind) error {
	st, err := d.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("exists and is not a regular file (%s); %w", st.Mode().Type(), ErrRefused)
	}
	fh, err := d.root.Open(name)
	if err != nil {
		return err
	}
	defer fh.Close()
	head := make([]byte, 4096)
	n, err := io.ReadFull(fh, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	if k.match == nil || !k.match(head[:n]) {
		return fmt.Errorf("exists and is not a %s written by raftsim (it begins %q); %w: move it away or choose another output",
			k, preview(head[:n]), ErrRefused)
	}
	return nil
}

func preview(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

// createTemp creates a new hidden temporary file in d, with O_EXCL and
// a random name.
func (d *Dir) createTemp() (string, *os.File, error) {
	for range 10 {
		var r [8]byte
		_, _ = rand.Read(r[:])
		name := ".raftsim-" + hex.EncodeToString(r[:]) + ".tmp"
		fh, err := d.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, fh, err
	}
	return "", nil, errors.New("cannot create a temporary file")
}

// WriteFile writes the file at path, a file name the user gave (its
// directory is created if need be), as Dir.Write does, and returns path.
func WriteFile(path string, k Kind, fn func(io.Writer) error) (string, error) {
	d, err := Open(filepath.Dir(path))
	if err != nil {
		return "", err
	}
	defer d.Close()
	if _, err := d.Write(filepath.Base(path), k, fn); err != nil {
		return "", err
	}
	return path, nil
}
