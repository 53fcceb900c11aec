package bank

import (
	"bytes"
	"testing"
)

// FuzzDecode: no bytes make Decode panic or allocate past what they hold,
// and whatever it accepts encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	good, err := sample().Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	h := sample()
	h.Precision = F16
	RoundToHalf(h.Vectors)
	f.Add(mustEncode(f, h))
	f.Add(good[:len(good)/2])
	f.Add([]byte("TESSBANK"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Decode(data)
		if err != nil {
			return
		}
		again, err := b.Encode()
		if err != nil {
			t.Fatalf("a decoded bank does not encode: %v", err)
		}
		if b2, err := Decode(again); err != nil || !bytes.Equal(mustEncode(t, b2), again) {
			t.Fatalf("re-encoding is not stable: %v", err)
		}
	})
}

func mustEncode(t testing.TB, b *Bank) []byte {
	out, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
