// Command validate parses deploy/*.yaml strictly into the Kubernetes API types, and kind.yaml
// into kind's (unknown or mistyped fields fail). A module of its own, so that hlwasm does not
// depend on k8s.io/api (deploy/kubeconform.sh runs it after kubeconform):
//
//	cd deploy/validate && go run . ../*.yaml

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	kindv1alpha4 "sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"
)

func main() {
	bad := 0
	for _, f := range os.Args[1:] {
		b, _ := os.ReadFile(f)
		for i, doc := range bytes.Split(b, []byte("\n---")) {
			if len(strings.TrimSpace(string(doc))) == 0 {
				continue
			}
			var tm struct {
				Kind, APIVersion string
				Spec             struct {
					Template struct {
						Spec json.RawMessage
					}
				}
			}
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				fmt.Println(f, i, err)
				bad++
				continue
			}
			if tm.APIVersion == "serving.knative.dev/v1" {
				// No Knative types here: check the pod spec, minus Knative's own fields.
				var spec map[string]any
				json.Unmarshal(tm.Spec.Template.Spec, &spec)
				delete(spec, "containerConcurrency")
				delete(spec, "timeoutSeconds")
				b, _ := json.Marshal(spec)
				if err := yaml.UnmarshalStrict(b, &corev1.PodSpec{}); err != nil {
					fmt.Println(f, i, "Knative Service pod spec ERROR", err)
					bad++
					continue
				}
				fmt.Println(f, i, "Knative Service: pod spec ok (the whole Service: deploy/kubeconform.sh)")
				continue
			}
			var obj any
			switch tm.Kind {
			case "Namespace":
				obj = &corev1.Namespace{}
			case "Secret":
				obj = &corev1.Secret{}
			case "PersistentVolumeClaim":
				obj = &corev1.PersistentVolumeClaim{}
			case "Deployment":
				obj = &appsv1.Deployment{}
			case "Service":
				obj = &corev1.Service{}
			case "HorizontalPodAutoscaler":
				obj = &autoscalingv2.HorizontalPodAutoscaler{}
			case "Cluster": // kind's configuration (kind itself decodes it strictly too)
				obj = &kindv1alpha4.Cluster{}
			default:
				fmt.Println(f, i, "unknown kind", tm.Kind)
				bad++
				continue
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				fmt.Println(f, i, tm.Kind, "ERROR", err)
				bad++
				continue
			}
			fmt.Println(f, i, tm.Kind, "ok")
		}
	}
	os.Exit(bad)
}
