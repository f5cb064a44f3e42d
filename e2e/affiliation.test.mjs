// A marketer adds a partner, plans it on a new campaign, schedules the
// campaign, downloads the partner's kit, and follows the partner's link
// before go-live (the fallback) and after (the landing page), in real
// Chromium against a real rampe process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { buildBinary, startRampe, launch, signIn, shots, parisLocal } from './lib.mjs';

let app, browser;

before(async () => {
  app = await startRampe(buildBinary());
  browser = await launch();
});

after(async () => {
  await browser?.close();
  app?.proc.kill('SIGTERM');
});

// follow asks for a tracked link without following its redirect.
async function follow(page, url) {
  const res = await page.request.get(url, { maxRedirects: 0, headers: { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0' } });
  assert.equal(res.status(), 302);
  return new URL(res.headers()['location']);
}

test('partner, plan, schedule, kit, and the partner link before and after go-live', { timeout: 420000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('422')) errors.push(m.text()); });
  await signIn(page, app);

  await page.click('nav >> text=Partners');
  await page.fill('#new-partner input[name=name]', 'Bons Plans Déco');
  await page.selectOption('#new-partner select[name=network]', 'effiliation');
  await page.fill('#new-partner input[name=email]', 'contact@bonsplansdeco.example');
  await page.fill('#new-partner input[name=commission]', 'sept pour cent');
  await page.click('button:has-text("Add partner")');
  assert.ok(await page.isVisible('p.err:has-text("is neither a percentage")'), 'a commission that is no number is refused beside its field');
  assert.equal(await page.inputValue('#new-partner input[name=name]'), 'Bons Plans Déco', 'what was typed is kept');
  await page.fill('#new-partner input[name=commission]', '7,5 %');
  await page.click('button:has-text("Add partner")');
  await page.waitForSelector('text=Partner Bons Plans Déco added.');
  assert.ok(await page.isVisible('#partners td:has-text("7.5 %")'));
  await page.screenshot({ path: join(shots, '60-partners.png'), fullPage: true });

  // A campaign on the affiliation channel, starting in about two minutes.
  await page.goto(app.url + '/campaigns/new');
  const start = Date.now() + 150000;
  await page.fill('input[name=name]', 'Semaine de la déco — affiliation');
  await page.fill('input[name=starts_at]', parisLocal(start));
  await page.fill('input[name=ends_at]', parisLocal(start + 3 * 86400000));
  await page.check('input[name=channels][value=affiliation]');
  const demoPage = await page.$eval('select[name=landing_page_id] option:has-text("/l/demo")', (o) => o.value);
  await page.selectOption('select[name=landing_page_id]', demoPage);
  await page.fill('input[name=budget_affiliation]', '500');
  await page.fill('input[name=forecast_affiliation_impressions]', '2000');
  await page.fill('input[name=forecast_affiliation_ctr]', '0.01');
  await page.click('button:has-text("Save")');
  await page.waitForURL(/\/campaigns\/\d+$/);
  const campaignURL = page.url();

  await page.click('text=Partners, links and codes →');
  await page.selectOption('#add-member select[name=partner_id]', { label: 'Bons Plans Déco' });
  await page.click('button:has-text("Add to the plan")');
  await page.waitForSelector('text=Partner added to the plan.');
  const row = page.locator('#members tr', { hasText: 'Bons Plans Déco' });
  const link = (await row.locator('code.aff-url').first().textContent()).trim();
  assert.match(link, /\/r\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);

  // Before go-live: the fallback (the shop's home), with the UTM and a click id.
  let dest = await follow(page, link);
  assert.equal(dest.pathname, '/');
  assert.equal(dest.searchParams.get('utm_source'), 'bons-plans-deco');
  assert.equal(dest.searchParams.get('utm_medium'), 'affiliate');
  assert.match(dest.searchParams.get('rampe_click'), /^[0-9a-f]{32}$/);

  // Schedule (gates fail now: the kit is not sent, the page not load-checked for it).
  await page.goto(campaignURL);
  page.once('dialog', (d) => d.accept());
  await page.click('button:has-text("Schedule")');
  await page.waitForSelector('h1 .badge:has-text("scheduled")');
  // The capacity this campaign adds is checked.
  await page.click('button:has-text("Run load check")');
  await page.waitForURL(/\/loadchecks\/\d+$/);
  await page.waitForSelector('#check-reason', { timeout: 120000 });

  // The kit went by e-mail when the campaign was scheduled; download it too.
  await page.goto(campaignURL + '/affiliation');
  for (let i = 0; i < 30 && !(await row.locator('.badge.o-pass:has-text("sent")').count()); i++) {
    await page.waitForTimeout(1000);
    await page.reload();
  }
  assert.ok(await row.locator('.badge.o-pass:has-text("sent")').count(), 'the kit was mailed when the campaign was scheduled');
  const [download] = await Promise.all([page.waitForEvent('download'), row.locator('a:has-text("CSV")').click()]);
  const kit = readFileSync(await download.path(), 'utf8');
  assert.match(kit, /^field,label,value/);
  assert.ok(kit.includes(link), 'the kit carries the partner link');
  await page.screenshot({ path: join(shots, '61-affiliation-tab.png'), fullPage: true });

  // After go-live: the landing page.
  for (let i = 0; i < 60; i++) {
    await page.goto(campaignURL);
    if (await page.isVisible('h1 .badge:has-text("live")')) break;
    await page.waitForTimeout(5000);
  }
  assert.ok(await page.isVisible('h1 .badge:has-text("live")'), 'the campaign went live');
  await page.waitForTimeout(2500); // the redirector's memory of the campaign's state
  dest = await follow(page, link);
  assert.equal(dest.pathname, '/l/demo');
  assert.equal(dest.searchParams.get('utm_source'), 'bons-plans-deco');
  await page.goto(campaignURL + '/affiliation');
  assert.ok(await page.isVisible('#links-state:has-text("the landing page")'));
  await page.screenshot({ path: join(shots, '62-affiliation-live.png'), fullPage: true });

  await page.goto(app.url + '/commissions');
  await page.screenshot({ path: join(shots, '63-commissions.png'), fullPage: true });
  assert.deepEqual(errors, [], 'no JavaScript or resource error in the console');
});
