// Package password generates the random password a new account is created with
// (flow step 4): long, from crypto/rand, meeting Microsoft Entra's complexity rules,
// sent to Graph once and never stored, logged or shown. Nobody types it: the new hire
// signs in with a Temporary Access Pass and registers passwordless methods.
//
// Entra's rules ("Password policies and account restrictions in Microsoft Entra ID"):
// 8 to 256 characters from A–Z, a–z, 0–9, the symbols
// @ # $ % ^ & * - _ ! + = [ ] { } | \ : ' , . ? / ` ~ " ( ) ; < > and blank space, no
// other (Unicode) characters, and three of the four kinds lowercase, uppercase, digit,
// symbol. Generate uses every documented symbol except the blank (a password that
// starts or ends with one invites trimming somewhere along the way) and always has all
// four kinds.
package password

import (
	"crypto/rand"
	"fmt"
	"math/big"

	"github.com/tapbot/tapbot/internal/secret"
)

// Length is the length of a generated password: over 400 bits of entropy, well
// inside Entra's maximum of 256.
const Length = 64

// The character classes, from Entra's list of allowed characters.
const (
	Upper   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	Lower   = "abcdefghijklmnopqrstuvwxyz"
	Digits  = "0123456789"
	Symbols = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<>"
)

// Alphabet is every character a generated password can contain.
const Alphabet = Upper + Lower + Digits + Symbols

// Generate returns a new random password of Length characters: one from each class,
// the rest from the whole Alphabet, in a random order. Every choice is uniform
// (crypto/rand.Int rejects the values that would bias a reduction modulo the range).
// The error is crypto/rand's, which current Go never returns.
func Generate() (secret.String, error) {
	b := make([]byte, Length)
	for i, class := range []string{Upper, Lower, Digits, Symbols} {
		c, err := pick(class)
		if err != nil {
			return "", err
		}
		b[i] = c
	}
	for i := 4; i < Length; i++ {
		c, err := pick(Alphabet)
		if err != nil {
			return "", err
		}
		b[i] = c
	}
	// Fisher–Yates, so the four guaranteed characters are anywhere, not in front.
	for i := Length - 1; i > 0; i-- {
		j, err := uniform(i + 1)
		if err != nil {
			return "", err
		}
		b[i], b[j] = b[j], b[i]
	}
	return secret.String(b), nil
}

func pick(class string) (byte, error) {
	i, err := uniform(len(class))
	if err != nil {
		return 0, err
	}
	return class[i], nil
}

// uniform returns a uniformly random int in [0, n).
func uniform(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("password: crypto/rand: %w", err)
	}
	return int(v.Int64()), nil
}
