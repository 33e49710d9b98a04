// Package migrations reads a store backend's versioned schema migrations: files named
// NNNN_description.sql, applied in version order. Each backend embeds its own files
// (SQL dialects differ) and applies them its own way; the naming rules are one.
package migrations

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// File is one migration.
type File struct {
	Version int
	Name    string
	SQL     string
}

// Load reads the NNNN_description.sql files in dir of fsys, sorted by version. The
// version comes from the name, so that the order is fixed by the files themselves;
// a misnamed file or a version used twice is an error rather than a silent reorder.
func Load(fsys fs.FS, dir string) ([]File, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	// ReadDir returns entries sorted by name, and the zero-padded prefix makes that
	// version order.
	var ms []File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".sql" {
			continue
		}
		prefix, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || len(prefix) != 4 || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must be NNNN_description.sql with NNNN > 0", name)
		}
		if len(ms) > 0 && ms[len(ms)-1].Version == v {
			return nil, fmt.Errorf("migration %q: version %d already used by %q", name, v, ms[len(ms)-1].Name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, File{Version: v, Name: name, SQL: string(b)})
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations found")
	}
	return ms, nil
}
