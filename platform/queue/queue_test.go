package queue

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// The in-process Redis listens on a loopback port: a local user who finds
// the port must not be able to read or write the job queues.
func TestEmbeddedRedisRefusesClientsWithoutItsPassword(t *testing.T) {
	ctx := context.Background()
	c, err := Connect(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Rampe's own client: %v", err)
	}
	if err := c.Redis.Set(ctx, "asynq:secret", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	stranger := redis.NewClient(&redis.Options{Addr: c.Addr()})
	defer stranger.Close()
	_, err = stranger.Get(ctx, "asynq:secret").Result()
	if err == nil || !strings.Contains(strings.ToUpper(err.Error()), "NOAUTH") {
		t.Fatalf("a client without the password read a key: err=%v", err)
	}
	guess := redis.NewClient(&redis.Options{Addr: c.Addr(), Password: "guess"})
	defer guess.Close()
	if err := guess.Ping(ctx).Err(); err == nil {
		t.Fatal("a wrong password was accepted")
	}
}
