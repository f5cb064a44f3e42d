// Open the capacity page, run a short load check from a campaign page, watch
// its progress and see the landing.load_checked gate change — in real
// Chromium against a real rampe process that checks itself on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildBinary, startRampe, launch, signIn, shots, collectErrors } from './lib.mjs';

let app, browser;
before(async () => { app = await startRampe(buildBinary()); browser = await launch(); });
after(async () => { await browser?.close(); app?.proc.kill('SIGTERM'); });

test('capacity page, load check with progress, gate turns green', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = collectErrors(page);
  await signIn(page, app);
  await page.goto(app.url + '/capacity');
  assert.ok(await page.isVisible('svg.chart polyline'), 'the forecast curve is drawn');
  assert.match(await page.textContent('.verdict'), /Forecast peak: \d+ requests\/s/);
  await page.screenshot({ path: join(shots, '30-capacity.png'), fullPage: true });

  // The live demo campaign on /l/demo.
  await page.goto(app.url + '/campaigns');
  await page.click('a:has-text("Autumn clearance")');
  const campaignURL = page.url();
  await page.click('button:has-text("Check now")');
  await page.waitForSelector('#readiness li:has-text("landing.load_checked")');

  await page.click('button:has-text("Run load check")');
  await page.waitForURL(/\/loadchecks\/\d+$/);
  // Progress shows while it runs (four 1-second steps), then the verdict.
  await page.waitForSelector('text=/Live: step|Waiting for the load-check worker|waiting: check #\d+ is running/', { timeout: 20000 });
  await page.screenshot({ path: join(shots, '31-loadcheck-running.png'), fullPage: true });
  await page.waitForSelector('#check-reason', { timeout: 60000 });
  assert.match(await page.textContent('#check-status'), /passed/);
  assert.ok(await page.isVisible('svg.hist'), 'per-step histograms are drawn');
  await page.screenshot({ path: join(shots, '32-loadcheck-passed.png'), fullPage: true });

  await page.goto(campaignURL);
  await page.click('button:has-text("Check now")');
  await page.waitForSelector('#readiness li.o-pass:has-text("landing.load_checked")', { timeout: 10000 });
  await page.screenshot({ path: join(shots, '33-gate-load-checked.png'), fullPage: true });

  await page.goto(app.url + '/capacity');
  assert.equal(await page.locator('svg.chart line.capacity').count(), 1, 'the measured capacity is drawn');
  assert.match(await page.textContent('section.card'), /capacity measured by the last passing load check/);
  assert.deepEqual(errors, []);
});
