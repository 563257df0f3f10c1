package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"clusterapi/internal/browsertest"
)

// TestExplorer drives the API explorer in Chromium as an operator would:
// open it on "Cluster API v2", Authorize with a bare token, list tokens and
// see the token's id; Logout, list again and see 401. The page may reach
// only its own server and must not trip its Content-Security-Policy or throw.
func TestExplorer(t *testing.T) {
	s := startServer(t)
	tok := s.bootstrap(t, "ClusterTokenManagement")
	id := tok[:len("dt0c01.")+24]

	ctx := browsertest.New(t)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	// Everything the page requests and logs, checked at the end.
	var (
		mu       sync.Mutex
		problems []string
		wg       sync.WaitGroup
	)
	note := func(p string) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, p)
	}
	lctx, stopListening := context.WithCancel(ctx)
	requests := chromedp.Events(lctx, network.RequestWillBeSent)
	console := chromedp.Console(lctx)
	wg.Go(func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			if u := ev.Request.URL; !strings.HasPrefix(u, s.URL+"/") && !strings.HasPrefix(u, "data:") {
				note("request to another origin: " + u)
			}
		}
	})
	wg.Go(func() {
		for m, err := range console {
			if err != nil {
				return
			}
			// The browser logs each failed fetch; the 401 is expected.
			if (m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException) && !strings.Contains(m.Text, "401") {
				note("console " + string(m.Type) + ": " + m.Text)
			}
		}
	})
	defer func() {
		stopListening()
		wg.Wait()
	}()

	const op = "#operations-Tokens-listTokens"
	const panel = op + ` .live-responses-table .response .response-col_description .microlight`
	status := func(want string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](`(() => {
			const el = document.querySelector('`+op+` .live-responses-table .response .response-col_status');
			return el !== null && el.textContent.trim().startsWith('`+want+`');
		})()`, chromedp.WithPollingTimeout(time.Minute))
	}
	const logout = `//div[contains(@class,"auth-btn-wrapper")]/button[normalize-space()="Logout"]`

	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/rest-api-doc/?urls.primaryName=Cluster%20API%20v2"),
		chromedp.WaitVisible(chromedp.CSS(op)),
	)
	if err != nil {
		t.Fatalf("open the explorer: %v\nproblems: %q", err, problems)
	}
	options, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('select#select option')].map(o => o.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	selected, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('select#select').selectedOptions[0].textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(options, "|") != "Cluster API v2|Cluster API v1" || selected != "Cluster API v2" {
		t.Errorf("definitions %q, selected %q; want Cluster API v2 and v1, v2 selected", options, selected)
	}

	err = chromedp.Do(ctx,
		// Authorize with the bare token: explorer.js adds "Api-Token ".
		chromedp.Click(chromedp.CSS(`.auth-wrapper button.authorize`)),
		chromedp.WaitVisible(chromedp.CSS(`.auth-container input`)),
		chromedp.SendKeys(chromedp.CSS(`.auth-container input`), tok),
		chromedp.Click(chromedp.CSS(`.auth-btn-wrapper button.authorize`)),
		chromedp.WaitVisible(logout),
		chromedp.Click(chromedp.CSS(`.auth-btn-wrapper button.btn-done`)),

		// List tokens: 200 with the token's id in the response panel.
		chromedp.Click(chromedp.CSS(op+` .opblock-summary-control`)),
		chromedp.Click(chromedp.CSS(op+` .try-out__btn`)),
		chromedp.Click(chromedp.CSS(op+` .execute`)),
		status("200"),
	)
	if err != nil {
		t.Fatalf("authorize and list tokens: %v\nproblems: %q", err, problems)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(panel)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, id) {
		t.Errorf("the response panel does not show the token id %s:\n%s", id, body)
	}

	// Logout, then the same call is refused.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.auth-wrapper button.authorize`)),
		chromedp.Click(logout),
		chromedp.WaitVisible(chromedp.CSS(`.auth-container input`)),
		chromedp.Click(chromedp.CSS(`.auth-btn-wrapper button.btn-done`)),
		chromedp.Click(chromedp.CSS(op+` .execute`)),
		status("401"),
	)
	if err != nil {
		t.Fatalf("logout and list tokens: %v\nproblems: %q", err, problems)
	}
	body, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(panel)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "Missing authorization parameter.") {
		t.Errorf("after Logout the response panel shows:\n%s", body)
	}

	// The selector's other definition shows the v1 token paths.
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/rest-api-doc/?urls.primaryName=Cluster%20API%20v1"),
		chromedp.WaitVisible(chromedp.CSS(`.opblock-summary-path[data-path="/api/cluster/v1/tokens"]`)),
	)
	if err != nil {
		t.Fatalf("open Cluster API v1: %v", err)
	}

	stopListening()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
}
