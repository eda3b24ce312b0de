package parse

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"llmops/store"
)

// The bombs are built once per test binary: about 1 MB each.
var (
	giBDOCX        = sync.OnceValue(func() []byte { return bombDOCX(nil) })
	giBPDF         = sync.OnceValue(bombPDF)
	giBObjStmPDF   = sync.OnceValue(objStmBombPDF)
	lyingSmallDOCX = sync.OnceValue(func() []byte { return bombDOCX(func(int64) int64 { return 1 << 10 }) })
	lyingLargeDOCX = sync.OnceValue(func() []byte { return bombDOCX(func(int64) int64 { return 4 << 30 }) })
)

// TestDeflateRepeat checks the bomb builder on a size small enough to
// inflate: the stream is valid, and its size and checksums are right.
func TestDeflateRepeat(t *testing.T) {
	t.Parallel()
	d := deflateRepeat("<head>", "unit ", "<tail>", 3<<20)
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(d.raw)))
	if err != nil {
		t.Fatal(err)
	}
	units := (int(d.size) - len("<head><tail>")) / len("unit ")
	want := "<head>" + strings.Repeat("unit ", units) + "<tail>"
	if string(got) != want {
		t.Fatalf("inflated %d bytes, want %d (%q…)", len(got), len(want), got[:min(len(got), 40)])
	}
	if int64(len(got)) != d.size || crc32.ChecksumIEEE(got) != d.crc || adler32.Checksum(got) != d.adler {
		t.Errorf("size, crc, adler = %d, %08x, %08x; want %d, %08x, %08x",
			d.size, d.crc, d.adler, len(got), crc32.ChecksumIEEE(got), adler32.Checksum(got))
	}
	if ratio := d.size / int64(len(d.raw)); ratio < 500 {
		t.Errorf("ratio %d:1, want a bomb's (over 500:1)", ratio)
	}
}

// stoppedAt reads the "(stopped at 4 MiB)" of a refusal in bytes.
var stoppedAtRE = regexp.MustCompile(`stopped at ([0-9.]+) (bytes|KiB|MiB|GiB)\)`)

func stoppedAt(t *testing.T, msg string) int64 {
	t.Helper()
	m := stoppedAtRE.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("message %q says nothing of where it stopped", msg)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	unit := map[string]float64{"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m[2]]
	return int64(v * unit)
}

// TestDecompressionBombs feeds files of about 1 MB that expand to 1 GiB.
// Each is refused with its reason, having inflated no more than
// ExpansionCheckAfter: its message says where it stopped.
func TestDecompressionBombs(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		data    func() []byte
		code    string
		message string
	}{
		{"docx whose document.xml inflates to 1 GiB", "bomb.docx", giBDOCX, store.ETOOLARGE,
			"DOCX word/document.xml expands more than 100× (stopped at 4 MiB)"},
		{"docx whose header declares more than the truth", "lying.docx", lyingLargeDOCX, store.ETOOLARGE,
			"DOCX word/document.xml expands more than 100× (stopped at 4 MiB)"},
		{"docx whose header declares 1 KiB", "lying.docx", lyingSmallDOCX, store.EINVALID,
			"DOCX word/document.xml holds more than the 1 KiB its header declares; refusing it"},
		{"pdf whose content stream inflates to 1 GiB", "bomb.pdf", giBPDF, store.ETOOLARGE,
			"PDF stream on page 1 expands more than 100× (stopped at 4 MiB)"},
		{"pdf whose object stream inflates to 1 GiB", "objstm.pdf", giBObjStmPDF, store.ETOOLARGE,
			"PDF object stream 7 expands more than 100× (stopped at 4 MiB)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := tt.data()
			if len(data) > 2<<20 {
				t.Fatalf("the bomb is %d bytes; want about 1 MB", len(data))
			}
			_, err := Parse(testCtx(t), tt.file, data, DefaultLimits())
			var se *store.Error
			if !errors.As(err, &se) || se.Code != tt.code || se.Message != tt.message {
				t.Fatalf("err = %v, want %s %q", err, tt.code, tt.message)
			}
			if strings.Contains(tt.message, "stopped at") {
				if at := stoppedAt(t, se.Message); at > ExpansionCheckAfter {
					t.Errorf("stopped at %d bytes, want at most %d", at, ExpansionCheckAfter)
				}
			}
		})
	}
}

