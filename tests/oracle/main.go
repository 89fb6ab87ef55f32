// Command k8s-yaml2json is a reference oracle: it shows what Kubernetes
// client tooling (kubectl apply/create -f, client-go's YAMLOrJSONDecoder)
// reads from a multi-document YAML stream.
//
// It reads a stream from stdin, splits it into documents exactly like
// k8s.io/apimachinery/pkg/util/yaml.YAMLReader (re-implemented here because
// Debian does not package apimachinery), converts every document with
// sigs.k8s.io/yaml.YAMLToJSON and prints one compact JSON line per document:
//
//	{"a":420,"b":true}   the converted document (keys sorted, as json.Marshal)
//	null                 a document with no content (only blank lines/comments)
//	{"error":"..."}      the document could not be converted
//
// Documents that are completely empty (two separators in a row, or a leading
// separator) are skipped by the reader, as in apimachinery; kubectl
// additionally ignores documents that convert to null.
//
// Like yaml.NewYAMLOrJSONDecoder(r, 4096) (Kubernetes >= 1.33), a stream
// whose first non-whitespace byte (within the first 4096 bytes) is '{' is
// first read as a stream of JSON values; each value is printed re-encoded
// with sorted keys (numbers are preserved verbatim). If JSON decoding fails
// while at most one value has been decoded, the rest of the input is read as
// YAML instead (after more than one value, the failure is fatal).
//
// Flags:
//
//	-strict  use YAMLToJSONStrict (duplicate keys are an error)
//	-raw     print each split document as a JSON string instead of converting
//
// Exit status: 0 when the stream could be split (even if some documents
// printed {"error":...}); 1 when the stream itself is rejected (for instance
// "invalid Yaml document separator", which makes kubectl fail as a whole);
// 2 on usage errors.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// jsonSniffSize is the buffer size kubectl passes to NewYAMLOrJSONDecoder.
const jsonSniffSize = 4096

const separator = "---"

// lineReader mirrors apimachinery's LineReader: it returns one line with the
// end-of-line bytes ("\n" or "\r\n") replaced by a single '\n'.
type lineReader struct {
	r *bufio.Reader
}

func (l *lineReader) read() ([]byte, error) {
	var (
		isPrefix = true
		err      error
		line     []byte
		buf      bytes.Buffer
	)
	for isPrefix && err == nil {
		line, isPrefix, err = l.r.ReadLine()
		buf.Write(line)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), err
}

type separatorError struct{ rest string }

func (e separatorError) Error() string {
	return "invalid Yaml document separator: " + e.rest
}

// yamlReader mirrors apimachinery's YAMLReader.Read.
type yamlReader struct {
	lines *lineReader
}

func (y *yamlReader) read() ([]byte, error) {
	var buf bytes.Buffer
	for {
		line, err := y.lines.read()
		if err != nil && err != io.EOF {
			return nil, err
		}
		if bytes.HasPrefix(line, []byte(separator)) {
			trimmed := strings.TrimSpace(string(line[len(separator):]))
			// Only whitespace and comments may follow the separator.
			if len(trimmed) > 0 && trimmed[0] != '#' {
				return nil, separatorError{rest: trimmed}
			}
			if buf.Len() != 0 {
				return buf.Bytes(), nil
			}
			if err == io.EOF {
				return nil, err
			}
		}
		if err == io.EOF {
			if buf.Len() != 0 {
				return buf.Bytes(), nil
			}
			return nil, err
		}
		buf.Write(line)
	}
}

type emitter struct {
	w *bufio.Writer
}

func (e emitter) line(b []byte) {
	e.w.Write(b)
	e.w.WriteByte('\n')
}

func (e emitter) err(err error) {
	b, _ := json.Marshal(map[string]string{"error": err.Error()})
	e.line(b)
}

func hasJSONPrefix(buf []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeftFunc(buf, unicode.IsSpace), []byte("{"))
}

// skipWhitespace mirrors YAMLOrJSONDecoder.consumeWhitespace: it drops
// leading whitespace up to and including the first newline. ok is false when
// nothing but whitespace (or an invalid UTF-8 sequence) is left.
func skipWhitespace(b []byte) (rest []byte, ok bool) {
	i := 0
	for i < len(b) {
		r, sz := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError {
			return nil, false
		}
		if !unicode.IsSpace(r) {
			return b[i:], true
		}
		if r == '\n' {
			return b[i+sz:], true
		}
		i += sz
	}
	return nil, false
}

// runJSON mirrors the JSON side of YAMLOrJSONDecoder (Kubernetes >= 1.33):
// values are decoded as a JSON stream; if decoding fails while at most one
// value has been decoded, the rest of the input (after the last good value)
// is read as YAML instead, and the JSON error is reported for the first
// failing YAML document.
func runJSON(data []byte, out emitter, opts options) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	count := 0
	var consumed int64
	for {
		var rm json.RawMessage
		err := dec.Decode(&rm)
		if err == io.EOF {
			return 0
		}
		if err != nil {
			if count > 1 {
				out.err(err)
				return 1
			}
			rest, ok := skipWhitespace(data[consumed:])
			if !ok {
				out.err(err)
				return 1
			}
			return runYAML(rest, out, opts, err)
		}
		count++
		consumed = dec.InputOffset()
		if opts.raw {
			b, _ := json.Marshal(string(rm))
			out.line(b)
			continue
		}
		var v interface{}
		d := json.NewDecoder(bytes.NewReader(rm))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			out.err(err)
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			out.err(err)
			continue
		}
		out.line(b)
	}
}

// runYAML splits data like YAMLToJSONDecoder and converts each document.
// firstErr, when set, replaces the error message of the first document that
// fails to convert (the JSON error, as YAMLOrJSONDecoder reports it).
func runYAML(data []byte, out emitter, opts options, firstErr error) int {
	yr := &yamlReader{lines: &lineReader{r: bufio.NewReader(bytes.NewReader(data))}}
	convert := yaml.YAMLToJSON
	if opts.strict {
		convert = yaml.YAMLToJSONStrict
	}
	for {
		doc, err := yr.read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0
			}
			if firstErr != nil {
				err = firstErr
			}
			out.err(err)
			return 1
		}
		if opts.raw {
			b, _ := json.Marshal(string(doc))
			out.line(b)
			continue
		}
		j, err := convert(doc)
		if err != nil {
			if firstErr != nil {
				err = firstErr
			}
			out.err(err)
		} else {
			out.line(j)
		}
		firstErr = nil
	}
}

type options struct {
	strict bool
	raw    bool
}

func main() {
	strict := flag.Bool("strict", false, "use YAMLToJSONStrict (duplicate map keys are an error)")
	raw := flag.Bool("raw", false, "print each split document as a JSON string, without converting it")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(),
			"usage: %s [-strict] [-raw] < stream.yaml\n"+
				"Prints one JSON line per document, as Kubernetes client tooling reads it.\n",
			os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}

	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8s-yaml2json: reading stdin:", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	out := emitter{w: w}
	opts := options{strict: *strict, raw: *raw}

	head := data
	if len(head) > jsonSniffSize {
		head = head[:jsonSniffSize]
	}
	var code int
	if hasJSONPrefix(head) {
		code = runJSON(data, out, opts)
	} else {
		code = runYAML(data, out, opts, nil)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "k8s-yaml2json:", err)
		os.Exit(1)
	}
	os.Exit(code)
}
