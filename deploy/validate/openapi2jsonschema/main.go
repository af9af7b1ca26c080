// Command openapi2jsonschema turns Kubernetes' OpenAPI v2 document (api/openapi-spec/swagger.json
// of the k8s.io/kubernetes module) into the "standalone strict" JSON schemas kubeconform reads:
// one file per kind, named KIND-GROUP-VERSION.json as kubeconform's {{.ResourceKind}}{{.KindSuffix}}
// expects, every $ref inlined, and additionalProperties false on every object with properties
// (unknown fields fail), as kubeconform's own openapi2jsonschema does with --strict. Given
// CustomResourceDefinition files (.yaml) instead, it does the same with each served version's
// openAPIV3Schema (fields under x-kubernetes-preserve-unknown-fields stay open).
//
//	go run ./openapi2jsonschema OUTDIR swagger.json|crd.yaml...
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

type gvk struct{ Group, Version, Kind string }

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: openapi2jsonschema OUTDIR swagger.json|crd.yaml...")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail(err)
	}
	n := 0
	for _, f := range os.Args[2:] {
		b, err := os.ReadFile(f)
		if err != nil {
			fail(err)
		}
		if strings.HasSuffix(f, ".yaml") {
			n += crd(dir, b)
		} else {
			n += openapi(dir, b)
		}
	}
	fmt.Println(n, "schemas written to", dir)
}

func openapi(dir string, b []byte) int {
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		fail(err)
	}
	n := 0
	for name, def := range doc.Definitions {
		raw, _ := json.Marshal(def["x-kubernetes-group-version-kind"])
		var kinds []gvk
		json.Unmarshal(raw, &kinds)
		for _, k := range kinds {
			write(dir, k, expand(doc.Definitions, def, map[string]bool{name: true}))
			n++
		}
	}
	return n
}

func crd(dir string, b []byte) int {
	var c struct {
		Spec struct {
			Group    string
			Names    struct{ Kind string }
			Versions []struct {
				Name   string
				Served bool
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		fail(err)
	}
	n := 0
	for _, v := range c.Spec.Versions {
		if v.Served && v.Schema.OpenAPIV3Schema != nil {
			write(dir, gvk{c.Spec.Group, v.Name, c.Spec.Names.Kind}, expand(nil, v.Schema.OpenAPIV3Schema, map[string]bool{}))
			n++
		}
	}
	return n
}

// write stores one kind's schema, its apiVersion and kind fixed, where kubeconform looks.
func write(dir string, k gvk, schema any) {
	if m, ok := schema.(map[string]any); ok {
		props, _ := m["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
			m["properties"] = props
		}
		apiVersion := k.Version
		if k.Group != "" {
			apiVersion = k.Group + "/" + k.Version
		}
		props["apiVersion"] = map[string]any{"type": "string", "enum": []any{apiVersion}}
		props["kind"] = map[string]any{"type": "string", "enum": []any{k.Kind}}
		if _, ok := props["metadata"]; !ok {
			props["metadata"] = map[string]any{"type": "object"}
		}
	}
	suffix := "-" + strings.ToLower(k.Version)
	if k.Group != "" {
		suffix = "-" + strings.ToLower(strings.Split(k.Group, ".")[0]) + suffix
	}
	out, err := json.MarshalIndent(schema, "", "  ")
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(dir, strings.ToLower(k.Kind)+suffix+".json"), out, 0o644); err != nil {
		fail(err)
	}
}

// expand returns s with every $ref replaced by its definition (a definition already being
// expanded on this path, i.e. a recursive type, becomes "any"), strict objects, and
// Kubernetes' int-or-string and quantity types as JSON Schema unions.
func expand(defs map[string]map[string]any, s any, onPath map[string]bool) any {
	switch v := s.(type) {
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = expand(defs, x, onPath)
		}
		return out
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/definitions/")
			def, found := defs[name]
			if !found || onPath[name] {
				return map[string]any{}
			}
			onPath[name] = true
			defer delete(onPath, name)
			return expand(defs, def, onPath)
		}
		out := map[string]any{}
		for k, x := range v {
			if k == "x-kubernetes-group-version-kind" || k == "description" {
				continue
			}
			out[k] = expand(defs, x, onPath)
		}
		switch {
		case v["format"] == "int-or-string" || v["x-kubernetes-int-or-string"] == true:
			delete(out, "type")
			delete(out, "format")
			out["oneOf"] = []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}
		case out["type"] == "string" && isQuantity(v):
			delete(out, "type")
			out["oneOf"] = []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}
		}
		if _, has := out["properties"]; has && v["x-kubernetes-preserve-unknown-fields"] != true {
			if _, set := out["additionalProperties"]; !set {
				out["additionalProperties"] = false
			}
		}
		return out
	}
	return s
}

// isQuantity recognizes resource.Quantity's definition by its description.
func isQuantity(v map[string]any) bool {
	d, _ := v["description"].(string)
	return strings.HasPrefix(d, "Quantity is a fixed-point representation of a number.")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "openapi2jsonschema:", err)
	os.Exit(1)
}
