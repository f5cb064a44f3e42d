package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/platform/i18n"
)

func (s *Server) showContactImport(c *fiber.Ctx) error {
	ctx := c.UserContext()
	imports, err := s.Audience.Imports(ctx, 20)
	if err != nil {
		return err
	}
	lists, err := s.Audience.Lists(ctx)
	if err != nil {
		return err
	}
	return s.render(c, "contact_import", pageData{Title: i18n.M("Import contacts"), Nav: "contacts", Data: map[string]any{"Imports": imports, "Lists": lists, "Tab": "import"}})
}

// queueContactImport puts the uploaded file in the shared upload store and
// queues its import for a worker (audience.ImportJobs), then removes the
// temporary file; progress and outcome live in the database, so any node
// shows them.
func (s *Server) queueContactImport(ctx context.Context, run *audience.ImportRun, tmp *os.File, size int64, opt audience.ImportOptions) error {
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	return s.ContactImports.Queue(ctx, run, tmp, size, opt)
}

// importOptions reads the list and partial options, shared by UI and API.
func (s *Server) importOptions(ctx context.Context, list, partial, filename, format string) (audience.ImportOptions, error) {
	opt := audience.ImportOptions{Format: format, Partial: partial == "on" || partial == "true" || partial == "1"}
	if opt.Format == "" {
		opt.Format = audience.FormatFor(filename)
	}
	if opt.Format != "csv" && opt.Format != "json" {
		return opt, &fiber.Error{Code: fiber.StatusBadRequest, Message: "format: want csv or json"}
	}
	if list != "" && list != "0" {
		id, err := strconv.ParseUint(list, 10, 63)
		if err == nil {
			_, err = s.Audience.GetList(ctx, id)
		}
		if err != nil {
			return opt, &fiber.Error{Code: fiber.StatusBadRequest, Message: "list: no list " + strconv.Quote(list)}
		}
		opt.ListID = id
	}
	return opt, nil
}

func (s *Server) startContactImport(c *fiber.Ctx) error {
	up, err := s.readUpload(c, "file")
	if err != nil {
		return err
	}
	if up.File == nil {
		s.flash(c, false, i18n.M("Choose a CSV or JSON file to import."))
		return c.Redirect("/contacts/import", fiber.StatusSeeOther)
	}
	opt, err := s.importOptions(c.UserContext(), up.Fields["list"], up.Fields["partial"], up.Filename, "")
	if err != nil {
		up.Remove()
		return err
	}
	run, err := s.Audience.StartImport(c.UserContext(), filepath.Base(up.Filename), opt.Format, up.Size, opt, currentUser(c).Email)
	if err != nil {
		up.Remove()
		return err
	}
	if err := s.queueContactImport(c.UserContext(), run, up.File, up.Size, opt); err != nil {
		return err
	}
	to := fmt.Sprintf("/contacts/imports/%d", run.ID)
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", to)
		return c.SendStatus(fiber.StatusAccepted)
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

func (s *Server) loadContactImport(c *fiber.Ctx) (*audience.ImportRun, error) {
	return loadByID(c, s.Audience.GetImport, audience.ErrNotFound, "no contact import with this id")
}

func (s *Server) showContactImportRun(c *fiber.Ctx) error {
	run, err := s.loadContactImport(c)
	if err != nil {
		return err
	}
	problems, err := s.Audience.ImportProblems(c.UserContext(), run.ID, 200)
	if err != nil {
		return err
	}
	data := map[string]any{"Import": run, "Errors": problems, "Reported": run.RowsInvalid + run.RowsSuppressed}
	if c.Query("fragment") != "" {
		c.Set("Content-Type", "text/html; charset=utf-8")
		return s.page(c, "contact_import_run").ExecuteTemplate(c.Response().BodyWriter(), "progress", data)
	}
	return s.render(c, "contact_import_run", pageData{Title: i18n.M("Import of %s", run.Filename), Nav: "contacts", Data: data})
}

func (s *Server) contactImportReport(c *fiber.Ctx) error {
	run, err := s.loadContactImport(c)
	if err != nil {
		return err
	}
	problems, err := s.Audience.ImportProblems(c.UserContext(), run.ID, audience.MaxReportedErrors)
	if err != nil {
		return err
	}
	c.Set("Content-Type", "text/csv; charset=utf-8")
	c.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="contacts-import-%d-report.csv"`, run.ID))
	return audience.WriteReport(c.Response().BodyWriter(), audience.ReportRows(problems))
}

// saveBody streams a raw request body (the API's import) to a temporary
// file, at most maxUploadFile bytes.
func saveBody(c *fiber.Ctx) (*os.File, int64, error) {
	var body io.Reader = c.Request().BodyStream()
	if body == nil {
		body = bytes.NewReader(c.Request().Body())
	}
	tmp, err := os.CreateTemp("", "rampe-contacts-*")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(tmp, &cappedReader{r: body, n: maxUploadFile})
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, 0, err
	}
	return tmp, n, nil
}
