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
// campaign's page and the campaign form.
async function pagesToCheck(page) {
  await page.goto(app.url + '/campaigns');
  const nav = await page.$$eval('nav.side .links a', (as) => as.map((a) => new URL(a.href).pathname));
  const campaign = await page.$eval('table.list tbody a[href^="/campaigns/"]', (a) => new URL(a.href).pathname);
  return [...new Set([...nav, campaign, '/campaigns/new'])];
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
