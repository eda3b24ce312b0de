package parse

// The limits on what one file may cost, and on what all the parses in the
// process may have decompressed at once. Every size limit of the package
// is named here; the structural ones (nesting, operands, cmap entries)
// stay beside the code they bound.
const (
	// DefaultMaxBytes caps the input: a file over it is refused unread.
	DefaultMaxBytes = 64 << 20
	// DefaultMaxUncompressed caps the bytes decompressed from one file,
	// all its parts together: the DOCX zip entries read, the PDF content
	// streams, form XObjects and font maps decoded.
	DefaultMaxUncompressed = 256 << 20
	// MaxExpansionRatio bounds how many times its compressed size one
	// part (a zip entry, a PDF stream) may expand to. It is checked as
	// the part is read, from the bytes actually consumed and produced,
	// never from the sizes a header declares, once the part has expanded
	// past ExpansionCheckAfter: a bomb stops there, not at the file limit.
	MaxExpansionRatio = 100
	// ExpansionCheckAfter is how far a part may expand before its ratio
	// is checked, so small, very repetitive parts (a styles.xml) pass.
	ExpansionCheckAfter = 4 << 20
	// DefaultParseBudget caps the bytes all the parses of the process may
	// decompress at once. Each DOCX or PDF parse reserves its file limit
	// (see Limits.expansion) before it decompresses anything and releases
	// it when done; parses that do not fit wait their turn.
	DefaultParseBudget = 512 << 20
	// DefaultMaxPages caps the PDF pages parsed.
	DefaultMaxPages = 2000
	// DefaultMaxSections caps the sections of one document.
	DefaultMaxSections = 100_000

	// maxDOCXEntries bounds the zip directory: archive/zip keeps every
	// entry in memory, and a real document has a few dozen parts.
	maxDOCXEntries = 10_000
	// maxToUnicodeBytes caps one decoded PDF font map.
	maxToUnicodeBytes = 4 << 20
	// readBudgetFactor and readBudgetFloor bound the bytes the PDF library
	// may read from a file of n bytes (n*factor + floor): the library
	// re-reads objects instead of caching them, so a normal file costs a
	// few times its size; this is two orders of magnitude more.
	readBudgetFactor = 256
	readBudgetFloor  = 256 << 20
)

// processBudget is the one DefaultParseBudget of the process, shared by
// every Parse whose Limits name no other Budget. Memory is a process-wide
// resource, so its limiter is too.
var processBudget = NewBudget(DefaultParseBudget)

// Limits caps what one file may cost. A zero field means its default, so
// Limits{} behaves like DefaultLimits().
type Limits struct {
	MaxBytes int64 // input size cap (default DefaultMaxBytes)
	// MaxUncompressed caps the bytes decompressed from one file (default
	// DefaultMaxUncompressed). A file may also expand to no more than
	// MaxExpansionRatio times its size plus ExpansionCheckAfter.
	MaxUncompressed int64
	MaxPages        int // PDF pages parsed (default DefaultMaxPages)
	MaxSections     int // default DefaultMaxSections
	// Budget is shared by the parses that may run at once (default: the
	// process's, of DefaultParseBudget bytes).
	Budget *Budget
}

// DefaultLimits returns the limits used for uploads.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:        DefaultMaxBytes,
		MaxUncompressed: DefaultMaxUncompressed,
		MaxPages:        DefaultMaxPages,
		MaxSections:     DefaultMaxSections,
		Budget:          processBudget,
	}
}

// withDefaults fills the zero fields of lim.
func (lim Limits) withDefaults() Limits {
	def := DefaultLimits()
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = def.MaxBytes
	}
	if lim.MaxUncompressed <= 0 {
		lim.MaxUncompressed = def.MaxUncompressed
	}
	if lim.MaxPages <= 0 {
		lim.MaxPages = def.MaxPages
	}
	if lim.MaxSections <= 0 {
		lim.MaxSections = def.MaxSections
	}
	if lim.Budget == nil {
		lim.Budget = def.Budget
	}
	return lim
}

// expansion returns the decompression account of a file of size bytes:
// MaxUncompressed, or less for a small file, which has no business
// expanding more than MaxExpansionRatio times. Its limit is also what the
// parse reserves from the Budget.
func (lim Limits) expansion(size int) *fileExpansion {
	if byRatio := ExpansionCheckAfter + MaxExpansionRatio*int64(size); byRatio < lim.MaxUncompressed {
		return &fileExpansion{limit: byRatio, byRatio: true}
	}
	return &fileExpansion{limit: lim.MaxUncompressed}
}
