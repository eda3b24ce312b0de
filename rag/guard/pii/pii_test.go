package pii

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// found returns the substrings Detect reports for typ.
func found(text string, typ Type) []string {
	var out []string
	r := []rune(text)
	for _, s := range Detect(text) {
		if s.Type == typ {
			out = append(out, string(r[s.Start:s.End]))
		}
	}
	return out
}

// TestDetectTypes covers each type with values that must be found (exactly
// that substring) and look-alikes that must not (Luhn and mod-97 failures,
// invalid SSN areas, out-of-range octets, low-entropy keys).
func TestDetectTypes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		typ  Type
		text string
		want string // "" = nothing of typ
	}{
		{Email, "Write to anna.schmidt+billing@example.co.uk today", "anna.schmidt+billing@example.co.uk"},
		{Email, "Mail: jörg@müller.de", "jörg@müller.de"},
		{Email, "the @mention and a@b are not addresses", ""},
		{Card, "My card is 4111 1111 1111 1111, expiry 12/27", "4111 1111 1111 1111"},
		{Card, "card 5500-0000-0000-0004 please", "5500-0000-0000-0004"},
		{Card, "Amex 378282246310005", "378282246310005"},
		{Card, "card 4111 1111 1111 1112 (one digit off)", ""},
		{Card, "order 1234567890123 shipped", ""},
		{IBAN, "IBAN DE89 3704 0044 0532 0130 00 thanks", "DE89 3704 0044 0532 0130 00"},
		{IBAN, "iban: GB82WEST12345698765432", "GB82WEST12345698765432"},
		{IBAN, "FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606"},
		{IBAN, "DE89 3704 0044 0532 0130 01 (bad check digits)", ""},
		{IBAN, "GB82WEST1234569876543 is one short", ""},
		{SSN, "SSN 078-05-1120 on file", "078-05-1120"},
		{SSN, "my social security number is 219099999", "219099999"},
		{SSN, "666-12-3456 and 900-12-3456 and 123-00-4567", ""},
		{SSN, "ticket 219099999 closed", ""},
		{IP, "from 192.168.10.254 at noon", "192.168.10.254"},
		{IP, "v6 2001:db8::ff00:42:8329 failed", "2001:db8::ff00:42:8329"},
		{IP, "loopback ::1 is fine", "::1"},
		{IP, "version 1.2.3.4.5 and 999.1.1.1 and 10:30:00", ""},
		{Secret, "key sk-proj-Xr8fT2qLmN4vB7cD9eF1gH3jK5 leaked", "sk-proj-Xr8fT2qLmN4vB7cD9eF1gH3jK5"},
		{Secret, "token ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"},
		{Secret, "AWS AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"},
		{Secret, "slack xoxb-2048-7A3f9Kx2LmQ8 bot", "xoxb-2048-7A3f9Kx2LmQ8"},
		{Secret, "set it to sk-aaaaaaaaaaaaaaaaaaaaaaaaa", ""},
		{Phone, "call me on +49 30 1234 5678 after 5", "+49 30 1234 5678"},
		{Phone, "phone: (415) 555-0132", "(415) 555-0132"},
		{Phone, "Tel. 0044 20 7946 0958", "0044 20 7946 0958"},
		{Phone, "due 2024-03-15 for order 88213", ""},
		{Person, "Hi, my name is Kwabena Mensah and I need help", "Kwabena Mensah"},
		{Person, "I spoke with Maria González yesterday", "Maria González"},
		{Person, "Ask Mr. Whitfield about it", "Whitfield"},
		{Person, "In May we moved offices", ""},
		{Address, "Ship to 221B Baker Street, London NW1 6XE please", "221B Baker Street, London NW1 6XE"},
		{Address, "Adresse: Hauptstraße 5, 10115 Berlin.", "Hauptstraße 5, 10115 Berlin"},
		{Address, "I have 3 Street lamps", ""},
	}
	for _, c := range cases {
		t.Run(string(c.typ)+"/"+c.text, func(t *testing.T) {
			got := found(c.text, c.typ)
			switch {
			case c.want == "" && len(got) > 0:
				t.Errorf("Detect(%q) found %s %q, want none", c.text, c.typ, got)
			case c.want != "" && (len(got) != 1 || got[0] != c.want):
				t.Errorf("Detect(%q) %s = %q, want [%q] (all: %+v)", c.text, c.typ, got, c.want, Detect(c.text))
			}
		})
	}
}

