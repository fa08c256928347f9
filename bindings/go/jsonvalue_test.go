package ringlog

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestUnquoteDecodesEveryJSONEscape(t *testing.T) {
	cases := map[string]string{
		`"plain"`:                     "plain",
		`""`:                          "",
		`"a\"b\\c\/d"`:                `a"b\c/d`,
		`"\b\f\n\r\t"`:                "\b\f\n\r\t",
		`"\u0000\u001f\u00e9"`:        "\x00\x1f\u00e9",
		`"\u003c\u003e\u0026"`:        "<>&",
		`"\u2028\u2029"`:              "\u2028\u2029",
		`"\ud83d\ude00 smile"`:        "\U0001F600 smile",
		`"\ud83d alone"`:              "\uFFFD alone",
		`"\ude00 low"`:                "\uFFFD low",
		`"\ud83d\u0041"`:              "\uFFFDA",
		`"tail\\"`:                    `tail\`,
		"\"unicode é 日本 \U0001F600\"": "unicode é 日本 \U0001F600",
	}
	for in, want := range cases {
		f := &frame{}
		end := f.unquote([]byte(in), 0)
		if got := string(f.text); got != want || end != len(in) {
			t.Errorf("unquote(%s) = %q (end %d), want %q (end %d)", in, got, end, want, len(in))
		}
	}
}

func TestUnquoteAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{"x", "\x00\x01\x7f", "<script>&", "\u2028", "a\"b", "\xff\xfe bad", "日本語"} {
		data, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var want string
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		f := &frame{}
		f.unquote(data, 0)
		if string(f.text) != want {
			t.Errorf("%q: unquote gives %q, encoding/json %q", s, f.text, want)
		}
	}
}

func TestSkipValueFindsTheEndOfNestedValues(t *testing.T) {
	data := []byte(`{"a":[1,{"b":"]}\"}"}],"c":{}} tail`)
	if end := skipValue(data, 0); string(data[end:]) != " tail" {
		t.Errorf("skipValue stopped before %q", data[end:])
	}
}

func TestUTF8CutNeverSplitsASequence(t *testing.T) {
	s := []byte("ab\u00e9\u65e5\U0001F600z")
	for max := 0; max <= len(s); max++ {
		n := utf8Cut(s, max)
		if n > max || !utf8.Valid(s[:n]) || (max < len(s) && max-n > 3) {
			t.Errorf("utf8Cut(max %d) = %d", max, n)
		}
	}
}
