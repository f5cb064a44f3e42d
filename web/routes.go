package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the one table of every URL Rampe answers.
func (s *Server) routes(app *fiber.App) {
	app.Use(recover.New(), observe, limitBody)

	// Public endpoints.
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.Handler()))
	app.Get("/favicon.ico", s.serveFavicon)
	app.Get("/static/demo/:name", s.serveDemoImage)
	app.Get("/static/:hash/*", s.serveStatic)
	app.Get("/l/:slug", s.servePage)

	// JSON API: bearer tokens, no cookies.
	api := app.Group("/api/v1", s.apiAuth)
	api.Get("/me", s.apiMe)
	api.Get("/campaigns", s.apiListCampaigns)
	api.Post("/campaigns", apiWriter, s.apiCreateCampaign)
	api.Get("/campaigns/:id", s.apiGetCampaign)
	api.Put("/campaigns/:id", apiWriter, s.apiUpdateCampaign)
	api.Delete("/campaigns/:id", apiWriter, s.apiDeleteCampaign)
	api.Post("/campaigns/:id/:action<regex(^(schedule|unschedule|pause|resume|cancel)$)>", apiWriter, s.apiCampaignAction)
	api.Get("/campaigns/:id/readiness", s.apiReadiness)
	api.Get("/campaigns/:id/history", s.apiHistory)
	api.Get("/products", s.apiListProducts)
	api.Get("/promotions", s.apiListPromotions)
	api.Post("/promotions", apiWriter, s.apiCreatePromotion)
	api.Get("/promotions/:id<int>", s.apiGetPromotion)
	api.Put("/promotions/:id<int>", apiWriter, s.apiUpdatePromotion)
	api.Post("/promotions/:id<int>/:action<regex(^(publish|unpublish|archive)$)>", apiWriter, s.apiPromotionAction)
	api.Get("/pages", s.apiListPages)
	api.Post("/pages", apiWriter, s.apiCreatePage)
	api.Get("/pages/:id<int>", s.apiGetPage)
	api.Put("/pages/:id<int>", apiWriter, s.apiUpdatePage)
	api.Post("/pages/:id<int>/:action<regex(^(publish|unpublish)$)>", apiWriter, s.apiPageAction)
	api.Use(func(c *fiber.Ctx) error {
		return apiFail(c, fiber.StatusNotFound, "not_found", "no such API endpoint: "+c.Method()+" "+c.Path(), "")
	})

	// Web UI: session cookie, CSRF on every unsafe request.
	ui := app.Group("", s.loadUser, s.csrf)
	ui.Get("/login", s.showLogin)
	ui.Post("/login", s.doLogin)
	ui.Post("/logout", s.doLogout)

	in := ui.Group("", signedIn)
	in.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/campaigns") })
	in.Get("/campaigns", s.showCampaigns)
	in.Get("/campaigns/new", writer, s.showNewCampaign)
	in.Post("/campaigns", writer, s.createCampaign)
	in.Get("/campaigns/:id<int>", s.showCampaign)
	in.Get("/campaigns/:id<int>/readiness", s.showReadiness)
	in.Get("/campaigns/:id<int>/edit", writer, s.showEditCampaign)
	in.Post("/campaigns/:id<int>", writer, s.updateCampaign)
	in.Post("/campaigns/:id<int>/delete", writer, s.deleteCampaign)
	in.Post("/campaigns/:id<int>/:action<regex(^(schedule|unschedule|pause|resume|cancel)$)>", writer, s.campaignAction)
	in.Get("/calendar", s.showCalendar)
	in.Get("/alerts", s.showAlerts)
	in.Post("/alerts/:id<int>/resolve", writer, s.resolveAlert)
	in.Get("/products", s.showProducts)
	in.Get("/products/import", writer, s.showImport)
	in.Post("/products/import", writer, s.startImport)
	in.Get("/imports/:id<int>", s.showImportRun)
	in.Get("/imports/:id<int>/report.csv", s.importReport)
	in.Get("/promotions", s.showPromotions)
	in.Get("/promotions/new", writer, s.showNewPromotion)
	in.Post("/promotions", writer, s.createPromotion)
	in.Get("/promotions/:id<int>", s.showPromotion)
	in.Get("/promotions/:id<int>/edit", writer, s.showEditPromotion)
	in.Post("/promotions/:id<int>", writer, s.updatePromotion)
	in.Post("/promotions/:id<int>/:action<regex(^(publish|unpublish|archive)$)>", writer, s.promotionAction)
	in.Get("/pages", s.showPages)
	in.Get("/pages/new", writer, s.showNewPage)
	in.Post("/pages", writer, s.createPage)
	in.Get("/pages/:id<int>", s.showPage)
	in.Post("/pages/:id<int>", writer, s.updatePage)
	in.Get("/pages/:id<int>/preview", s.previewPage)
	in.Post("/pages/:id<int>/publish", writer, s.publishPage)
	in.Post("/pages/:id<int>/unpublish", writer, s.unpublishPage)
	in.Get("/settings/tokens", s.showTokens)
	in.Post("/settings/tokens", s.createToken)
	in.Post("/settings/tokens/:id<int>/revoke", s.revokeToken)
	in.Get("/users", admin, s.showUsers)
	in.Post("/users", admin, s.createUser)

	app.Use(func(c *fiber.Ctx) error { return fiber.NewError(fiber.StatusNotFound, "there is no page at "+c.Path()) })
}
