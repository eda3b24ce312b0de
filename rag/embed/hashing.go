package embed

// Hashed features: the dimensions an SVD cannot fill, and the character
// n-grams that place out-of-vocabulary words.

import "llmops/rag/text"

// hashedNonZeros is how many signed positions each term occupies in the
// hashed dimensions: a sparse random projection (Achlioptas 2003) that
// keeps the TF-IDF cosine on average while spreading collisions.
const hashedNonZeros = 4

func addHashed(dst []float32, term string, w float64) {
	h := fnv64(term)
	n := uint64(len(dst))
	for range hashedNonZeros {
		h = splitmix(h)
		if h>>63 == 0 {
			dst[(h>>1)%n] += float32(w)
		} else {
			dst[(h>>1)%n] -= float32(w)
		}
	}
}

// forEachNgram calls fn with the hash of each character 4-gram of
// "<" + word + ">" (bytes, not runes: a hash bucket does not care). Only
// 4-grams: adding 3- and 5-grams, as fastText does, tripled the cost of an
// unknown word for no visible gain.
func forEachNgram(word string, fn func(h uint64)) {
	var arr [2 + text.MaxTokenBytes]byte
	b := append(append(append(arr[:0], '<'), word...), '>')
	const n = 4
	if len(b) < n {
		fn(splitmix(fnv64b(b)))
		return
	}
	for i := 0; i+n <= len(b); i++ {
		fn(splitmix(fnv64b(b[i : i+n])))
	}
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func fnv64b(s []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range s {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
