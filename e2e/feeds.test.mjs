// Create a comparator feed, generate it, read its validation report and
// download it — in real Chromium against a real rampe process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildBinary, startRampe, launch, signIn, shots, collectErrors } from './lib.mjs';

let app, browser;
before(async () => { app = await startRampe(buildBinary()); browser = await launch(); });
after(async () => { await browser?.close(); app?.proc.kill('SIGTERM'); });

test('create a feed, generate it, see the report, download it', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = collectErrors(page);
  await signIn(page, app);
  await page.goto(app.url + '/feeds');
  assert.ok(await page.isVisible('a:has-text("google-fr")'), 'the demo feeds are listed');
  await page.screenshot({ path: join(shots, '20-feeds.png'), fullPage: true });

  await page.click('text=New feed');
  await page.fill('input[name=name]', 'e2e-google');
  await page.selectOption('select[name=format]', 'google_xml');
  await page.fill('input[name=title_template]', '{brand} – {title}');
  await page.fill('input[name=utm_source]', 'google');
  await page.click('button:has-text("Save")');
  await page.waitForURL(/\/feeds\/\d+$/);
  const feedURL = page.url();

  await page.click('button:has-text("Generate now")');
  await page.waitForSelector('#run-status .badge.imp-done', { timeout: 60000 });
  await page.goto(feedURL);
  assert.match(await page.textContent('#run-status'), /written/);
  // The demo catalog has products that fail on purpose.
  assert.ok(await page.isVisible('code:has-text("required.image_link")'));
  assert.ok(await page.isVisible('code:has-text("price.positive")'));
  await page.screenshot({ path: join(shots, '21-feed-report.png'), fullPage: true });

  const report = await page.request.get(feedURL + '/report.csv');
  assert.equal(report.status(), 200);
  assert.match(await report.text(), /RMP-ODD-1,error,required\.image_link/);
  const publicURL = await page.textContent('header code');
  const feed = await page.request.get(publicURL.trim());
  assert.equal(feed.status(), 200);
  const xml = await feed.text();
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
  assert.match(xml, /<g:title>[^<]+ – [^<]+<\/g:title>/, 'the title template applies');
  assert.ok(!xml.includes('RMP-ODD-1'), 'an item with a blocking error is left out');

  const download = page.waitForEvent('download');
  await page.click('a:has-text("Download")');
  const file = await download;
  assert.equal(file.suggestedFilename(), 'e2e-google.xml');

  await page.goto(app.url + '/products/RMP-ODD-1');
  assert.ok(await page.isVisible('text=left out of the feed'));
  await page.screenshot({ path: join(shots, '22-product-feed-problems.png'), fullPage: true });
  assert.deepEqual(errors, []);
});
