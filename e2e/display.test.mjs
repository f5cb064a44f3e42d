// Upload a creative, paste a placement's tag into a test page served on
// 127.0.0.1, and watch the tag switch when the campaign goes live and when
// it is paused — in real Chromium against a real rampe process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { deflateSync } from 'node:zlib';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBinary, startRampe, launch, signIn, shots, collectErrors, freePort } from './lib.mjs';

let app, browser, site;
before(async () => { app = await startRampe(buildBinary()); browser = await launch(); });
after(async () => { await browser?.close(); site?.close(); app?.proc.kill('SIGTERM'); });

// png draws a solid w×h PNG (8-bit RGB), the bytes a creative upload takes.
function png(w, h, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const x of buf) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4); sum.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  const row = Buffer.alloc(1 + w * 3);
  for (let x = 0; x < w; x++) { row[1 + x * 3] = r; row[2 + x * 3] = g; row[3 + x * 3] = b; }
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// shownAlt reloads the test page until its ad shows an image whose alt
// matches, and returns it.
async function waitForAd(page, url, alt) {
  const end = Date.now() + 20000;
  let seen = '';
  while (Date.now() < end) {
    await page.goto(url);
    seen = await page.locator('#slot img').first().getAttribute('alt', { timeout: 5000 }).catch(() => '');
    if (alt.test(seen)) return seen;
    await page.waitForTimeout(300);
  }
  assert.fail(`the ad never showed ${alt}; last seen: ${seen}`);
}

test('a creative is uploaded, its tag pasted on a page, and the ad follows the campaign', async () => {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const errors = collectErrors(page);
  await signIn(page, app);

  // A placement of its own for the test page.
  await page.goto(app.url + '/placements');
  await page.fill('#placement-form input[name=key]', 'e2e-slot');
  await page.fill('#placement-form input[name=name]', 'E2E test page');
  await page.fill('#placement-form input[name=site]', '127.0.0.1');
  await page.selectOption('#placement-form select[name=size]', '300x250');
  await page.click('#placement-form button:has-text("Add placement")');
  await page.waitForSelector('textarea[data-placement="e2e-slot"]');

  // The demo's paused display campaign: its Display tab.
  await page.goto(app.url + '/campaigns');
  await page.click('a:has-text("Back-to-work office chairs")');
  const campaignURL = page.url();
  await page.click('a:has-text("Creatives, placements and tags")');
  await page.waitForURL(/\/display$/);

  // A wrong file is refused with the reason, nothing else changes.
  const dir = mkdtempSync(join(tmpdir(), 'rampe-e2e-display-'));
  writeFileSync(join(dir, 'shell.png'), '<?php system($_GET["c"]); ?>');
  await page.setInputFiles('#creative-form input[name=file]', join(dir, 'shell.png'));
  await page.fill('#creative-form input[name=alt]', 'x');
  await page.click('#creative-form button:has-text("Upload")');
  assert.match(await page.textContent('.flash.bad'), /not an image Rampe takes/);

  writeFileSync(join(dir, 'e2e.png'), png(300, 250, [20, 140, 60]));
  await page.setInputFiles('#creative-form input[name=file]', join(dir, 'e2e.png'));
  await page.fill('#creative-form input[name=alt]', 'E2E green banner');
  await page.fill('#creative-form input[name=rotation_weight]', '100');
  await page.click('#creative-form button:has-text("Upload")');
  await page.waitForSelector('img[alt="E2E green banner"]');
  await page.check('input[name=placement][aria-label="Target e2e-slot"]');
  await page.click('#targets-form button:has-text("Save placements")');
  await page.waitForSelector('.flash.ok');
  const tag = await page.inputValue('textarea[data-placement="e2e-slot"]');
  assert.match(tag, /^<script src="http:\/\/127\.0\.0\.1:\d+\/d\/e2e-slot\.js"><\/script>$/);
  await page.screenshot({ path: join(shots, '60-display-tab.png'), fullPage: true });

  // The tag, copied into a partner's page on another origin.
  const port = await freePort();
  site = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`<!doctype html><title>Partner</title><h1>Partner blog</h1><div id="slot">${tag}</div>`);
  });
  await new Promise((ok) => site.listen(port, '127.0.0.1', ok));
  const partner = await browser.newPage({ viewport: { width: 800, height: 600 } });
  const partnerURL = `http://127.0.0.1:${port}/`;
  // Paused: the house creative of the size.
  const house = await waitForAd(partner, partnerURL, /Rampe Shop/);
  await partner.screenshot({ path: join(shots, '61-tag-paused-house.png') });

  // Resumed: within a second (plus the move's job), the campaign's creatives.
  // The demo pauses this campaign once its load check has passed. The new
  // creative changed its partner kits, which go out again first, so it may
  // go live only after the demo gave up pausing it: reload until it is
  // paused or live, and pause it then, as a marketer would.
  const resume = page.locator('button:has-text("Resume")');
  const pause = page.locator('button:has-text("Pause")');
  for (let i = 0; i < 120; i++) {
    await page.goto(campaignURL);
    if (await resume.count() > 0 || await pause.count() > 0) break;
    await page.waitForTimeout(1000);
  }
  if (await pause.count() > 0) {
    await pause.click();
    await page.waitForSelector('button:has-text("Resume")');
  }
  await resume.click();
  await waitForAd(partner, partnerURL, /E2E green banner|Office chairs/);
  await partner.screenshot({ path: join(shots, '62-tag-live.png') });
  const href = await partner.locator('#slot a').first().getAttribute('href');
  assert.match(href, /\/r\/[A-Za-z0-9_.-]+$/, 'the click goes through the redirector');

  // Paused again: back to the house creative.
  await page.goto(campaignURL);
  await page.click('button:has-text("Pause")');
  assert.equal(await waitForAd(partner, partnerURL, /Rampe Shop/), house);
  await partner.screenshot({ path: join(shots, '63-tag-paused-again.png') });

  // The tab counts the impressions the partner page made.
  await page.goto(campaignURL + '/display');
  assert.match(await page.textContent('main'), /[1-9]\d* impressions/);
  // The tab fits a phone: a 728-px creative scrolls inside its box.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth);
  assert.ok(overflow <= 0, `the Display tab scrolls sideways by ${overflow} px at 390 px`);
  await page.screenshot({ path: join(shots, '64-display-tab-390.png'), fullPage: true });
  assert.deepEqual(errors, []);
});