// TestBombsInflateNoMoreThanTheLimit counts the bytes inflated, below
// Parse, where the counters are: a refusal comes after ExpansionCheckAfter
// bytes (the declared size, for a header that says less), not after the
// file's limit or the bomb's gigabyte.
func TestBombsInflateNoMoreThanTheLimit(t *testing.T) {
	lim := DefaultLimits()
	docx := func(data []byte) (*fileExpansion, error) {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, err
		}
		for _, zf := range zr.File {
			if zf.Name == "word/document.xml" {
				fe := lim.expansion(len(data))
				rc, err := openZipEntry(zf, fe)
				if err != nil {
					return nil, err
				}
				defer rc.Close()
				_, err = io.Copy(io.Discard, rc)
				return fe, err
			}
		}
		return nil, errors.New("no word/document.xml")
	}
	tests := []struct {
		name    string
		inflate func() (*fileExpansion, error)
		most    int64
	}{
		{"docx", func() (*fileExpansion, error) { return docx(giBDOCX()) }, ExpansionCheckAfter},
		{"docx declaring 1 KiB", func() (*fileExpansion, error) { return docx(lyingSmallDOCX()) }, 1<<10 + 1},
		{"docx declaring 4 GiB", func() (*fileExpansion, error) { return docx(lyingLargeDOCX()) }, ExpansionCheckAfter},
		{"pdf object stream", func() (*fileExpansion, error) {
			data := giBObjStmPDF()
			fe := lim.expansion(len(data))
			return fe, checkPDFStructure(data, fe)
		}, ExpansionCheckAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fe, err := tt.inflate()
			if err == nil {
				t.Fatal("inflated the whole bomb without an error")
			}
			if fe == nil {
				t.Fatalf("err = %v before inflating", err)
			}
			if fe.used > tt.most || fe.used == 0 {
				t.Errorf("inflated %d bytes before %v; want 1 to %d", fe.used, err, tt.most)
			}
		})
	}
}

