package protocol_test

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tessera/tessera/wasm/protocol"
)

// fields are the js names of a protocol struct's fields, embedded
// structs' in line, each with the fields of its own struct type.
func fields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			for k, v := range fields(f.Type) {
				out[k] = v
			}
			continue
		}
		if tag, ok := f.Tag.Lookup("js"); ok {
			name, _, _ := strings.Cut(tag, ",")
			out[name] = f.Type
		}
	}
	return out
}

// elem is a field type's struct, through pointers and slices.
func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t
}

var (
	callRE = regexp.MustCompile(`\.call\('([A-Za-z]+)'`)
	// const X = await ....call('op' (one reply) or Promise.all(... .call('op' (a list).
	bindRE = regexp.MustCompile(`const (\w+) = await (Promise\.all\()?[^;]*?\.call\('([A-Za-z]+)'`)
)

// TestJSMatchesProtocol reads site/tessera.js, the worker's one client:
// every op it calls is one the worker answers and the other way round,
// every argument it sends is a field of the op's request, and every field
// it reads off a reply (directly, or inside .map/.flatMap over replies)
// is one the reply has. A field renamed on either side fails here rather
// than reading as undefined in the page.
func TestJSMatchesProtocol(t *testing.T) {
	src, err := os.ReadFile("../../site/tessera.js")
	if err != nil {
		t.Fatal(err)
	}
	js := string(src)
	ops := protocol.Ops()

	called := map[string]bool{}
	for _, m := range callRE.FindAllStringSubmatchIndex(js, -1) {
		op := js[m[2]:m[3]]
		called[op] = true
		o, ok := ops[op]
		if !ok {
			t.Errorf("tessera.js calls %q, which the worker does not answer", op)
			continue
		}
		req := fields(reflect.TypeOf(o.Request))
		for _, key := range literalKeys(js[m[1]:]) {
			if _, ok := req[key]; !ok {
				t.Errorf("tessera.js sends %q to %s; its request has %v", key, op, keys(req))
			}
		}
	}
	for op := range ops {
		if !called[op] {
			t.Errorf("the worker answers %q, which tessera.js never calls", op)
		}
	}

	checked := 0
	for _, at := range bindRE.FindAllStringSubmatchIndex(js, -1) {
		m := make([]string, 4)
		for i := range m {
			if at[2*i] >= 0 {
				m[i] = js[at[2*i]:at[2*i+1]]
			}
		}
		name, list, op := m[1], m[2] != "", m[3]
		// The binding's scope: to the end of its method (a brace closing
		// at the class body's indent).
		scope := js[at[0]:]
		if end := strings.Index(scope, "\n  }\n"); end >= 0 {
			scope = scope[:end]
		}
		reply := reflect.TypeOf(ops[op].Reply)
		var reads []string
		if list {
			// X.map((v) => v.a.b ...), X.flatMap((v) => v.a), X[0].a
			lam := regexp.MustCompile(`\b` + name + `\.(?:map|flatMap)\(\((\w+)(?:, \w+)?\) => ([^\n]*)`)
			for _, l := range lam.FindAllStringSubmatch(scope, -1) {
				for _, r := range regexp.MustCompile(`\b`+l[1]+`((?:\.\w+)+)`).FindAllStringSubmatch(l[2], -1) {
					reads = append(reads, r[1])
				}
			}
			for _, r := range regexp.MustCompile(`\b`+name+`\[\d+\]((?:\.\w+)+)`).FindAllStringSubmatch(scope, -1) {
				reads = append(reads, r[1])
			}
		} else {
			for _, r := range regexp.MustCompile(`\b`+name+`((?:\.\w+)+)`).FindAllStringSubmatch(scope, -1) {
				reads = append(reads, r[1])
			}
		}
		for _, path := range reads {
			ty := reply
			for _, f := range strings.Split(path[1:], ".") {
				if ty.Kind() == reflect.Slice {
					break // an array's or a typed array's own property or method
				}
				fs := fields(ty)
				next, ok := fs[f]
				if !ok {
					t.Errorf("tessera.js reads %s%s off a %s reply; the reply has %v", name, path, op, keys(fs))
					break
				}
				checked++
				if elem(next).Kind() == reflect.Struct {
					next = elem(next)
				}
				ty = next
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d reply fields read in tessera.js were recognised: the test no longer sees how it reads replies", checked)
	}
}

// literalKeys are the keys of the object literal that opens the call's
// second argument, s being the text after the op name.
func literalKeys(s string) []string {
	i := strings.Index(s, "{")
	if i < 0 || strings.TrimSpace(s[:i]) != "," {
		return nil
	}
	depth, start := 0, i
	var out []string
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '{', '(', '[':
			depth++
			if depth == 1 {
				start = j + 1
			}
		case '}', ')', ']':
			depth--
			if depth == 0 {
				return append(out, key(s[start:j])...)
			}
		case ',':
			if depth == 1 {
				out = append(out, key(s[start:j])...)
				start = j + 1
			}
		}
	}
	return out
}

// key is a literal entry's key: "a: b" or the shorthand "a".
func key(entry string) []string {
	entry = strings.TrimSpace(entry)
	if entry == "" {
		return nil
	}
	k, _, _ := strings.Cut(entry, ":")
	return []string{strings.TrimSpace(k)}
}

func keys(m map[string]reflect.Type) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
