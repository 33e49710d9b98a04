package migrations

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	file := func(sql string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(sql)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int  // versions, in order
		wantErr string // substring; "" means success
	}{
		{
			name: "ordered by version, other files ignored",
			files: fstest.MapFS{
				"m/0010_ten.sql": file("ten"),
				"m/0002_two.sql": file("two"),
				"m/0001_one.sql": file("one"),
				"m/README.md":    file("not sql"),
			},
			want: []int{1, 2, 10},
		},
		{name: "no prefix", files: fstest.MapFS{"m/one.sql": file("")}, wantErr: `"one.sql": name must be`},
		{name: "short prefix", files: fstest.MapFS{"m/1_one.sql": file("")}, wantErr: `"1_one.sql": name must be`},
		{name: "non-numeric prefix", files: fstest.MapFS{"m/abcd_x.sql": file("")}, wantErr: `"abcd_x.sql": name must be`},
		{name: "version zero", files: fstest.MapFS{"m/0000_x.sql": file("")}, wantErr: `"0000_x.sql": name must be`},
		{
			name:    "duplicate version",
			files:   fstest.MapFS{"m/0001_a.sql": file(""), "m/0001_b.sql": file("")},
			wantErr: `"0001_b.sql": version 1 already used by "0001_a.sql"`,
		},
		{name: "none", files: fstest.MapFS{"m/README.md": file("")}, wantErr: "no migrations found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := Load(tc.files, "m")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load: err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("versions = %v, want %v", got, tc.want)
			}
			if ms[0].SQL != "one" {
				t.Errorf("first migration's sql = %q, want %q", ms[0].SQL, "one")
			}
		})
	}
}
