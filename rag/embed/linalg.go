package embed

import (
	"context"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// csr is a sparse matrix in compressed sparse row form. Training stores
// the document-term matrix with one row per document.
type csr struct {
	ptr   []int // row r is col[ptr[r]:ptr[r+1]]
	col   []int32
	val   []float32
	ncols int
}

func (m *csr) rows() int { return len(m.ptr) - 1 }

// panelWidth is the number of columns stored together. A product with the
// sparse matrix walks one panel at a time, so the random row accesses it
// makes stay within rows×64 bytes instead of the whole dense matrix.
const panelWidth = 16

// panels is a dense float32 matrix stored as column panels of panelWidth
// columns, each panel row-major.
type panels struct {
	rows int
	p    [][]float32
}

func newPanels(rows, cols int) *panels {
	n := (cols + panelWidth - 1) / panelWidth
	m := &panels{rows: rows, p: make([][]float32, n)}
	for i := range m.p {
		m.p[i] = make([]float32, rows*panelWidth)
	}
	return m
}

func (m *panels) cols() int { return len(m.p) * panelWidth }

// parallelFor runs fn(0..n-1) on up to GOMAXPROCS goroutines. Every unit
// writes its own output, so results never depend on the number of workers
// or their timing, which keeps training deterministic.
func parallelFor(ctx context.Context, n int, fn func(i int)) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// mulAAt sets y = X^T X q for the document-term matrix x (docs × terms),
// i.e. multiplies q by the term co-occurrence matrix without forming it:
// each document contributes x_d (x_d · q).
func mulAAt(ctx context.Context, x *csr, q, y *panels) error {
	return parallelFor(ctx, len(q.p), func(p int) {
		qp, yp := q.p[p], y.p[p]
		clear(yp)
		for d := 0; d < x.rows(); d++ {
			if d&4095 == 0 && ctx.Err() != nil {
				return
			}
			lo, hi := x.ptr[d], x.ptr[d+1]
			var z [panelWidth]float32
			for k := lo; k < hi; k++ {
				v := x.val[k]
				row := qp[int(x.col[k])*panelWidth:][:panelWidth]
				for j := range z {
					z[j] += v * row[j]
				}
			}
			for k := lo; k < hi; k++ {
				v := x.val[k]
				row := yp[int(x.col[k])*panelWidth:][:panelWidth]
				for j := range z {
					row[j] += v * z[j]
				}
			}
		}
	})
}

// symGram returns a^T b (cols × cols) accumulated in float64, for a^T b
// known to be symmetric (a == b, or a = Q and b = A Q with A symmetric):
// it computes the upper panel triangle and mirrors it.
func symGram(ctx context.Context, a, b *panels) ([][]float64, error) {
	n := a.cols()
	g := make([][]float64, n)
	for i := range g {
		g[i] = make([]float64, n)
	}
	np := len(a.p)
	var pairs [][2]int
	for pa := range np {
		for pb := pa; pb < np; pb++ {
			pairs = append(pairs, [2]int{pa, pb})
		}
	}
	err := parallelFor(ctx, len(pairs), func(u int) {
		pa, pb := pairs[u][0], pairs[u][1]
		ap, bp := a.p[pa], b.p[pb]
		var acc [panelWidth][panelWidth]float64
		var ar, br [panelWidth]float64
		for r := 0; r < a.rows; r++ {
			for j := range ar {
				ar[j] = float64(ap[r*panelWidth+j])
				br[j] = float64(bp[r*panelWidth+j])
			}
			for i := range acc {
				ai := ar[i]
				if ai == 0 {
					continue
				}
				for j := range acc[i] {
					acc[i][j] += ai * br[j]
				}
			}
		}
		for i := range acc {
			copy(g[pa*panelWidth+i][pb*panelWidth:], acc[i][:])
		}
	})
	if err != nil {
		return nil, err
	}
	// Mirror the upper triangle; on the diagonal panels average the two
	// halves, which differ by rounding when a != b.
	for i := range n {
		for j := i + 1; j < n; j++ {
			if i/panelWidth == j/panelWidth {
				s := (g[i][j] + g[j][i]) / 2
				g[i][j], g[j][i] = s, s
			} else {
				g[j][i] = g[i][j]
			}
		}
	}
	return g, nil
}

// mulDense sets out = y c for a dense c of y.cols() rows and out.cols()
// columns. out must not be y.
func mulDense(ctx context.Context, y *panels, c [][]float64, out *panels) error {
	kp := out.cols()
	k := min(kp, len(c[0]))
	l := y.cols()
	ct := make([]float32, l*kp) // c as float32, rows padded to kp
	for i := 0; i < l && i < len(c); i++ {
		for j := 0; j < k; j++ {
			ct[i*kp+j] = float32(c[i][j])
		}
	}
	const block = 256
	nb := (y.rows + block - 1) / block
	err := parallelFor(ctx, nb, func(b int) {
		acc := make([]float32, kp)
		for r := b * block; r < min(y.rows, (b+1)*block); r++ {
			clear(acc)
			for i := 0; i < l; i++ {
				yi := y.p[i/panelWidth][r*panelWidth+i%panelWidth]
				if yi != 0 {
					axpy(acc, ct[i*kp:], yi)
				}
			}
			for j := range acc {
				out.p[j/panelWidth][r*panelWidth+j%panelWidth] = acc[j]
			}
		}
	})
	return err
}

// orthonormalize sets q to an orthonormal basis of the columns of y by
// SVQB (Stathopoulos & Wu 2002): scale the Gram matrix to unit diagonal,
// eigendecompose it and map y through W Λ^-1/2. Unlike Cholesky QR it
// tolerates nearly dependent columns, which a small or repetitive corpus
// produces.
func orthonormalize(ctx context.Context, y, q *panels) error {
	g, err := symGram(ctx, y, y)
	if err != nil {
		return err
	}
	n := len(g)
	d := make([]float64, n)
	for i := range d {
		if g[i][i] > 0 {
			d[i] = 1 / math.Sqrt(g[i][i])
		}
	}
	for i := range g {
		for j := range g[i] {
			g[i][j] *= d[i] * d[j]
		}
	}
	lam, w := symEig(g)
	maxLam := 0.0
	for _, v := range lam {
		maxLam = max(maxLam, v)
	}
	c := make([][]float64, n)
	for i := range c {
		c[i] = make([]float64, n)
		for j := range c[i] {
			c[i][j] = d[i] * w[i][j] / math.Sqrt(max(lam[j], 1e-10*maxLam, 1e-300))
		}
	}
	return mulDense(ctx, y, c, q)
}

// symEig returns the eigenvalues (ascending) and eigenvectors (columns of
// the returned matrix) of the symmetric matrix a, by Householder
// tridiagonalisation and the implicit QL method (tred2/tql2 from EISPACK,
// as in JAMA). a is overwritten.
func symEig(a [][]float64) ([]float64, [][]float64) {
	n := len(a)
	v := a
	d := make([]float64, n)
	e := make([]float64, n)
	if n == 0 {
		return d, v
	}
	// tred2
	for j := 0; j < n; j++ {
		d[j] = v[n-1][j]
	}
	for i := n - 1; i > 0; i-- {
		scale, h := 0.0, 0.0
		for k := 0; k < i; k++ {
			scale += math.Abs(d[k])
		}
		if scale == 0 {
			e[i] = d[i-1]
			for j := 0; j < i; j++ {
				d[j] = v[i-1][j]
				v[i][j] = 0
				v[j][i] = 0
			}
		} else {
			for k := 0; k < i; k++ {
				d[k] /= scale
				h += d[k] * d[k]
			}
			f := d[i-1]
			g := math.Sqrt(h)
			if f > 0 {
				g = -g
			}
			e[i] = scale * g
			h -= f * g
			d[i-1] = f - g
			for j := 0; j < i; j++ {
				e[j] = 0
			}
			for j := 0; j < i; j++ {
				f = d[j]
				v[j][i] = f
				g = e[j] + v[j][j]*f
				for k := j + 1; k <= i-1; k++ {
					g += v[k][j] * d[k]
					e[k] += v[k][j] * f
				}
				e[j] = g
			}
			f = 0
			for j := 0; j < i; j++ {
				e[j] /= h
				f += e[j] * d[j]
			}
			hh := f / (h + h)
			for j := 0; j < i; j++ {
				e[j] -= hh * d[j]
			}
			for j := 0; j < i; j++ {
				f = d[j]
				g = e[j]
				for k := j; k <= i-1; k++ {
					v[k][j] -= f*e[k] + g*d[k]
				}
				d[j] = v[i-1][j]
				v[i][j] = 0
			}
		}
		d[i] = h
	}
	for i := 0; i < n-1; i++ {
		v[n-1][i] = v[i][i]
		v[i][i] = 1
		h := d[i+1]
		if h != 0 {
			for k := 0; k <= i; k++ {
				d[k] = v[k][i+1] / h
			}
			for j := 0; j <= i; j++ {
				g := 0.0
				for k := 0; k <= i; k++ {
					g += v[k][i+1] * v[k][j]
				}
				for k := 0; k <= i; k++ {
					v[k][j] -= g * d[k]
				}
			}
		}
		for k := 0; k <= i; k++ {
			v[k][i+1] = 0
		}
	}
	for j := 0; j < n; j++ {
		d[j] = v[n-1][j]
		v[n-1][j] = 0
	}
	v[n-1][n-1] = 1
	e[0] = 0

	// tql2
	for i := 1; i < n; i++ {
		e[i-1] = e[i]
	}
	e[n-1] = 0
	f, tst1 := 0.0, 0.0
	eps := math.Pow(2, -52)
	for l := 0; l < n; l++ {
		tst1 = max(tst1, math.Abs(d[l])+math.Abs(e[l]))
		m := l
		for m < n-1 && math.Abs(e[m]) > eps*tst1 {
			m++
		}
		if m > l {
			for iter := 0; iter < 60 && math.Abs(e[l]) > eps*tst1; iter++ {
				g := d[l]
				p := (d[l+1] - g) / (2 * e[l])
				r := math.Hypot(p, 1)
				if p < 0 {
					r = -r
				}
				d[l] = e[l] / (p + r)
				d[l+1] = e[l] * (p + r)
				dl1 := d[l+1]
				h := g - d[l]
				for i := l + 2; i < n; i++ {
					d[i] -= h
				}
				f += h
				p = d[m]
				c, c2, c3 := 1.0, 1.0, 1.0
				el1 := e[l+1]
				s, s2 := 0.0, 0.0
				for i := m - 1; i >= l; i-- {
					c3 = c2
					c2 = c
					s2 = s
					g = c * e[i]
					h = c * p
					r = math.Hypot(p, e[i])
					e[i+1] = s * r
					s = e[i] / r
					c = p / r
					p = c*d[i] - s*g
					d[i+1] = h + s*(c*g+s*d[i])
					for k := 0; k < n; k++ {
						h = v[k][i+1]
						v[k][i+1] = s*v[k][i] + c*h
						v[k][i] = c*v[k][i] - s*h
					}
				}
				p = -s * s2 * c3 * el1 * e[l] / dl1
				e[l] = s * p
				d[l] = c * p
			}
		}
		d[l] += f
		e[l] = 0
	}
	for i := 0; i < n-1; i++ {
		k, p := i, d[i]
		for j := i + 1; j < n; j++ {
			if d[j] < p {
				k, p = j, d[j]
			}
		}
		if k != i {
			d[k], d[i] = d[i], p
			for j := 0; j < n; j++ {
				v[j][i], v[j][k] = v[j][k], v[j][i]
			}
		}
	}
	return d, v
}
