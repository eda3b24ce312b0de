package gate

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

type parsedSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Time     string `xml:"time,attr"`
		Cases    []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestWriteJUnit(t *testing.T) {
	t.Parallel()
	rs := Check(map[string]float64{"faithfulness": 0.95, "ndcg@10": 0.7}, nil, map[string]float64{"ndcg@10": 0.8},
		[]Threshold{{"faithfulness", KindMin, 0.9}, {"ndcg@10", KindMaxDrop, 0.02}, {"typo", KindMin, 1}})
	cases := []CaseReport{
		{ID: "q1", Question: "How do <I> cancel & \"leave\"?\n\tNow", Seconds: 1.25},
		{ID: "q2", Question: "Bad\x00bytes\x1b", Seconds: 0.5, Failed: true, Message: "faithfulness 0.2 < 0.5 ]]> <x>"},
		{ID: "q3", Question: strings.Repeat("long ", 40), Error: "upstream: 502 <html>"},
	}
	var b bytes.Buffer
	if err := WriteJUnit(&b, "eval <nightly>", rs, cases); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML header:\n%s", out)
	}
	var got parsedSuites
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("output is not well-formed XML: %v\n%s", err, out)
	}
	if got.Tests != 6 || got.Failures != 3 || got.Errors != 1 || len(got.Suites) != 1 {
		t.Fatalf("got tests=%d failures=%d errors=%d suites=%d, want 6, 3, 1, 1\n%s", got.Tests, got.Failures, got.Errors, len(got.Suites), out)
	}
	s := got.Suites[0]
	if s.Name != "eval <nightly>" || s.Tests != 6 || s.Failures != 3 || s.Errors != 1 || s.Time != "1.750" || len(s.Cases) != 6 {
		t.Errorf("got suite %s tests=%d failures=%d errors=%d time=%s cases=%d", s.Name, s.Tests, s.Failures, s.Errors, s.Time, len(s.Cases))
	}
	wantNames := []string{"gate/min faithfulness", "gate/max-drop ndcg@10", "gate/min typo",
		`cases/q1: How do <I> cancel & "leave"? Now`, "cases/q2: Bad\uFFFDbytes\uFFFD", "cases/q3: " + strings.Repeat("long ", 16)[:79] + "…"}
	for i, c := range s.Cases {
		if name := c.Classname + "/" + c.Name; name != wantNames[i] {
			t.Errorf("test case %d: got %q, want %q", i, name, wantNames[i])
		}
	}
	if c := s.Cases[0]; c.Failure != nil || c.SystemOut != "faithfulness 0.950 ≥ 0.900 ok" {
		t.Errorf("passing threshold: got failure %v, output %q", c.Failure, c.SystemOut)
	}
	if c := s.Cases[1]; c.Failure == nil || c.Failure.Message != "ndcg@10 dropped 0.100 (0.800 → 0.700), allowed 0.020: FAIL" {
		t.Errorf("failing threshold: got %+v", c.Failure)
	}
	if c := s.Cases[2]; c.Failure == nil || !strings.HasPrefix(c.Failure.Message, "metric typo not in this run") {
		t.Errorf("missing metric: got %+v", c.Failure)
	}
	if c := s.Cases[3]; c.Failure != nil || c.Error != nil || c.Time != "1.250" {
		t.Errorf("passing case: got %+v", c)
	}
	if c := s.Cases[4]; c.Failure == nil || c.Failure.Text != "faithfulness 0.2 < 0.5 ]]> <x>" {
		t.Errorf("failed case: got %+v", c.Failure)
	}
	if c := s.Cases[5]; c.Error == nil || c.Error.Message != "upstream: 502 <html>" || c.Failure != nil {
		t.Errorf("error case: got %+v", c)
	}
}

func TestWriteJUnitEmpty(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteJUnit(&b, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	var got parsedSuites
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil || got.Tests != 0 || len(got.Suites) != 1 || got.Suites[0].Name != "llmops eval" {
		t.Errorf("got %+v, %v\n%s", got, err, b.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteJUnitWriteError(t *testing.T) {
	t.Parallel()
	if err := WriteJUnit(failingWriter{}, "s", nil, nil); err == nil || err.Error() != "disk full" {
		t.Errorf("got %v, want the writer's error", err)
	}
}
