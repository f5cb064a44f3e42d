// Every page of the navigation, and a campaign page, fits the screen: no
// horizontal scroll at 1366 px (a laptop) nor at 390 px (a phone), where
// the navigation folds behind a Menu button. Screenshots are kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildBinary, startRampe, launch, signIn, shots, collectErrors } from './lib.mjs';

let app, browser;
before(async () => { app = await startRampe(buildBinary()); browser = await launch(); });
after(async () => { await browser?.close(); app?.proc.kill('SIGTERM'); });

// pagesToCheck is every link of the navigation plus the first demo
// campaign's page, its affiliation tab (its partners' long tracked links)
// and the campaign form.
async function pagesToCheck(page) {
  await page.goto(app.url + '/campaigns');
  const nav = await page.$$eval('nav.side .links a', (as) => as.map((a) => new URL(a.href).pathname));
  const campaign = await page.$eval('table.list tbody a[href^="/campaigns/"]', (a) => new URL(a.href).pathname);
  const affiliate = await page.$eval('table.list tbody a:has-text("Black Friday")', (a) => new URL(a.href).pathname);
  return [...new Set([...nav, campaign, affiliate + '/affiliation', '/campaigns/new'])];
}

for (const width of [1366, 390]) {
  test(`every navigation page fits ${width} px without horizontal scroll`, async () => {
    const page = await browser.newPage({ viewport: { width, height: width > 500 ? 900 : 844 } });
    const errors = collectErrors(page);
    await signIn(page, app);
    const paths = await pagesToCheck(page);
    assert.ok(paths.length >= 12, `the navigation lists the pages: ${paths}`);
    const wide = [];
    for (const path of paths) {
      await page.goto(app.url + path);
      const m = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
      if (m.scroll > m.inner) wide.push(`${path}: ${m.scroll} px > ${m.inner} px`);
      if (width > 500) {
        // Nor a card whose content hides behind a scrollbar of its own.
        const cards = await page.$$eval('main .card', (cs) => cs.filter((c) => c.scrollWidth > c.clientWidth + 1)
          .map((c) => `${c.querySelector('h2')?.textContent ?? c.id ?? 'a card'}: ${c.scrollWidth} px > ${c.clientWidth} px`));
        for (const c of cards) wide.push(`${path}: ${c}`);
      }
      const name = path.replace(/^\//, '').replace(/\//g, '-') || 'home';
      await page.screenshot({ path: join(shots, `fit-${width}-${name}.png`), fullPage: true });
    }
    assert.deepEqual(wide, [], 'pages wider than the screen');
    if (width < 500) {
      // The navigation is folded: the Menu button opens it.
      assert.equal(await page.isVisible('nav.side .links a[href="/calendar"]'), false, 'the nav is folded on a phone');
      await page.click('nav.side label.menu');
      assert.ok(await page.isVisible('nav.side .links a[href="/calendar"]'), 'Menu opens the navigation');
      await page.screenshot({ path: join(shots, `fit-${width}-menu-open.png`) });
    }
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test('on a 1366×768 laptop the whole navigation, sign-out included, can be reached', async () => {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  await signIn(page, app);
  await page.goto(app.url + '/campaigns');
  const out = page.locator('nav.side .me form button, nav.side .me a').last();
  await out.scrollIntoViewIfNeeded();
  assert.ok(await out.isVisible(), 'the last link of the navigation comes into view');
  const box = await out.boundingBox();
  assert.ok(box && box.y >= 0 && box.y + box.height <= 768, `it is on the screen: ${JSON.stringify(box)}`);
  await page.screenshot({ path: join(shots, 'fit-1366x768-nav-end.png') });
  await page.close();
});

test('forms show only the fields of the choice made', async () => {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const errors = collectErrors(page);
  await signIn(page, app);
  await page.goto(app.url + '/feeds/new');
  await page.selectOption('select[name=format]', 'google_xml');
  assert.equal(await page.isVisible('input[name=col_header_0]'), false, 'generic columns hidden for Google XML');
  assert.equal(await page.isVisible('input[name=delivery_time]'), false, 'idealo delivery time hidden for Google XML');
  assert.ok(await page.isVisible('input[name=shipping]'));
  await page.selectOption('select[name=format]', 'generic');
  assert.ok(await page.isVisible('input[name=col_header_0]'), 'generic columns shown');
  assert.equal(await page.isVisible('input[name=shipping]'), false);
  await page.screenshot({ path: join(shots, 'form-feed-generic.png'), fullPage: true });

  await page.goto(app.url + '/promotions/new');
  await page.selectOption('select[name=scope]', 'brand');
  assert.equal(await page.isVisible('textarea[name=scope_value]'), false, 'the SKU list is hidden for a brand');
  const brands = await page.$$eval('select[name=scope_brand] option', (os) => os.map((o) => o.textContent));
  assert.ok(brands.length > 3, `brands come from the catalog: ${brands}`);
  await page.selectOption('select[name=scope]', 'product_type');
  assert.ok(await page.isVisible('select[name=scope_type]'));
  await page.screenshot({ path: join(shots, 'form-promotion-type.png'), fullPage: true });

  await page.goto(app.url + '/products/import');
  assert.ok(await page.isVisible('a:has-text("demo-catalog.csv")'), "the demo's import is listed");
  assert.deepEqual(errors, []);
  await page.close();
});
