#!/bin/sh
# Validates deploy/*.yaml with kubeconform in strict mode (unknown fields fail) against schemas
# made here from Kubernetes' own OpenAPI document (api/openapi-spec/swagger.json of the
# k8s.io/kubernetes module, the version matching deploy/validate's k8s.io/api) and Knative
# Serving's CRD (config/core/300-resources/service.yaml of knative.dev/serving): kubeconform's
# default schema registry is a web site, out of reach here. Then deploy/validate's strict parse
# into the Go types (kind's Cluster config included). Needs only Go and the module proxy.
#
#   sh deploy/kubeconform.sh
set -eu
K8S=v1.34.1 KNATIVE=v0.51.0 KUBECONFORM=v0.8.0
deploy=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
moddir() { (cd "$tmp" && go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'); }
k8s=$(moddir k8s.io/kubernetes@$K8S)
knative=$(moddir knative.dev/serving@$KNATIVE)
cd "$deploy/validate"
go run ./openapi2jsonschema "$tmp/schemas" "$k8s/api/openapi-spec/swagger.json" \
	"$knative/config/core/300-resources/service.yaml"
go run github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM -strict -summary \
	-schema-location "$tmp/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
	"$deploy/hlwasm.yaml" "$deploy/hpa-calls.yaml" "$deploy/knative.yaml"
go run . "$deploy"/*.yaml
