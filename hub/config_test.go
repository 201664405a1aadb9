package hub

import (
	"flag"
	"strings"
	"testing"
	"time"
)

func TestConfigFlagsAndValidate(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	cfg.BindFlags(fs)
	if err := fs.Parse([]string{"--workers", "3", "--status-batch-delay", "2s", "--feedback-scrape-type", "Watch", "--kube-api-qps", "12.5", "--transit-prefix-length", "27"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Workers != 3 || cfg.StatusBatchDelay != 2*time.Second || cfg.FeedbackScrapeType != "Watch" || cfg.QPS != 12.5 || cfg.TransitPrefixLength != 27 {
		t.Fatalf("flags not applied: %+v", cfg)
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.FeedbackScrapeType = "Push" },
		func(c *Config) { c.TransitCIDR = "169.254.0.0" },
		func(c *Config) { c.Workers = 0 },
		func(c *Config) { c.StatusBatchDelay = -time.Second },
		func(c *Config) { c.LeaderElectionNamespace = "" },
	} {
		c := DefaultConfig()
		bad(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--") {
			t.Errorf("%+v: Validate = %v, want an error naming the flag", c, err)
		}
	}
}
