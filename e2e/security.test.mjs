// Sign-in redirects stay on this site, in real Chromium: a `next` holding a
// tab or a CR LF neither leads off-site nor sets a header of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildBinary, startRampe, launch, shots } from './lib.mjs';

let app, browser;
before(async () => { app = await startRampe(buildBinary()); browser = await launch(); });
after(async () => { await browser?.close(); app?.proc.kill('SIGTERM'); });

const hostile = [
  '/%09/evil.example/',
  '/%0d%0aSet-Cookie:%20rampe_session=attacker',
  '//evil.example/',
  '/%5Cevil.example',
  'https://evil.example/',
];

for (const next of hostile) {
  test(`sign-in with next=${next} stays on Rampe`, async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 800 } });
    const offsite = [];
    // Nothing leaves 127.0.0.1: a request elsewhere is recorded and refused.
    await context.route((url) => !url.href.startsWith(app.url), (route) => { offsite.push(route.request().url()); route.abort(); });
    const page = await context.newPage();
    await page.goto(`${app.url}/login?next=${next}`);
    await page.fill('input[name=email]', app.email);
    await page.fill('input[name=password]', app.password);
    await page.click('button:has-text("Sign in")');
    await page.waitForLoadState('load');
    assert.ok(page.url().startsWith(app.url + '/'), `left the site: ${page.url()}`);
    assert.deepEqual(offsite, [], 'no request went off-site');
    const cookies = await context.cookies();
    assert.ok(!cookies.some((c) => c.value === 'attacker'), 'no cookie of the attacker');
    assert.ok(cookies.some((c) => c.name === 'rampe_session' && c.value !== 'attacker'), 'signed in');
    if (next.startsWith('/%09')) await page.screenshot({ path: join(shots, '50-signin-next-stays.png') });
    await context.close();
  });
}
