package docker

import "testing"

func TestReplacementDetectorAcrossWrites(t *testing.T) {
	for _, chunks := range [][]string{
		{"ok \uFFFD ok"},
		{"ok \xef", "\xbf\xbd"},
		{"ok \xef\xbf", "\xbd"},
		{"\xef", "\xbf", "\xbd"},
	} {
		r := &replacementDetector{}
		for _, c := range chunks {
			r.Write([]byte(c))
		}
		if !r.found {
			t.Errorf("%q: replacement character not found", chunks)
		}
	}
	r := &replacementDetector{}
	for _, c := range []string{"\xef\xbf", "x\xbd", "\xef", "", "\xbf!"} {
		r.Write([]byte(c))
	}
	if r.found {
		t.Error("found a replacement character that is not there")
	}
}
