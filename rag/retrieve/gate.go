package retrieve

// Gates scale the vector list's weight per query, so that an embedder that
// does not know the corpus cannot pull fusion below BM25 alone.
const (
	// GateAgreement weights the vector list by how much its top agrees
	// with BM25's.
	GateAgreement = "agreement"
	// GateNone fuses with the configured weights as they are: for an
	// embedder measured to beat BM25 on the corpus, whose lists may
	// rightly differ from BM25's.
	GateNone = "none"
)

// agreementParams define the agreement gate: the share of the vector
// list's top Top hits found in BM25's top Against, mapped linearly from
// Floor (weight 0) to Full (weight 1).
type agreementParams struct {
	Top, Against int
	Floor, Full  float64
}

// defaultAgreement was chosen on the sample help centre and ArguAna with
// three embedders: the learned local model (its top 10 shares a median 7
// with BM25's top 10), feature hashing (5) and random vectors (0).
// Without a gate, RRF with hashed vectors lost 0.075 nDCG@10 to BM25 on
// ArguAna and random ones lost 0.23; with this gate random vectors leave
// BM25's order exactly as it is (chance overlap stays under the floor),
// hashed ones lose 0.020, and the learned model keeps its gain (0.5341
// vs BM25's 0.5284). A lower floor let chance overlaps of random
// vectors through on the 300-chunk sample corpus, where RRF's k = 60
// makes even a small weight reorder BM25's top 10.
var defaultAgreement = agreementParams{Top: 10, Against: 10, Floor: 0.3, Full: 0.8}

// agreement is the share of the vector list's top p.Top hits that BM25
// also ranks in its top p.Against.
func (p agreementParams) agreement(kw, vec []Hit) float64 {
	if len(vec) == 0 || len(kw) == 0 {
		return 0
	}
	kw = kw[:min(p.Against, len(kw))]
	in := make(map[string]bool, len(kw))
	for _, h := range kw {
		in[h.ID] = true
	}
	top := vec[:min(p.Top, len(vec))]
	n := 0
	for _, h := range top {
		if in[h.ID] {
			n++
		}
	}
	return float64(n) / float64(len(top))
}

// gate scales the vector weight by agreement: 0 up to p.Floor (what
// chance gives), rising linearly to 1 at p.Full.
func (p agreementParams) gate(kw, vec []Hit) float64 {
	return min(1, max(0, (p.agreement(kw, vec)-p.Floor)/(p.Full-p.Floor)))
}
