// The search tab of a demo SEA campaign: the ad's length counters react
// as the marketer types (CJK counted twice), a refused ad keeps what was
// typed, a good one is saved with its price filled from the landing page;
// once the campaign goes live (the demo's load check passes) its ads
// export is listed and downloadable and /sitemaps/1.xml lists /l/demo.
// The tab fits 1366 px and 390 px without horizontal scroll.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildBinary, startRampe, launch, signIn, shots, collectErrors } from './lib.mjs';

let app, browser;

before(async () => {
  app = await startRampe(buildBinary());
  browser = await launch();
});

after(async () => {
  await browser?.close();
  app?.proc.kill('SIGTERM');
});

test('search tab: counters, ads, exports and the sitemap', async () => {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const errors = collectErrors(page);
  await signIn(page, app);
  await page.click('a:has-text("Autumn clearance")');
  await page.click('a:has-text("Audit, keywords, ads and exports")');
  await page.waitForSelector('h1:has-text("Search (SEO and SEA)")');
  // The demo's ad, its price filled from the landing page.
  const lines = await page.$$eval('.ad-lines li', (ls) => ls.map((l) => l.textContent));
  // The demo page is French, so is the price: "129,90 €".
  assert.ok(lines.some((l) => /À partir de [0-9][0-9\s\u202f]*,[0-9]{2}\u00a0€/.test(l)), `the demo ad shows its price as the French page does: ${lines}`);

  // Live counters in the new ad form.
  await page.click('summary:has-text("New ad")');
  const form = page.locator('form[action$="/ads"]').first();
  const headlines = form.locator('textarea[name=headlines]');
  await headlines.fill('Soldes d\'hiver\n' + '夏'.repeat(16));
  const counters = form.locator('output.counters').first();
  assert.match(await counters.textContent(), /1: 14\/30 · 2: 32\/30 ✗/);
  assert.equal(await headlines.evaluate((el) => el.classList.contains('over')), true);
  // The server refuses it, naming the line, and keeps what was typed.
  await form.locator('textarea[name=descriptions]').fill('Des prix doux.\nRetours gratuits.');
  await form.locator('button:has-text("Add ad")').click();
  await page.waitForSelector('.flash.bad');
  assert.match(await page.textContent('.flash.bad'), /headline/);
  const kept = page.locator('details[open] form[action$="/ads"] textarea[name=headlines]').first();
  assert.match(await kept.inputValue(), /夏{16}/);
  await kept.fill('Soldes d\'hiver\n' + '夏'.repeat(15) + '\nLivraison offerte');
  await page.locator('details[open] form[action$="/ads"] button:has-text("Add ad")').first().click();
  await page.waitForSelector('.flash.ok');
  assert.ok((await page.$$eval('.ad-lines li', (ls) => ls.map((l) => l.textContent))).some((t) => t.includes('夏'.repeat(15)) && t.includes('30/30')));
  await page.screenshot({ path: join(shots, 'search-tab-1366.png'), fullPage: true });

  // Live: the launch wrote an export and put the page in the sitemap.
  let exported = false;
  for (let i = 0; i < 90 && !exported; i++) {
    await page.reload();
    exported = await page.isVisible('a:has-text("Google Ads Editor CSV")');
    if (!exported) await page.waitForTimeout(1000);
  }
  assert.ok(exported, 'an ads export is listed once the campaign is live');
  const href = await page.getAttribute('a:has-text("Google Ads Editor CSV")', 'href');
  const csv = await page.evaluate(async (h) => (await fetch(h)).text(), href);
  assert.match(csv.split('\n')[0], /^Campaign,Campaign Type,Campaign Status,Budget,Budget type,Start Date,End Date,Ad Group,Max CPC,Keyword,Criterion Type,Ad type,Final URL,Headline 1,/);
  assert.match(csv, /,Enabled,/);
  const sitemap = await (await fetch(app.url + '/sitemaps/1.xml')).text();
  assert.match(sitemap, /<loc>http:\/\/127\.0\.0\.1:\d+\/l\/demo<\/loc><lastmod>/);

  for (const width of [1366, 390]) {
    await page.setViewportSize({ width, height: width > 500 ? 900 : 844 });
    await page.reload();
    const m = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
    assert.ok(m.scroll <= m.inner, `the search tab is ${m.scroll} px wide at ${width} px`);
    await page.screenshot({ path: join(shots, `search-tab-${width}.png`), fullPage: true });
  }
  assert.deepEqual(errors, []);
});
