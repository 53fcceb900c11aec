//go:build js && wasm

package main

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"syscall/js"
	"unsafe"

	"github.com/tessera/tessera/wasm/protocol"
)

// The protocol's structs (wasm/protocol) cross to and from JavaScript by
// their js tags: decode reads a request's fields off a js.Value, checking
// each one's type (a message may come from any page script), and encode
// makes a reply's plain object, typed arrays for []byte and []float32.

// decode fills the struct dst points to from v; absent (undefined or
// null) fields keep their zero value.
func decode(v js.Value, dst any) error {
	return decodeValue(v, reflect.ValueOf(dst).Elem(), "args")
}

func decodeValue(v js.Value, dst reflect.Value, path string) error {
	if v.IsUndefined() || v.IsNull() {
		return nil
	}
	switch dst.Kind() {
	case reflect.Pointer:
		p := reflect.New(dst.Type().Elem())
		if err := decodeValue(v, p.Elem(), path); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	case reflect.Struct:
		if dst.Type() == reflect.TypeFor[protocol.Float32Array]() {
			if !v.InstanceOf(js.Global().Get("Float32Array")) {
				return fmt.Errorf("%s: want a Float32Array, not %s", path, v.Type())
			}
			dst.Set(reflect.ValueOf(protocol.Float32Array{Len: v.Length(), Read: func(f []float32) { copyFloat32s(f, v) }}))
			return nil
		}
		if v.Type() != js.TypeObject {
			return fmt.Errorf("%s: want an object, not %s", path, v.Type())
		}
		return eachField(dst, func(name string, f reflect.Value, _ bool) error {
			return decodeValue(v.Get(name), f, path+"."+name)
		})
	case reflect.String:
		if v.Type() != js.TypeString {
			return fmt.Errorf("%s: want a string, not %s", path, v.Type())
		}
		dst.SetString(v.String())
	case reflect.Bool:
		if v.Type() != js.TypeBoolean {
			return fmt.Errorf("%s: want true or false, not %s", path, v.Type())
		}
		dst.SetBool(v.Bool())
	case reflect.Float64:
		if v.Type() != js.TypeNumber {
			return fmt.Errorf("%s: want a number, not %s", path, v.Type())
		}
		dst.SetFloat(v.Float())
	case reflect.Int:
		if v.Type() != js.TypeNumber {
			return fmt.Errorf("%s: want a whole number, not %s", path, v.Type())
		}
		f := v.Float()
		if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return fmt.Errorf("%s: %g is not a whole number", path, f)
		}
		dst.SetInt(int64(f))
	case reflect.Slice:
		switch dst.Type().Elem().Kind() {
		case reflect.Uint8:
			b, err := bytesOf(v)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			dst.SetBytes(b)
			return nil
		case reflect.Float32:
			f, err := float32sOf(v)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			dst.Set(reflect.ValueOf(f))
			return nil
		}
		if !v.InstanceOf(js.Global().Get("Array")) {
			return fmt.Errorf("%s: want an array", path)
		}
		n := v.Length()
		s := reflect.MakeSlice(dst.Type(), n, n)
		for i := 0; i < n; i++ {
			if err := decodeValue(v.Index(i), s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		dst.Set(s)
	default:
		return fmt.Errorf("%s: the protocol has no %s fields", path, dst.Type())
	}
	return nil
}

// eachField calls f with each tagged field of struct v, those of embedded
// structs in line, as JSON would.
func eachField(v reflect.Value, f func(name string, field reflect.Value, transfer bool) error) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			if err := eachField(v.Field(i), f); err != nil {
				return err
			}
			continue
		}
		tag, ok := sf.Tag.Lookup("js")
		if !ok {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if err := f(name, v.Field(i), opts == "transfer"); err != nil {
			return err
		}
	}
	return nil
}

// encode turns a reply into what postMessage sends, adding the buffers of
// fields tagged "transfer" to transfer.
func encode(x any, transfer *[]any) any {
	return encodeValue(reflect.ValueOf(x), false, transfer)
}

func encodeValue(v reflect.Value, move bool, transfer *[]any) any {
	switch v.Kind() {
	case reflect.Invalid:
		return nil
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return encodeValue(v.Elem(), move, transfer)
	case reflect.Struct:
		m := map[string]any{}
		eachField(v, func(name string, f reflect.Value, tr bool) error {
			if f.Kind() == reflect.Pointer && f.IsNil() {
				return nil
			}
			m[name] = encodeValue(f, tr, transfer)
			return nil
		})
		return m
	case reflect.Slice:
		var a js.Value
		switch v.Type().Elem().Kind() {
		case reflect.Uint8:
			a = uint8Array(v.Bytes())
		case reflect.Float32:
			a = float32Array(v.Interface().([]float32))
		default:
			list := make([]any, v.Len())
			for i := range list {
				list[i] = encodeValue(v.Index(i), false, transfer)
			}
			return list
		}
		if move {
			*transfer = append(*transfer, a.Get("buffer"))
		}
		return a
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int:
		return int(v.Int())
	case reflect.Float64:
		return v.Float()
	}
	panic(fmt.Sprintf("protocol: cannot encode %s", v.Type()))
}

// bytesOf copies an ArrayBuffer or typed array into Go.
func bytesOf(v js.Value) ([]byte, error) {
	u8 := js.Global().Get("Uint8Array")
	switch {
	case v.InstanceOf(u8):
	case v.InstanceOf(js.Global().Get("ArrayBuffer")):
		v = u8.New(v)
	case v.Type() == js.TypeObject && v.Get("buffer").InstanceOf(js.Global().Get("ArrayBuffer")):
		v = u8.New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
	default:
		return nil, fmt.Errorf("want an ArrayBuffer or a typed array, not %s", v.Type())
	}
	b := make([]byte, v.Length())
	js.CopyBytesToGo(b, v)
	return b, nil
}

// float32sOf copies a Float32Array into Go.
func float32sOf(v js.Value) ([]float32, error) {
	if !v.InstanceOf(js.Global().Get("Float32Array")) {
		return nil, fmt.Errorf("want a Float32Array, not %s", v.Type())
	}
	f := make([]float32, v.Length())
	copyFloat32s(f, v)
	return f, nil
}

// copyFloat32s copies Float32Array v, of len(f) values, into f.
func copyFloat32s(f []float32, v js.Value) {
	if n := len(f); n > 0 {
		raw := unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*n)
		js.CopyBytesToGo(raw, js.Global().Get("Uint8Array").New(v.Get("buffer"), v.Get("byteOffset"), 4*n))
	}
}

func uint8Array(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

func float32Array(f []float32) js.Value {
	if len(f) == 0 {
		return js.Global().Get("Float32Array").New(0)
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
	return js.Global().Get("Float32Array").New(uint8Array(raw).Get("buffer"))
}
