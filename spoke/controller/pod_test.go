package controller

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
)

func TestWaitingSubnet(t *testing.T) {
	now := metav1.Now()
	pod := func(node string, ann map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", Annotations: ann},
			Spec: corev1.PodSpec{NodeName: node}}
	}
	cases := []struct {
		name string
		pod  *corev1.Pod
		want []string
	}{
		{"annotation names the subnet", pod("n1", map[string]string{iaasv1.AnnotationSubnet: "late"}), []string{"late"}},
		{"eth0 form of the annotation", pod("n1", map[string]string{"eth0.iaas.yusur.io/subnet": "late"}), []string{"late"}},
		{"no annotation waits for the default", pod("n1", nil), []string{"ovn-default"}},
		{"empty annotation waits for the default", pod("n1", map[string]string{iaasv1.AnnotationSubnet: ""}), []string{"ovn-default"}},
		{"allocated", pod("n1", map[string]string{iaasv1.AnnotationSubnet: "late", iaasv1.AnnotationAllocation: "{}"}), nil},
		{"not scheduled", pod("", map[string]string{iaasv1.AnnotationSubnet: "late"}), nil},
		{"host network", func() *corev1.Pod {
			p := pod("n1", map[string]string{iaasv1.AnnotationSubnet: "late"})
			p.Spec.HostNetwork = true
			return p
		}(), nil},
		{"finished", func() *corev1.Pod {
			p := pod("n1", map[string]string{iaasv1.AnnotationSubnet: "late"})
			p.Status.Phase = corev1.PodSucceeded
			return p
		}(), nil},
		{"being deleted", func() *corev1.Pod {
			p := pod("n1", map[string]string{iaasv1.AnnotationSubnet: "late"})
			p.DeletionTimestamp = &now
			return p
		}(), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := waitingSubnet(tc.pod, "ovn-default"); !slices.Equal(got, tc.want) {
				t.Fatalf("waitingSubnet = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWaitingVnicIP(t *testing.T) {
	pod := func(ann map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", Annotations: ann},
			Spec: corev1.PodSpec{NodeName: "n1"}}
	}
	cases := []struct {
		name string
		pod  *corev1.Pod
		want []string
	}{
		{"names a vnicip", pod(map[string]string{iaasv1.AnnotationVnicIp: "vnicip-1"}), []string{"vnicip-1"}},
		{"eth0 form", pod(map[string]string{"eth0.iaas.yusur.io/vnicip": " vnicip-1 "}), []string{"vnicip-1"}},
		{"static address is no vnicip", pod(map[string]string{iaasv1.AnnotationVnicIp: "10.16.0.9"}), nil},
		{"dual-stack static address", pod(map[string]string{iaasv1.AnnotationVnicIp: "10.16.0.9,fd00::9"}), nil},
		{"no annotation", pod(nil), nil},
		{"allocated", pod(map[string]string{iaasv1.AnnotationVnicIp: "vnicip-1", iaasv1.AnnotationAllocation: "{}"}), nil},
		{"being deleted", func() *corev1.Pod {
			p := pod(map[string]string{iaasv1.AnnotationVnicIp: "vnicip-1"})
			now := metav1.Now()
			p.DeletionTimestamp = &now
			return p
		}(), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := waitingVnicIP(tc.pod); !slices.Equal(got, tc.want) {
				t.Fatalf("waitingVnicIP = %v, want %v", got, tc.want)
			}
		})
	}
}
