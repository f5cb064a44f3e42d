package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/feeds"
)

func apiFeedError(c *fiber.Ctx, err error) error {
	var ve feeds.ValidationError
	switch {
	case errors.As(err, &ve):
		return apiInvalid(c, ve)
	case errors.Is(err, feeds.ErrNotFound):
		return apiFail(c, fiber.StatusNotFound, "not_found", "no feed with this id", "id")
	case errors.Is(err, feeds.ErrBusy):
		return apiFail(c, fiber.StatusConflict, "busy", err.Error(), "")
	}
	return err
}

// feedJSON adds the public URL, which the definition alone does not carry.
func (s *Server) feedJSON(f *feeds.Feed) map[string]any {
	return map[string]any{"feed": f, "url": s.BaseURL + "/feeds/" + f.Token + "/" + f.FileName()}
}

func (s *Server) apiListFeeds(c *fiber.Ctx) error {
	list, err := s.Feeds.List(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(list))
	for i := range list {
		out[i] = s.feedJSON(&list[i])
	}
	return c.JSON(map[string]any{"feeds": out})
}

func (s *Server) apiCreateFeed(c *fiber.Ctx) error {
	var f feeds.Feed
	if decodeStrict(c, &f) != nil {
		return nil
	}
	if err := s.Feeds.Create(c.UserContext(), &f); err != nil {
		return apiFeedError(c, err)
	}
	s.FeedJobs.Enqueue(c.UserContext(), f.ID, "created", s.now())
	return c.Status(fiber.StatusCreated).JSON(s.feedJSON(&f))
}

func (s *Server) apiGetFeed(c *fiber.Ctx) error {
	id, _ := parseID(c)
	f, err := s.Feeds.Get(c.UserContext(), id)
	if err != nil {
		return apiFeedError(c, err)
	}
	runs, err := s.Feeds.Runs(c.UserContext(), id, 20)
	if err != nil {
		return err
	}
	out := s.feedJSON(f)
	out["runs"] = runs
	if len(runs) > 0 {
		issues, err := s.Feeds.Issues(c.UserContext(), runs[0].ID, 1000)
		if err != nil {
			return err
		}
		out["last_run_issues"] = issues
	}
	return c.JSON(out)
}

func (s *Server) apiUpdateFeed(c *fiber.Ctx) error {
	id, _ := parseID(c)
	var f feeds.Feed
	if decodeStrict(c, &f) != nil {
		return nil
	}
	if err := s.Feeds.Update(c.UserContext(), id, &f); err != nil {
		return apiFeedError(c, err)
	}
	s.FeedJobs.Enqueue(c.UserContext(), id, "definition changed", s.now())
	return c.JSON(s.feedJSON(&f))
}

// apiGenerateFeed queues a generation for a worker and answers 202 with
// where to follow it (GET /api/v1/feeds/{id}: its last run).
func (s *Server) apiGenerateFeed(c *fiber.Ctx) error {
	id, _ := parseID(c)
	if _, err := s.Feeds.Get(c.UserContext(), id); err != nil {
		return apiFeedError(c, err)
	}
	if err := s.FeedJobs.Request(c.UserContext(), id, "by "+currentUser(c).Email+" (API)"); err != nil {
		return apiFail(c, fiber.StatusServiceUnavailable, "unavailable", "the generation could not be queued: "+err.Error(), "")
	}
	return c.Status(fiber.StatusAccepted).JSON(map[string]any{"queued": true, "feed_id": id, "status_url": fmt.Sprintf("/api/v1/feeds/%d", id)})
}

func (s *Server) apiRotateFeed(c *fiber.Ctx) error {
	id, _ := parseID(c)
	if _, err := s.Feeds.RotateToken(c.UserContext(), id); err != nil {
		return apiFeedError(c, err)
	}
	f, err := s.Feeds.Get(c.UserContext(), id)
	if err != nil {
		return apiFeedError(c, err)
	}
	return c.JSON(s.feedJSON(f))
}
