package web

import (
	"strings"
	"testing"
)

// TestAccessCheck: a token shorter than 16 random bytes' 22 characters,
// one token in two roles, a label twice, an unknown role and a sum that
// is not one are refused; tokens of one role each pass.
func TestAccessCheck(t *testing.T) {
	long := func(s string) string { return s + strings.Repeat("x", MinToken) }
	for _, tc := range []struct {
		name string
		a    Access
		want string // "" passes
	}{
		{"one role each", Access{ViewerTokens: []string{long("v")}, DeviceTokens: []string{long("d")}, AdminTokens: []string{long("a")}}, ""},
		{"a 1-character token", Access{ViewerTokens: []string{"v"}}, "at least 22"},
		{"21 characters", Access{AdminTokens: []string{strings.Repeat("a", 21)}}, "at least 22"},
		{"one token, three roles", Access{ViewerTokens: []string{long("t")}, DeviceTokens: []string{long("t")}, AdminTokens: []string{long("t")}},
			"one token may hold one role"},
		{"a label twice", Access{Credentials: []Credential{{"viewer", "wall", TokenSum("a")}, {"admin", "wall", TokenSum("b")}}}, "twice"},
		{"an unknown role", Access{Credentials: []Credential{{"root", "x", TokenSum("a")}}}, "none of"},
		{"not a sum", Access{Credentials: []Credential{{"viewer", "x", "abc"}}}, "64 lower-case hex"},
		{"a file's token also given in clear", Access{Credentials: []Credential{{"viewer", "x", TokenSum(long("t"))}}, AdminTokens: []string{long("t")}},
			"one token may hold one role"},
	} {
		err := tc.a.Check()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Check() = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestCredentialsFile: NewToken's line reads back as the token's
// credential, and a file with a bad line is refused with its number.
func TestCredentialsFile(t *testing.T) {
	tok, line, err := NewToken(RoleDispatcher, "desk-3")
	if err != nil || len(tok) != 43 || strings.Contains(line, tok) {
		t.Fatalf("NewToken = %q, %q, %v", tok, line, err)
	}
	creds, err := ReadCredentials(strings.NewReader("# the desks\n\n" + line + "  # night shift\n"))
	if err != nil || len(creds) != 1 || creds[0] != (Credential{RoleDispatcher, "desk-3", TokenSum(tok)}) {
		t.Fatalf("ReadCredentials = %+v, %v", creds, err)
	}
	k := newKeyring(Access{Credentials: creds})
	if h := k.bySum[TokenSum(tok)]; h.label != "desk-3" || !h.has([]string{RoleDispatcher}) || h.has([]string{RoleAdmin}) {
		t.Errorf("the token's holder = %+v", h)
	}
	for _, bad := range []string{"viewer wall\n", "viewer wall abc\n", "boss x " + TokenSum("a") + "\n"} {
		if _, err := ReadCredentials(strings.NewReader("# ok\n" + bad)); err == nil {
			t.Errorf("ReadCredentials(%q): no error", bad)
		}
	}
	if _, _, err := NewToken("boss", "x"); err == nil {
		t.Error("NewToken of an unknown role: no error")
	}
}

// FuzzReadCredentials reads arbitrary credentials files: no panic, and
// what reads is every line's credential, each passing Check.
func FuzzReadCredentials(f *testing.F) {
	_, line, _ := NewToken(RoleViewer, "wall")
	for _, s := range []string{line + "\n", "# c\n\n" + line, "viewer wall abc", "a b c d", "\x00\xff", "admin x " + strings.Repeat("0", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		creds, err := ReadCredentials(strings.NewReader(s))
		if err != nil {
			return
		}
		if err := (Access{Credentials: creds}).Check(); err != nil {
			t.Fatalf("ReadCredentials(%q) took credentials Check refuses: %v", s, err)
		}
	})
}
