package gate

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CaseReport is one eval case as a JUnit test case.
type CaseReport struct {
	ID       string
	Question string
	Seconds  float64
	Error    string // the pipeline failed: a JUnit <error>
	Failed   bool   // the case scored badly: a JUnit <failure> with Message
	Message  string
}

// JUnit XML as GitLab, GitHub (test reporters) and Jenkins read it.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Skipped  int         `xml:"skipped,attr"`
		Time     string      `xml:"time,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Classname string        `xml:"classname,attr"`
		Name      string        `xml:"name,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitProblem `xml:"failure,omitempty"`
		Error     *junitProblem `xml:"error,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes the gate results (classname "gate", one test case per
// threshold, named like "min faithfulness") and, optionally, the eval
// cases (classname "cases") as one JUnit test suite. The XML is built in
// memory first, so w never receives half a report.
func WriteJUnit(w io.Writer, suite string, rs []Result, cases []CaseReport) error {
	if suite == "" {
		suite = "llmops eval"
	}
	s := junitSuite{Name: suite}
	var total float64
	for _, r := range rs {
		c := junitCase{Classname: "gate", Name: r.Threshold.String(), Time: seconds(0)}
		if r.Pass {
			c.SystemOut = r.Message
		} else {
			c.Failure = &junitProblem{Message: r.Message, Type: "threshold", Text: r.Message}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
	}
	for _, cr := range cases {
		name := cr.ID
		if q := clip(strings.Join(strings.Fields(cr.Question), " "), 80); q != "" {
			name += ": " + q
		}
		c := junitCase{Classname: "cases", Name: name, Time: seconds(cr.Seconds)}
		switch {
		case cr.Error != "":
			c.Error = &junitProblem{Message: cr.Error, Type: "error", Text: cr.Error}
			s.Errors++
		case cr.Failed:
			c.Failure = &junitProblem{Message: cr.Message, Type: "case", Text: cr.Message}
			s.Failures++
		case cr.Message != "":
			c.SystemOut = cr.Message
		}
		if !math.IsNaN(cr.Seconds) && cr.Seconds > 0 {
			total += cr.Seconds
		}
		s.Cases = append(s.Cases, c)
	}
	s.Tests = len(s.Cases)
	s.Time = seconds(total)
	doc := junitSuites{Name: suite, Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Time: s.Time, Suites: []junitSuite{s}}

	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// seconds formats a duration as JUnit wants it: plain decimal seconds.
func seconds(s float64) string {
	if math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
		s = 0
	}
	return strconv.FormatFloat(s, 'f', 3, 64)
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n])) + "…"
}
