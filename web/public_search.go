package web

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/channels/search"
)

// The search channel's public files: /sitemap.xml (an index),
// /sitemaps/N.xml, /robots.txt and the IndexNow key file.

func (s *Server) searchOn(c *fiber.Ctx) error {
	if s.Search == nil {
		return fiber.NewError(fiber.StatusNotFound, "the search channel is not connected")
	}
	return c.Next()
}

func (s *Server) sitemap() *search.Sitemap { return &search.Sitemap{Ch: s.Search} }

// streamXML sends what write produces without holding it: the body is
// written after the handler returns, under a context of its own.
func streamXML(c *fiber.Ctx, what string, write func(ctx context.Context, w *bufio.Writer) error) error {
	c.Set(fiber.HeaderContentType, "application/xml; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := write(ctx, w); err != nil {
			slog.Error("web: sitemap", "file", what, "err", err)
		}
	})
	return nil
}

func (s *Server) serveSitemapIndex(c *fiber.Ctx) error {
	sm := s.sitemap()
	return streamXML(c, "sitemap.xml", func(ctx context.Context, w *bufio.Writer) error { return sm.WriteIndex(ctx, w) })
}

func (s *Server) serveSitemapFile(c *fiber.Ctx) error {
	name := c.Params("file")
	n, err := strconv.Atoi(strings.TrimSuffix(name, ".xml"))
	if err != nil || !strings.HasSuffix(name, ".xml") || n < 1 {
		return c.Status(fiber.StatusNotFound).SendString("not found")
	}
	sm := s.sitemap()
	files, err := sm.Files(c.UserContext())
	if err != nil {
		return err
	}
	if n > files {
		return c.Status(fiber.StatusNotFound).SendString("not found")
	}
	return streamXML(c, name, func(ctx context.Context, w *bufio.Writer) error {
		err := sm.WriteFile(ctx, n, w)
		if errors.Is(err, search.ErrNotFound) {
			return nil // the sitemap shrank since Files: an empty body
		}
		return err
	})
}

func (s *Server) serveRobots(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.SendString(search.Robots(s.BaseURL, s.RobotsRules))
}

func (s *Server) serveIndexNowKey(c *fiber.Ctx) error {
	if s.Search == nil || s.Search.IndexNow == nil {
		return c.Status(fiber.StatusNotFound).SendString("not found")
	}
	c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	return c.SendString(s.Search.IndexNow.Key)
}
