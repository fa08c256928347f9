package ringlog

// The JSON fallback for Any values, read back into fields: encoding/json
// output (always valid, compact JSON) is walked once; objects become
// groups, lists become arrays, numbers become i64, u64 or f64 (an integer
// too large for 64 bits keeps its digits as text), and strings are
// unescaped into the frame's text. Object keys keep their order.

// #include "ringlog.h"
import "C"

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// jsonKey is where a field's key comes from: a Go string, or (off >= 0)
// the frame's text.
type jsonKey struct {
	s      string
	off, n int
}

func (f *frame) pushKey(k jsonKey, typ C.ringlog_field_type) *entry {
	if k.off >= 0 {
		return f.pushTextKey(k.off, k.n, typ)
	}
	return f.push(k.s, typ)
}

// jsonField adds the JSON value data as a field called key.
func (f *frame) jsonField(key string, data []byte) {
	f.jsonValue(jsonKey{s: key, off: -1}, data, skipSpace(data, 0))
}

// jsonValue adds the value at data[i:] and returns the index after it.
func (f *frame) jsonValue(k jsonKey, data []byte, i int) int {
	if i >= len(data) {
		f.pushKey(k, C.RINGLOG_FIELD_NULL)
		return i
	}
	switch c := data[i]; {
	case c == '{' || c == '[':
		if f.depth >= maxDepth {
			end := skipValue(data, i)
			off := len(f.text)
			f.text = append(f.text, data[i:end]...)
			f.pushKey(k, C.RINGLOG_FIELD_STR)
			f.setText(off, end-i)
			return end
		}
		return f.jsonContainer(k, data, i)
	case c == '"':
		off := len(f.text)
		i = f.unquote(data, i)
		f.pushKey(k, C.RINGLOG_FIELD_STR)
		f.setText(off, len(f.text)-off)
		return i
	case c == 't':
		f.pushKey(k, C.RINGLOG_FIELD_BOOL).setBool(true)
		return i + 4
	case c == 'f':
		f.pushKey(k, C.RINGLOG_FIELD_BOOL).setBool(false)
		return i + 5
	case c == 'n':
		f.pushKey(k, C.RINGLOG_FIELD_NULL)
		return i + 4
	default:
		return f.jsonNumber(k, data, i)
	}
}

// jsonContainer adds an object as a group or a list as an array.
func (f *frame) jsonContainer(k jsonKey, data []byte, i int) int {
	obj := data[i] == '{'
	closer := byte(']')
	typ := C.ringlog_field_type(C.RINGLOG_FIELD_ARRAY)
	if obj {
		closer, typ = '}', C.RINGLOG_FIELD_GROUP
	}
	mark := len(f.stack)
	f.depth++
	i = skipSpace(data, i+1)
	for i < len(data) && data[i] != closer {
		mk := jsonKey{off: -1}
		if obj {
			off := len(f.text)
			i = f.unquote(data, i)
			mk = jsonKey{off: off, n: len(f.text) - off}
			i = skipSpace(data, i)
			i = skipSpace(data, i+1) // ':'
		}
		i = f.jsonValue(mk, data, i)
		i = skipSpace(data, i)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	f.depth--
	start, n := f.flush(mark)
	f.pushKey(k, typ)
	f.setGroup(start, n)
	return i + 1
}

// jsonNumber adds a number: an integer as i64 or u64 when it fits, else
// its digits as text; anything with a fraction or exponent as f64.
func (f *frame) jsonNumber(k jsonKey, data []byte, i int) int {
	j := i
	isInt := true
	for j < len(data) {
		c := data[j]
		if c == '.' || c == 'e' || c == 'E' {
			isInt = false
		} else if !(c == '-' || c == '+' || (c >= '0' && c <= '9')) {
			break
		}
		j++
	}
	s := unsafe.String(unsafe.SliceData(data[i:j]), j-i)
	if isInt {
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			f.pushKey(k, C.RINGLOG_FIELD_I64).setI64(v)
			return j
		}
		if v, err := strconv.ParseUint(s, 10, 64); err == nil {
			f.pushKey(k, C.RINGLOG_FIELD_U64).setU64(v)
			return j
		}
		off := len(f.text)
		f.text = append(f.text, s...)
		f.pushKey(k, C.RINGLOG_FIELD_STR)
		f.setText(off, len(s))
		return j
	}
	v, _ := strconv.ParseFloat(s, 64)
	f.pushKey(k, C.RINGLOG_FIELD_F64).setF64(v)
	return j
}

// unquote appends the string at data[i] (a '"') to the text, unescaped,
// and returns the index after its closing quote.
func (f *frame) unquote(data []byte, i int) int {
	i++
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			return i + 1
		case c != '\\':
			j := i + 1
			for j < len(data) && data[j] != '"' && data[j] != '\\' {
				j++
			}
			f.text = append(f.text, data[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(data) {
			return len(data)
		}
		esc := data[i+1]
		i += 2
		switch esc {
		case 'b':
			f.text = append(f.text, '\b')
		case 'f':
			f.text = append(f.text, '\f')
		case 'n':
			f.text = append(f.text, '\n')
		case 'r':
			f.text = append(f.text, '\r')
		case 't':
			f.text = append(f.text, '\t')
		case 'u':
			r := hex4(data, i)
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(data) && data[i] == '\\' && data[i+1] == 'u' {
					r2 = hex4(data, i+2)
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			f.text = utf8.AppendRune(f.text, r)
		default: // '"', '\\', '/'
			f.text = append(f.text, esc)
		}
	}
	return i
}

// hex4 decodes the four hex digits at data[i:] (-1 if they are not).
func hex4(data []byte, i int) rune {
	if i+4 > len(data) {
		return -1
	}
	var r rune
	for _, c := range data[i : i+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(d)
	}
	return r
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index after the object or list at data[i].
func skipValue(data []byte, i int) int {
	depth := 0
	for i < len(data) {
		switch data[i] {
		case '"':
			i++
			for i < len(data) && data[i] != '"' {
				if data[i] == '\\' {
					i++
				}
				i++
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return i
}
