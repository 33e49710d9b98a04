package password

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/tapbot/tapbot/internal/secret"
)

// entraAllowed is Entra's documented list of password characters, written out
// independently of the package's constants ("Password policies and account
// restrictions in Microsoft Entra ID"), blank space included.
const entraAllowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" +
	`@#$%^&*-_!+=[]{}|\:',.?/` + "`" + `~"();<> `

// classes counts the kinds of character in s: upper, lower, digit, symbol.
func classes(s string) (upper, lower, digit, symbol int) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'A' <= c && c <= 'Z':
			upper++
		case 'a' <= c && c <= 'z':
			lower++
		case '0' <= c && c <= '9':
			digit++
		default:
			symbol++
		}
	}
	return
}

func TestAlphabetIsEntrasMinusBlank(t *testing.T) {
	for i := 0; i < len(Alphabet); i++ {
		if !strings.ContainsRune(entraAllowed, rune(Alphabet[i])) || Alphabet[i] == ' ' {
			t.Errorf("%q is not an Entra password character", Alphabet[i])
		}
		if strings.IndexByte(Alphabet, Alphabet[i]) != i {
			t.Errorf("%q appears twice: it would be drawn twice as often", Alphabet[i])
		}
	}
	if want := len(entraAllowed) - 1; len(Alphabet) != want {
		t.Errorf("alphabet has %d characters, Entra allows %d besides the blank", len(Alphabet), want)
	}
}

// TestSamples checks 10,000 passwords: each valid for Entra (length, characters,
// all four classes, which is more than Entra's three) and all distinct.
func TestSamples(t *testing.T) {
	const n = 10000
	seen := make(map[string]bool, n)
	for range n {
		p, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		s := p.Reveal()
		if len(s) != Length || Length < 32 || Length > 256 {
			t.Fatalf("length %d", len(s))
		}
		for i := 0; i < len(s); i++ {
			if !strings.ContainsRune(entraAllowed, rune(s[i])) {
				t.Fatalf("character %q not allowed by Entra", s[i])
			}
		}
		if u, l, d, y := classes(s); u == 0 || l == 0 || d == 0 || y == 0 {
			t.Fatalf("missing a class (upper %d lower %d digit %d symbol %d)", u, l, d, y)
		}
		if seen[s] {
			t.Fatal("duplicate password")
		}
		seen[s] = true
	}
}

// TestCoverage: every character of the alphabet turns up, in every position kind.
func TestCoverage(t *testing.T) {
	counts := map[byte]int{}
	for range 2000 {
		p, _ := Generate()
		s := p.Reveal()
		for i := 0; i < len(s); i++ {
			counts[s[i]]++
		}
	}
	for i := 0; i < len(Alphabet); i++ {
		if counts[Alphabet[i]] == 0 {
			t.Errorf("%q never generated", Alphabet[i])
		}
	}
}

// TestUniform is a chi-square test of the sampler on a range that is not a power of
// two (where a modulo reduction would be biased) and of the characters generated.
func TestUniform(t *testing.T) {
	chi2 := func(counts []int, total int) float64 {
		exp := float64(total) / float64(len(counts))
		var x float64
		for _, c := range counts {
			x += (float64(c) - exp) * (float64(c) - exp) / exp
		}
		return x
	}
	// Critical value for p = 0.0001 (a false alarm once in 10,000 runs) by the
	// Wilson–Hilferty approximation.
	critical := func(df int) float64 {
		k := float64(df)
		z := 3.719
		return k * math.Pow(1-2/(9*k)+z*math.Sqrt(2/(9*k)), 3)
	}

	const n, draws = 94, 94 * 1000
	counts := make([]int, n)
	for range draws {
		v, err := uniform(n)
		if err != nil {
			t.Fatal(err)
		}
		counts[v]++
	}
	if x := chi2(counts, draws); x > critical(n-1) {
		t.Errorf("uniform(%d): chi-square %.1f over %.1f", n, x, critical(n-1))
	}

	// The characters of generated passwords: per password, Length-4 from the whole
	// alphabet and one from each class, so a character's expected count is
	// passwords × ((Length-4)/|Alphabet| + 1/|its class|).
	const passwords = 2000
	chars := make([]int, len(Alphabet))
	for range passwords {
		p, _ := Generate()
		s := p.Reveal()
		for i := 0; i < len(s); i++ {
			chars[strings.IndexByte(Alphabet, s[i])]++
		}
	}
	var x float64
	for i, c := range chars {
		class := Symbols
		for _, cl := range []string{Upper, Lower, Digits} {
			if strings.IndexByte(cl, Alphabet[i]) >= 0 {
				class = cl
			}
		}
		exp := passwords * (float64(Length-4)/float64(len(Alphabet)) + 1/float64(len(class)))
		x += (float64(c) - exp) * (float64(c) - exp) / exp
	}
	if x > critical(len(Alphabet)-1) {
		t.Errorf("characters: chi-square %.1f over %.1f", x, critical(len(Alphabet)-1))
	}
}

func TestRedacted(t *testing.T) {
	p, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	v := p.Reveal()
	js, _ := json.Marshal(struct{ P secret.String }{p})
	for _, s := range []string{p.String(), fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s", p, p, p, p), string(js)} {
		if strings.Contains(s, v) || !strings.Contains(s, secret.Redacted) {
			t.Errorf("password shows in %q", s)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(); err != nil {
			b.Fatal(err)
		}
	}
}
