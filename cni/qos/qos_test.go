package qos

import (
	"strings"
	"testing"
)

func TestFromAnnotations(t *testing.T) {
	cases := []struct {
		name   string
		ann    map[string]string
		ifName string
		want   Limits
		err    string
	}{
		{name: "none", ann: nil, ifName: "eth0"},
		{name: "primary", ifName: "eth0",
			ann:  map[string]string{"cni.iaas.yusur.io/ingress_rate": "20", "cni.iaas.yusur.io/egress_rate": "50"},
			want: Limits{Ingress: 20, Egress: 50}},
		{name: "secondary uses its own keys", ifName: "eth1",
			ann:  map[string]string{"cni.iaas.yusur.io/ingress_rate": "20", "eth1.iaas.yusur.io/egress_rate": "7"},
			want: Limits{Egress: 7}},
		{name: "zero means unlimited", ifName: "eth0",
			ann: map[string]string{"cni.iaas.yusur.io/ingress_rate": "0"}},
		{name: "malformed names the key", ifName: "eth0",
			ann: map[string]string{"cni.iaas.yusur.io/egress_rate": "10M"},
			err: "cni.iaas.yusur.io/egress_rate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromAnnotations(tc.ann, tc.ifName)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("FromAnnotations = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// The seed's example: egress 10 Mbit/s -> ingress_policing_rate=10000 burst=10000;
// ingress 4 Mbit/s -> queue max-rate=4000000.
func TestToOVSMatchesTheSpecification(t *testing.T) {
	got := Limits{Ingress: 4, Egress: 10}.ToOVS()
	want := OVS{PolicingRate: 10000, PolicingBurst: 10000, MaxRate: 4000000, Burst: 400000}
	if got != want {
		t.Fatalf("ToOVS = %+v, want %+v", got, want)
	}
	if (Limits{}).ToOVS() != (OVS{}) {
		t.Fatalf("no limits must give an empty configuration")
	}
	if back := FromOVS(got); back != (Limits{Ingress: 4, Egress: 10}) {
		t.Fatalf("FromOVS(ToOVS) = %+v", back)
	}
	qc := got.QueueConfig()
	if qc["max-rate"] != "4000000" || qc["burst"] != "400000" {
		t.Fatalf("QueueConfig = %v", qc)
	}
	var back OVS
	back.FromQueueConfig(qc)
	if back.MaxRate != 4000000 || back.Burst != 400000 {
		t.Fatalf("FromQueueConfig = %+v", back)
	}
	back.FromQueueConfig(map[string]string{"max-rate": "x"})
	if back.MaxRate != 0 || back.Burst != 0 {
		t.Fatalf("malformed queue config read as %+v", back)
	}
}
