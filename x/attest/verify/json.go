package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// decodeObject decodes one JSON object into its members. Unlike json.Unmarshal into a struct it
// matches keys exactly (encoding/json folds case, so "ISS" would fill an "iss" field) and rejects
// duplicate keys, which different JSON parsers resolve differently; both would let two verifiers
// disagree about what a signed token says.
func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	out := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		out[key] = raw
	}
	if _, err := dec.Token(); err != nil { // closing '}'
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON object")
	}
	return out, nil
}

// isNull reports whether a member is JSON null; claims that are null count as absent.
func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// getString returns the string member key. present is false when the key is absent or null.
func getString(obj map[string]json.RawMessage, key string) (s string, present bool, err error) {
	raw, ok := obj[key]
	if !ok || isNull(raw) {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, fmt.Errorf("%s is not a string", key)
	}
	return s, true, nil
}

// getBool returns the boolean member key. present is false when the key is absent or null.
func getBool(obj map[string]json.RawMessage, key string) (b bool, present bool, err error) {
	raw, ok := obj[key]
	if !ok || isNull(raw) {
		return false, false, nil
	}
	switch string(bytes.TrimSpace(raw)) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, true, fmt.Errorf("%s is not a boolean", key)
}

// getInt returns the integer member key. NumericDate may in theory carry fractions; NRAS never
// sends them and accepting them would need floating point, so anything but a plain integer is
// malformed.
func getInt(obj map[string]json.RawMessage, key string) (v int64, present bool, err error) {
	raw, ok := obj[key]
	if !ok || isNull(raw) {
		return 0, false, nil
	}
	v, err = strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil {
		return 0, true, fmt.Errorf("%s is not an integer", key)
	}
	return v, true, nil
}
