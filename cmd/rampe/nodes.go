package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rampe/rampe/platform/config"
	"github.com/rampe/rampe/platform/nodes"
)

// sharedSettings are the settings the nodes of one deployment compare at
// start (README, Scale-out, lists them with the reason for each). Refused:
// a node with another value would serve other pages or feeds, sign what the
// others cannot check, or miss the others' tasks. Warned: a node with
// another value works, but answers or decides differently from the others.
// Secrets are compared by fingerprint.
func sharedSettings(cfg *config.Config, secret string) []nodes.Setting {
	feedsDir, storage := "", ""
	if cfg.FeedsStorage != nil {
		storage = cfg.FeedsStorage.String()
	} else if abs, err := filepath.Abs(cfg.FeedsDir); err == nil {
		feedsDir = abs
	}
	indexNow := "derived from security.secret_key"
	if cfg.SEOIndexNowKey != "" {
		indexNow = nodes.Fingerprint(cfg.SEOIndexNowKey)
	}
	refuse := []nodes.Setting{
		{Key: "public.base_url", Value: cfg.PublicBaseURL},
		{Key: "security.secret_key", Value: nodes.Fingerprint(secret)},
		{Key: "feeds.storage_url", Value: storage},
		{Key: "redis.url", Value: redisWithoutPassword(cfg.RedisURL)},
	}
	warn := []nodes.Setting{
		{Key: "feeds.dir", Value: feedsDir},
		{Key: "seo.indexnow_key", Value: indexNow},
		{Key: "seo.robots_rules", Value: nodes.Fingerprint(cfg.SEORobotsRules)},
		{Key: "landing.default_lang", Value: cfg.LandingDefaultLang},
		{Key: "landing.frame_ancestors", Value: strings.Join(cfg.LandingFrameAncestors, ",")},
		{Key: "campaigns.default_time_zone", Value: cfg.DefaultTimeZone},
		{Key: "jobs.poll_interval", Value: cfg.JobsPollInterval.String()},
		{Key: "jobs.delayed_interval", Value: cfg.JobsDelayedInterval.String()},
		{Key: "security.session_ttl", Value: cfg.SessionTTL.String()},
		{Key: "loadcheck.allowed_hosts", Value: strings.Join(cfg.LoadCheckAllowedHosts, ",")},
		{Key: "loadcheck.max_rate", Value: strconv.Itoa(cfg.LoadCheckMaxRate)},
		{Key: "loadcheck.max_duration", Value: cfg.LoadCheckMaxDuration.String()},
		{Key: "loadcheck.step_duration", Value: cfg.LoadCheckStep.String()},
		{Key: "loadcheck.validity", Value: cfg.LoadCheckValidity.String()},
		{Key: "loadcheck.safety_factor", Value: strconv.FormatFloat(cfg.LoadCheckSafety, 'g', -1, 64)},
		{Key: "affiliation.shop_url", Value: cfg.AffiliationShopURL},
		{Key: "email.link_hosts", Value: strings.Join(cfg.EmailLinkHosts, ",")},
		{Key: "smtp.from", Value: cfg.SMTPFrom},
		{Key: "display.tag_max_age", Value: cfg.DisplayTagMaxAge.String()},
	}
	for _, kind := range config.RetentionKinds {
		warn = append(warn, nodes.Setting{Key: "retention." + kind + "_days", Value: fmt.Sprint(cfg.Retention[kind] / (24 * time.Hour))})
	}
	for i := range refuse {
		refuse[i].Policy = nodes.Refuse
	}
	return append(refuse, warn...)
}

// redisWithoutPassword is the Redis a node uses, "" for the in-process one.
func redisWithoutPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return raw
	}
	u.User = nil
	return u.String()
}

// deadLocalProcess tells the nodes of this host whose process no longer
// runs (named "<host> … pid N" by joinNodes): a node killed without its
// clean stop is forgotten when it restarts, not three minutes later.
func deadLocalProcess(host string) func(node string) bool {
	return func(node string) bool {
		rest, ok := strings.CutPrefix(node, host+" ")
		if !ok {
			return false
		}
		i := strings.LastIndex(rest, " pid ")
		if i < 0 {
			return false
		}
		pid, err := strconv.Atoi(rest[i+len(" pid "):])
		if err != nil || pid <= 0 {
			return false
		}
		return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	}
}

// joinNodes compares this process's shared settings with the other live
// nodes'. A serving process (record) also records its own and refreshes
// them until ctx ends; close removes them.
func (s *stack) joinNodes(ctx context.Context, role string, record bool) error {
	host, _ := os.Hostname()
	name := fmt.Sprintf("%s %s pid %d", host, role, os.Getpid())
	if role != "worker" {
		name = fmt.Sprintf("%s %s %s pid %d", host, role, s.cfg.HTTPAddr, os.Getpid())
	}
	settings := sharedSettings(s.cfg, string(s.secret))
	if s.cfg.RedisURL == "" {
		// The in-process Redis is this process's alone: two nodes using
		// one each would each miss the other's tasks and invalidations.
		for i := range settings {
			if settings[i].Key == "redis.url" {
				settings[i].Value = "in-process Redis of " + name + " (set redis.url to share one)"
			}
		}
	}
	reg := &nodes.Registry{DB: s.db, Node: name, Gone: deadLocalProcess(host), Clock: s.clock}
	if _, err := reg.Join(ctx, settings, record); err != nil {
		return fail("%v", err)
	}
	if record {
		s.node = reg
		go reg.Run(ctx)
	}
	return nil
}