// TestFileLimitFollowsSize checks the whole-file limit: a small file may
// expand to ExpansionCheckAfter plus MaxExpansionRatio times its size, a
// large one to MaxUncompressed; several parts each under their own ratio
// cannot add up past it.
func TestFileLimitFollowsSize(t *testing.T) {
	t.Parallel()
	lim := DefaultLimits()
	if got, want := lim.expansion(1<<20).limit, int64(ExpansionCheckAfter+MaxExpansionRatio<<20); got != want {
		t.Errorf("limit for 1 MiB = %d, want %d", got, want)
	}
	if got := lim.expansion(10 << 20).limit; got != DefaultMaxUncompressed {
		t.Errorf("limit for 10 MiB = %d, want %d", got, DefaultMaxUncompressed)
	}
	// Three parts of 2 MiB of spaces each: every one under
	// ExpansionCheckAfter, together past the limit of a 6 KiB file.
	docPrefix, docSuffix, _ := strings.Cut(docxBody(wordPara("", "Text.\x00")), "\x00")
	data := buildRepeatedZip(
		repeatedPart{name: "word/styles.xml", prefix: "<w:styles>", unit: " ", suffix: "</w:styles>", size: 2 << 20},
		repeatedPart{name: "docProps/core.xml", prefix: "<cp:coreProperties>", unit: " ", suffix: "</cp:coreProperties>", size: 2 << 20},
		repeatedPart{name: "word/document.xml", prefix: docPrefix, unit: " ", suffix: docSuffix, size: 2 << 20},
	)
	_, err := Parse(testCtx(t), "parts.docx", data, lim)
	want := fmt.Sprintf("DOCX expands past %s, more than 100× its size (possible zip bomb)", formatSize(lim.expansion(len(data)).limit))
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// TestLargeOrdinaryPartsPass makes sure the ratio check leaves real
// documents alone: a document.xml of 5 MiB of varied prose compresses a
// few times, not a hundred, and is read whole.
func TestLargeOrdinaryPartsPass(t *testing.T) {
	t.Parallel()
	words := strings.Fields("shift roster kiosk manager payroll store tablet punch approve export schedule swap " +
		"overtime break holiday team location invoice refund billing report")
	r := rand.New(rand.NewPCG(3, 4))
	var body []byte
	for len(body) < 5<<20 {
		body = append(body, "<w:p><w:r><w:t>"...)
		for range 40 {
			body = append(body, words[r.IntN(len(words))]...)
			body = append(body, ' ')
			body = strconv.AppendInt(body, int64(r.IntN(100000)), 10)
			body = append(body, ' ')
		}
		body = append(body, "</w:t></w:r></w:p>"...)
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	// The fastest level compresses least: the ratio is the worst case for
	// the data, and -race makes the default level slow.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte(docxBody(string(body) + wordPara("", "The last paragraph."))))
	zw.Close()
	doc, err := Parse(testCtx(t), "big.docx", b.Bytes(), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if all := checkSections(t, doc); !strings.Contains(all, "The last paragraph.") {
		t.Errorf("the end of the document is missing (%d bytes of text)", len(all))
	}
}

// TestParseWaitsForTheBudget holds a whole budget and checks that a DOCX
// parse queues for it and goes on once it is released, that a Markdown
// parse (nothing to decompress) does not queue, that a deadline in the
// queue is reported as a busy server, and that every reservation is given
// back.
func TestParseWaitsForTheBudget(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	b := NewBudget(1 << 20)
	lim := DefaultLimits()
	lim.Budget = b
	hold, err := b.reserve(ctx, b.Size())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(ctx, "notes.md", []byte("# Notes\n\nNothing to inflate."), lim); err != nil {
		t.Fatalf("markdown: %v", err)
	}
	// A deadline that passes in the queue says the server is busy (past
	// Parse's own check of ctx, which would return ctx.Err()).
	expired, cancel := context.WithDeadline(ctx, time.Unix(0, 0))
	defer cancel()
	_, err = parseAs(expired, DOCX, "report.docx", sampleDOCX(t), lim)
	if store.ErrorCode(err) != store.EUNAVAILABLE || !strings.Contains(err.Error(), "busy") {
		t.Errorf("deadline while queued: err = %v, want EUNAVAILABLE saying the server is busy", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Parse(ctx, "report.docx", sampleDOCX(t), lim)
		done <- err
	}()
	for b.Waiting() == 0 {
		select {
		case err := <-done:
			t.Fatalf("the DOCX parse returned (%v) while the budget was held", err)
		case <-time.After(time.Millisecond):
		}
	}
	hold()
	if err := <-done; err != nil {
		t.Fatalf("docx: %v", err)
	}
	if n := b.InUse(); n != 0 {
		t.Errorf("%d bytes still reserved after every parse returned", n)
	}
}

// BenchmarkBombsConcurrent is the memory bar of issue 15: eight uploads of
// a 1 MB file that expands to 1 GiB, parsed at once, each b.N times. All
// must fail with a reason. It reports the resident memory they added at
// the peak (peak-RSS-MiB, from the kernel's high-water mark, reset before
// the run) and the peak of live heap objects sampled meanwhile
// (peak-heap-MiB), both over the baseline before the run. Run it with
//
//	go test -run '^$' -bench BombsConcurrent -benchtime 5x ./rag/parse/
func BenchmarkBombsConcurrent(b *testing.B) {
	for _, bench := range []struct {
		name, file string
		data       func() []byte
		reason     string
	}{
		{"docx", "bomb.docx", giBDOCX, "expands more than 100×"},
		{"pdf", "bomb.pdf", giBPDF, "expands more than 100×"},
		{"pdf-objstm", "objstm.pdf", giBObjStmPDF, "expands more than 100×"},
	} {
		b.Run(bench.name, func(b *testing.B) {
			const uploads = 8
			files := make([][]byte, uploads)
			for i := range files {
				files[i] = bytes.Clone(bench.data())
			}
			ctx := context.Background()
			runtime.GC()
			debug.FreeOSMemory()
			peak := startMemoryPeak()
			b.ResetTimer()
			for b.Loop() {
				var wg sync.WaitGroup
				for _, data := range files {
					wg.Go(func() {
						_, err := Parse(ctx, bench.file, data, DefaultLimits())
						if err == nil || !strings.Contains(err.Error(), bench.reason) {
							b.Errorf("err = %v, want %q", err, bench.reason)
						}
					})
				}
				wg.Wait()
			}
			b.StopTimer()
			rss, heap := peak()
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(len(files[0]))/(1<<20), "file-MiB")
		})
	}
}

// startMemoryPeak records the baseline and starts watching; the function
// it returns stops and returns the peaks over the baseline: resident
// memory (VmHWM after resetting it through /proc/self/clear_refs, or the
// highest VmRSS sampled where that is not allowed) and live heap objects.
func startMemoryPeak() func() (rss, heap int64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heapNow := func() int64 {
		metrics.Read(sample)
		return int64(sample[0].Value.Uint64())
	}
	baseRSS, baseHeap := procStatus("VmRSS"), heapNow()
	hwmReset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	var mu sync.Mutex
	maxRSS, maxHeap := baseRSS, baseHeap
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			rss, heap := procStatus("VmRSS"), heapNow()
			mu.Lock()
			maxRSS, maxHeap = max(maxRSS, rss), max(maxHeap, heap)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	return func() (int64, int64) {
		close(stop)
		wg.Wait()
		if hwmReset {
			maxRSS = max(maxRSS, procStatus("VmHWM"))
		}
		return max(maxRSS-baseRSS, 0), max(maxHeap-baseHeap, 0)
	}
}

// procStatus returns a "kB" field of /proc/self/status in bytes, 0 where
// there is none.
func procStatus(field string) int64 {
	data, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
