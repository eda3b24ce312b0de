package server

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"llmops/rag/llm"
	"llmops/store"
	"llmops/ui"
)

// Settings → Models & prices, and its API.

func (s *Server) modelsPage(c echo.Context, status int, p ui.Models) error {
	p.Chrome = chrome(c, "Models & prices", "settings")
	p.Answerer, p.AnswererURL = "Extractive answerer (offline, free)", ""
	if s.cfg.LLMBaseURL != "" {
		p.Answerer, p.AnswererURL = s.cfg.LLMModel, hostOf(s.cfg.LLMBaseURL)
	}
	p.Embedder = "Local model learned from your documents (offline)"
	if s.cfg.EmbedBaseURL != "" {
		p.Embedder, p.EmbedderURL = s.cfg.EmbedModel, hostOf(s.cfg.EmbedBaseURL)
	}
	p.Judge = s.cfg.JudgeModel
	p.ThresholdText = strconv.FormatFloat(s.cfg.Threshold*100, 'f', -1, 64) + "%"
	// Aliases of one model ("claude-3-5-haiku", "claude-3.5-haiku") share a row.
	rows := map[string]int{}
	for _, pr := range llm.DefaultPrices() {
		key := aliasKey(pr.Model) + " " + money(pr.InputPerMTok) + " " + money(pr.OutputPerMTok)
		if i, ok := rows[key]; ok {
			p.Defaults[i].Aliases = append(p.Defaults[i].Aliases, pr.Model)
			continue
		}
		rows[key] = len(p.Defaults)
		p.Defaults = append(p.Defaults, ui.PriceRow{Model: pr.Model, Input: money(pr.InputPerMTok), Output: money(pr.OutputPerMTok)})
	}
	if p.Prices == "" && p.Error == "" {
		_, own, err := loadPrices(c.Request().Context(), s.store)
		if err != nil {
			return err
		}
		if len(own) > 0 {
			p.Prices = llm.FormatPrices(own)
		}
	}
	return render(c, status, ui.ModelsPage(p))
}

// money shows a price per million tokens with two decimals, as every
// cost in the UI: $2.50, $0.15.
func money(v float64) string { return "$" + strconv.FormatFloat(v, 'f', 2, 64) }

// aliasKey is a model name's words in order, so that spellings of one
// model compare equal: claude-3-5-haiku, claude-3.5-haiku and
// claude-haiku-3.5 all give "3 5 claude haiku".
func aliasKey(model string) string {
	words := strings.FieldsFunc(strings.ToLower(model), func(r rune) bool { return r == '-' || r == '.' || r == '_' || r == ' ' })
	slices.Sort(words)
	return strings.Join(words, " ")
}

// hostOf shows where a model runs without any credentials in the URL.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func (s *Server) handleModelsPage(c echo.Context) error {
	return s.modelsPage(c, http.StatusOK, ui.Models{Notice: noticeText(c.QueryParam("notice"))})
}

func (s *Server) handlePricesForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	text := c.FormValue("prices")
	prices, err := llm.ParsePrices(text)
	if err != nil {
		return s.modelsPage(c, http.StatusBadRequest, ui.Models{Prices: text, Error: store.ErrorMessage(err)})
	}
	if err := s.savePrices(c, prices); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings/models?notice=prices-saved")
}

// savePrices stores the team's prices and starts using them at once.
func (s *Server) savePrices(c echo.Context, prices []llm.Price) error {
	if prices == nil {
		prices = []llm.Price{}
	}
	if err := s.store.PutSetting(c.Request().Context(), principalOf(c).actor, store.SettingPrices, prices); err != nil {
		return err
	}
	table, _, err := loadPrices(c.Request().Context(), s.store)
	if err != nil {
		return err
	}
	s.app.setPrices(table)
	return nil
}

// handlePricesGet lists the effective prices: list prices and the team's.
func (s *Server) handlePricesGet(c echo.Context) error {
	_, own, err := loadPrices(c.Request().Context(), s.store)
	if err != nil {
		return err
	}
	if own == nil {
		own = []llm.Price{}
	}
	return c.JSON(http.StatusOK, map[string]any{"prices": own, "defaults": llm.DefaultPrices()})
}

// handlePricesPut replaces the team's prices.
func (s *Server) handlePricesPut(c echo.Context) error {
	var body struct {
		Prices []llm.Price `json:"prices"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	// Round-trip through the text form: one set of validation rules.
	prices, err := llm.ParsePrices(llm.FormatPrices(body.Prices))
	if err != nil {
		return store.Errorf(store.EINVALID, "prices: %s", store.ErrorMessage(err))
	}
	if len(prices) != len(body.Prices) {
		return store.Errorf(store.EINVALID, "prices: %d entries given, %d valid (a model listed twice?)", len(body.Prices), len(prices))
	}
	if err := s.savePrices(c, prices); err != nil {
		return err
	}
	return s.handlePricesGet(c)
}
