// Import a small catalog, plan a campaign on a promotion and a landing page,
// publish both, see the promotional price on /l/{slug} and the campaign's two
// gates turn green — in real Chromium against a real rampe process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildBinary, startRampe, launch, signIn, shots, parisLocal, collectErrors } from './lib.mjs';

let app, browser;
before(async () => { app = await startRampe(buildBinary()); browser = await launch(); });
after(async () => { await browser?.close(); app?.proc.kill('SIGTERM'); });

const hour = 3600 * 1000;
const csv = 'SKU;Title;Brand;EAN;Price;Stock;Product_Type;Link\n' +
  'E2E-1;Vélo Cargo Été;Velo&Co;4006381333931;1000,00;4;Sport > Vélo;https://shop.example/e2e-1\n' +
  'E2E-2;"Casque ""Aero""";Velo&Co;;80.00;12;Sport > Vélo;https://shop.example/e2e-2\n';

test('catalog, promotion and landing page make a campaign ready', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = collectErrors(page);
  await signIn(page, app);

  // 1. Import a small catalog from the UI, with progress.
  await page.goto(app.url + '/products/import');
  await page.setInputFiles('input[name=file]', { name: 'e2e.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.click('button:has-text("Upload and import")');
  await page.waitForURL(/\/imports\/\d+$/);
  await page.waitForSelector('.badge.imp-done', { timeout: 20000 });
  assert.match(await page.textContent('#import-progress'), /2 products imported or updated/);
  await page.screenshot({ path: join(shots, '10-import-done.png'), fullPage: true });

  // 2. A draft promotion: 25 % off the two SKUs for three days.
  await page.goto(app.url + '/promotions/new');
  await page.fill('input[name=name]', 'E2E −25 % vélo');
  await page.fill('input[name=value]', '25');
  await page.selectOption('select[name=scope]', 'skus');
  await page.fill('textarea[name=scope_value]', 'E2E-1, E2E-2');
  await page.fill('input[name=starts_at]', parisLocal(Date.now() - hour));
  await page.fill('input[name=ends_at]', parisLocal(Date.now() + 72 * hour));
  await page.click('button:has-text("Save draft")');
  await page.waitForURL(/\/promotions\/\d+$/);
  const promoURL = page.url();
  assert.ok(await page.isVisible('text=Preview: 2 products affected'));
  assert.ok(await page.isVisible('td:has-text("€750.00")'), 'the preview shows 1 000.00 → 750.00');
  await page.screenshot({ path: join(shots, '11-promotion-preview.png'), fullPage: true });

  // 3. A draft landing page showing those products.
  await page.goto(app.url + '/pages/new');
  await page.fill('input[name=slug]', 'e2e-velo');
  await page.fill('input[name=title]', 'Le vélo à −25 %');
  await page.fill('textarea[name=body]', 'Trois jours **seulement**.\n\n<script>alert(1)</script>');
  await page.fill('textarea[name=product_skus]', 'E2E-1, E2E-2');
  await page.fill('input[name=cta_label_0]', 'Voir la boutique');
  await page.fill('input[name=cta_url_0]', 'https://shop.example/velo');
  await page.fill('input[name=utm_campaign]', 'e2e-velo');
  await page.click('button:has-text("Save draft")');
  await page.waitForURL(/\/pages\/\d+$/);
  const pageURL = page.url();
  let res = await page.request.get(app.url + '/l/e2e-velo');
  assert.equal(res.status(), 404, 'a draft page is not public');

  // 4. A campaign on both: its two gates fail while they are drafts.
  await page.goto(app.url + '/campaigns/new');
  await page.fill('input[name=name]', 'E2E vélo');
  await page.fill('input[name=starts_at]', parisLocal(Date.now() + 24 * hour));
  await page.fill('input[name=ends_at]', parisLocal(Date.now() + 48 * hour));
  await page.check('input[name=channels][value=seo]');
  await page.fill('input[name=budget_seo]', '500');
  await page.fill('input[name=forecast_seo_sessions_per_day]', '3000');
  const lp = await page.$eval('select[name=landing_page_id] option:has-text("/l/e2e-velo")', (o) => o.value);
  await page.selectOption('select[name=landing_page_id]', lp);
  await page.check('label:has-text("E2E −25 % vélo") input');
  await page.click('button:has-text("Save")');
  await page.waitForURL(/\/campaigns\/\d+$/);
  const campaignURL = page.url();
  await page.waitForSelector('.verdict');
  assert.ok(await page.isVisible('li.o-fail:has-text("landing.published")'));
  assert.ok(await page.isVisible('li.o-fail:has-text("promotions.published")'));
  await page.screenshot({ path: join(shots, '12-campaign-gates-red.png'), fullPage: true });

  // 5. Publish the promotion and the page.
  await page.goto(promoURL);
  await page.click('button:has-text("Publish")');
  await page.waitForSelector('text=Published: prices change');
  await page.goto(pageURL);
  await page.click('form[action$="/publish"] button');
  await page.waitForSelector('text=Version 1 is live at /l/e2e-velo');
  await page.screenshot({ path: join(shots, '13-page-published.png'), fullPage: true });

  // 6. The public page shows the promotional price, with no script of the marketer's.
  await page.goto(app.url + '/l/e2e-velo');
  // The page speaks French (landing.default_lang): prices as French writes them.
  assert.ok(await page.isVisible('text=750,00\u00a0€'), 'promotional price shown');
  assert.ok(await page.isVisible('s:has-text("1\u202f000,00\u00a0€")'), 'regular price struck through');
  assert.equal(await page.locator('script:not([type="application/ld+json"])').count(), 0, 'no marketer script on the page');
  const href = await page.getAttribute('a.cta', 'href');
  assert.match(href, /utm_campaign=e2e-velo/);
  await page.screenshot({ path: join(shots, '14-landing-public.png'), fullPage: true });
  res = await page.request.get(app.url + '/l/e2e-velo', { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(res.status(), 200);
  const etag = res.headers()['etag'];
  res = await page.request.get(app.url + '/l/e2e-velo', { headers: { 'If-None-Match': etag } });
  assert.equal(res.status(), 304);

  // 7. The campaign's two gates are green.
  await page.goto(campaignURL);
  await page.click('button:has-text("Check now")');
  await page.waitForSelector('#readiness li.o-pass:has-text("landing.published")');
  assert.ok(await page.isVisible('#readiness li.o-pass:has-text("promotions.published")'));
  await page.screenshot({ path: join(shots, '15-campaign-gates-green.png'), fullPage: true });
  assert.deepEqual(errors, []);
});
