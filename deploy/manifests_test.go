// Package deploy holds the container image and the Kubernetes manifests
// of the scoring service; this test checks the manifests against the
// Kubernetes API's own types, offline: every document is decoded
// strictly (an unknown or misspelt field, or a value of the wrong type,
// fails) into the type of its apiVersion and kind, and the parts that
// must agree with each other (probes, ports, selectors, the autoscaler's
// target, volumes) are checked.
package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// kustomization is the part of kustomize's file format the manifests use.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Patches    []struct {
		Path string `json:"path"`
	} `json:"patches"`
}

type objects struct {
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
	pvcs        []*corev1.PersistentVolumeClaim
}

// load decodes a kustomization's resources (folders recursively) and its
// patches, strictly.
func load(t *testing.T, dir string, o *objects, patch bool) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(raw, &k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("%s/kustomization.yaml: %s %s", dir, k.APIVersion, k.Kind)
	}
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		if st, err := os.Stat(p); err != nil {
			t.Errorf("%s: resource %s: %v", dir, r, err)
		} else if st.IsDir() {
			load(t, p, o, patch)
		} else {
			decodeFile(t, p, o)
		}
	}
	for _, p := range k.Patches {
		var po objects
		decodeFile(t, filepath.Join(dir, p.Path), &po)
		if len(po.deployments) != 1 {
			t.Errorf("%s: patch %s is not one Deployment", dir, p.Path)
			continue
		}
		merge(t, o, po.deployments[0])
	}
}

// merge applies a Deployment patch as kustomize's strategic merge does
// for the fields the patches set: the container named alike, replaced
// field by field.
func merge(t *testing.T, o *objects, p *appsv1.Deployment) {
	for _, d := range o.deployments {
		if d.Name != p.Name {
			continue
		}
		for _, pc := range p.Spec.Template.Spec.Containers {
			i := slices.IndexFunc(d.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == pc.Name })
			if i < 0 {
				t.Errorf("patch names container %s, which %s does not have", pc.Name, d.Name)
				continue
			}
			c := &d.Spec.Template.Spec.Containers[i]
			if pc.Image != "" {
				c.Image = pc.Image
			}
			if pc.Args != nil {
				c.Args = pc.Args
			}
			for k, v := range pc.Resources.Requests {
				c.Resources.Requests[k] = v
			}
			for k, v := range pc.Resources.Limits {
				c.Resources.Limits[k] = v
			}
		}
		d.Spec.Template.Spec.Tolerations = append(d.Spec.Template.Spec.Tolerations, p.Spec.Template.Spec.Tolerations...)
		return
	}
	t.Errorf("patch for Deployment %s, which is not there", p.Name)
}

func decodeFile(t *testing.T, path string, o *objects) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, doc := range bytes.Split(raw, []byte("\n---")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("%s, document %d: %v", path, i+1, err)
		}
		var obj any
		switch meta.APIVersion + " " + meta.Kind {
		case "apps/v1 Deployment":
			d := &appsv1.Deployment{}
			o.deployments, obj = append(o.deployments, d), d
		case "v1 Service":
			s := &corev1.Service{}
			o.services, obj = append(o.services, s), s
		case "autoscaling/v2 HorizontalPodAutoscaler":
			h := &autoscalingv2.HorizontalPodAutoscaler{}
			o.hpas, obj = append(o.hpas, h), h
		case "v1 PersistentVolumeClaim":
			p := &corev1.PersistentVolumeClaim{}
			o.pvcs, obj = append(o.pvcs, p), p
		default:
			t.Errorf("%s, document %d: %s %s is not a kind these manifests should hold", path, i+1, meta.APIVersion, meta.Kind)
			continue
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Errorf("%s, document %d (%s): %v", path, i+1, meta.Kind, err)
		}
	}
}

// TestManifests checks the CPU deployment and its GPU variant.
func TestManifests(t *testing.T) {
	for _, dir := range []string{"k8s", "k8s/gpu"} {
		t.Run(dir, func(t *testing.T) {
			var o objects
			load(t, dir, &o, false)
			if len(o.deployments) != 1 || len(o.services) != 1 || len(o.hpas) != 1 || len(o.pvcs) != 1 {
				t.Fatalf("%d deployments, %d services, %d autoscalers, %d claims; want one each",
					len(o.deployments), len(o.services), len(o.hpas), len(o.pvcs))
			}
			d, svc, hpa, pvc := o.deployments[0], o.services[0], o.hpas[0], o.pvcs[0]
			pod := d.Spec.Template
			for k, v := range d.Spec.Selector.MatchLabels {
				if pod.Labels[k] != v || svc.Spec.Selector[k] != v {
					t.Errorf("selector %s=%s: pods have %q, the service selects %q", k, v, pod.Labels[k], svc.Spec.Selector[k])
				}
			}
			if len(pod.Spec.Containers) != 1 {
				t.Fatalf("%d containers", len(pod.Spec.Containers))
			}
			c := pod.Spec.Containers[0]
			if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8090 {
				t.Errorf("container ports %+v, want http on 8090 (tessera serve --addr 0.0.0.0:8090)", c.Ports)
			}
			if svc.Spec.Ports[0].TargetPort.String() != "http" {
				t.Errorf("service targets port %s", svc.Spec.Ports[0].TargetPort.String())
			}
			for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
				want := map[string]string{"readiness": "/readyz", "liveness": "/healthz", "startup": "/readyz"}[name]
				if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != want || p.HTTPGet.Port.String() != "http" {
					t.Errorf("%s probe %+v, want GET %s on port http", name, p, want)
				}
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("resources %+v: want CPU and memory requests and a memory limit", c.Resources)
			}
			if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != d.Name || hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 1 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
				t.Errorf("autoscaler %+v", hpa.Spec)
			}
			if grace := d.Spec.Template.Spec.TerminationGracePeriodSeconds; grace == nil || *grace < 35 {
				t.Error("terminationGracePeriodSeconds must outlast the 30 s drain")
			}
			// Every --bank and --weights path lies on the mounted claim.
			mounts := map[string]string{}
			for _, m := range c.VolumeMounts {
				mounts[m.Name] = m.MountPath
			}
			for _, v := range pod.Spec.Volumes {
				if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != pvc.Name {
					t.Errorf("volume %s is not the claim %s", v.Name, pvc.Name)
				}
				if _, ok := mounts[v.Name]; !ok {
					t.Errorf("volume %s is not mounted", v.Name)
				}
			}
			for _, a := range c.Args {
				for _, flag := range []string{"--bank=", "--weights="} {
					if v, ok := strings.CutPrefix(a, flag); ok {
						if _, path, found := strings.Cut(v, "="); found {
							v = path
						}
						if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return strings.HasPrefix(v, m.MountPath+"/") }) {
							t.Errorf("%s%s is on no mounted volume", flag, v)
						}
					}
				}
			}
			if strings.HasSuffix(dir, "gpu") {
				if q := c.Resources.Limits["nvidia.com/gpu"]; q.Value() != 1 || c.Image != "tessera:gpu" {
					t.Errorf("GPU variant: image %s, nvidia.com/gpu %s", c.Image, q.String())
				}
			}
		})
	}
}