func TestLuhnAndIBAN(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"4111111111111111", "5555555555554444", "378282246310005", "6011111111111117"} {
		if !luhn(d) {
			t.Errorf("luhn(%s) = false, want true", d)
		}
	}
	for _, d := range []string{"4111111111111112", "1234567812345678"} {
		if luhn(d) {
			t.Errorf("luhn(%s) = true, want false", d)
		}
	}
	for _, s := range []string{"DE89370400440532013000", "GB82WEST12345698765432", "NL91ABNA0417164300", "FR1420041010050500013M02606"} {
		if !validIBAN(s) {
			t.Errorf("validIBAN(%s) = false, want true", s)
		}
	}
	for _, s := range []string{"DE89370400440532013001", "NL91ABNA0417164301", "XX89370400440532013000"} {
		if validIBAN(s) {
			t.Errorf("validIBAN(%s) = true, want false", s)
		}
	}
}

// TestRuneOffsets: offsets count runes, so text before a finding in
// accented, CJK or emoji script does not shift it.
func TestRuneOffsets(t *testing.T) {
	t.Parallel()
	text := "Grüße 👋 von Zoë — 电话 +33 6 12 34 56 78, mail zoë@exemple.fr"
	spans := Detect(text)
	r := []rune(text)
	want := map[string]Type{"+33 6 12 34 56 78": Phone, "zoë@exemple.fr": Email}
	got := map[string]Type{}
	for _, s := range spans {
		if s.Start < 0 || s.End > len(r) || s.Start >= s.End {
			t.Fatalf("span %+v out of range for %d runes", s, len(r))
		}
		got[string(r[s.Start:s.End])] = s.Type
	}
	for v, typ := range want {
		if got[v] != typ {
			t.Errorf("%q: got type %q, want %q (spans %+v)", v, got[v], typ, spans)
		}
	}
}

// TestOverlaps: an e-mail holding a name, a card that a phone pattern
// also matches and a secret holding digits are each reported once, as
// the stronger type.
func TestOverlaps(t *testing.T) {
	t.Parallel()
	text := "Maria.Lopez@example.com paid with 4111 1111 1111 1111; key sk-live-9fK2mX7qP4tR8wZ1vB6nC3"
	spans := Detect(text)
	var types []string
	for i, s := range spans {
		types = append(types, string(s.Type))
		if i > 0 && spans[i-1].End > s.Start {
			t.Errorf("spans %+v and %+v overlap", spans[i-1], s)
		}
	}
	if got := strings.Join(types, ","); got != "EMAIL,CARD,SECRET" {
		t.Errorf("types = %s, want EMAIL,CARD,SECRET", got)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	text := "Mail anna@example.com or bob@example.org; again: anna@example.com. Café IP 10.0.0.1"
	got, spans := RedactText(text)
	want := "Mail <EMAIL_1> or <EMAIL_2>; again: <EMAIL_1>. Café IP <IP_1>"
	if got != want {
		t.Errorf("RedactText = %q, want %q", got, want)
	}
	if len(spans) != 4 {
		t.Errorf("spans = %+v, want 4", spans)
	}
	if Redact("nothing here", nil) != "nothing here" {
		t.Error("Redact without spans changed the text")
	}
}

// FuzzDetect: any input yields in-range, ordered, non-overlapping spans,
// and redaction leaves no detected value behind.
func FuzzDetect(f *testing.F) {
	for _, s := range []string{
		"anna@example.com +49 30 1234 5678 4111 1111 1111 1111",
		strings.Repeat("a@", 3000),
		strings.Repeat("1 ", 5000),
		strings.Repeat("1-", 4000) + "x",
		strings.Repeat(":", 5000),
		strings.Repeat("Anna ", 2000),
		strings.Repeat("12 Rue ", 2000),
		strings.Repeat("DE89 ", 2000),
		"\xff\xfe" + strings.Repeat("é", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spans := Detect(s)
		n := utf8.RuneCountInString(s)
		for i, sp := range spans {
			if sp.Start < 0 || sp.End > n || sp.Start >= sp.End {
				t.Fatalf("span %+v out of range (%d runes)", sp, n)
			}
			if i > 0 && spans[i-1].End > sp.Start {
				t.Fatalf("spans %+v and %+v overlap", spans[i-1], sp)
			}
		}
		_ = Redact(s, spans)
	})
}

func BenchmarkDetect50Words(b *testing.B) {
	q := "Hi, I'm Maria Lopez from Acme. Since Tuesday I cannot log in to the dashboard: it says my session expired, " +
		"even after resetting the password twice. My account e-mail is maria.lopez@acme.example and my phone is " +
		"+34 612 345 678. Could you check what is wrong?"
	b.ReportAllocs()
	for b.Loop() {
		Detect(q)
	}
}

// BenchmarkDetectAdversarial: time per byte stays flat from 16 KiB to
// 256 KiB of repetitive look-alike text (a backtracking blow-up would
// grow with the square of the size).
func BenchmarkDetectAdversarial(b *testing.B) {
	unit := "1-2 a@b Anna 12 Rue ::1 DE89 4111 "
	for _, kib := range []int{16, 64, 256} {
		s := strings.Repeat(unit, kib*1024/len(unit))
		b.Run(strconv.Itoa(kib)+"KiB", func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				Detect(s)
			}
		})
	}
}
