// The new-user walkthrough in French and in English: a browser set to
// fr-FR (then en-US) signs in, plans a campaign, schedules it, sees why it
// is not ready (the failing gates, each with its fix link, in its language),
// fixes the landing page gate through its link and sees it pass — against a
// real rampe process started as the README says (`rampe serve --demo`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildBinary, startRampe, launch, shots, collectErrors } from './lib.mjs';

let app, browser;
before(async () => { app = await startRampe(buildBinary()); browser = await launch(); });
after(async () => { await browser?.close(); app?.proc.kill('SIGTERM'); });

function local(days, hour) {
  const d = new Date(Date.now() + days * 86400000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(hour)}:00`;
}

const words = {
  'fr-FR': {
    lang: 'fr', signIn: 'Se connecter', nav: 'Campagnes', newCampaign: 'Nouvelle campagne', save: 'Enregistrer', schedule: 'Programmer',
    scheduled: 'programmée', notReady: /Pas prête : \d+ contrôles? reti/, gateTitle: 'La page d\'atterrissage est publiée',
    fix: 'Lier une page d\'atterrissage', checkNow: 'Vérifier maintenant', money: /2\u202f500,00\u00a0€/, required: 'est obligatoire',
  },
  'en-US': {
    lang: 'en', signIn: 'Sign in', nav: 'Campaigns', newCampaign: 'New campaign', save: 'Save', schedule: 'Schedule',
    scheduled: 'scheduled', notReady: /Not ready: \d+ gates? holds? the go-live/, gateTitle: 'Landing page is published',
    fix: 'Link a landing page', checkNow: 'Check now', money: /€2,500\.00/, required: 'is required',
  },
};

for (const [locale, w] of Object.entries(words)) {
  test(`new-user walkthrough in ${locale}`, async () => {
    const ctx = await browser.newContext({ locale, viewport: { width: 1366, height: 900 } });
    const page = await ctx.newPage();
    const errors = collectErrors(page);
    const shot = (n) => page.screenshot({ path: join(shots, `90-walkthrough-${w.lang}-${n}.png`), fullPage: true });

    await page.goto(app.url + '/login');
    assert.equal(await page.getAttribute('html', 'lang'), w.lang, 'the sign-in page speaks the browser\'s language');
    await shot('1-sign-in');
    await page.fill('input[name=email]', app.email);
    await page.fill('input[name=password]', app.password);
    await page.click(`button:has-text("${w.signIn}")`);
    await page.waitForURL('**/campaigns');
    assert.ok(await page.isVisible(`nav a:has-text("${w.nav}")`), 'the navigation speaks the language');

    await page.click(`text=${w.newCampaign}`);
    await page.click(`button:has-text("${w.save}")`);
    assert.ok(await page.isVisible(`text=${w.required}`), 'form errors speak the language');
    await page.fill('input[name=name]', `Walkthrough ${w.lang}`);
    await page.fill('input[name=starts_at]', local(3, 9));
    await page.fill('input[name=ends_at]', local(5, 21));
    await page.check('input[name=channels][value=email]');
    await page.fill('input[name=budget_email]', w.lang === 'fr' ? '2 500,00' : '2,500.00');
    await page.fill('input[name=forecast_email_audience]', '120000');
    await page.fill('input[name=forecast_email_open_rate]', w.lang === 'fr' ? '22 %' : '22%');
    await page.fill('input[name=forecast_email_click_rate]', '0.08');
    await shot('2-plan');
    await page.click(`button:has-text("${w.save}")`);
    await page.waitForURL(/\/campaigns\/\d+$/);
    const campaignURL = page.url();
    assert.match(await page.textContent('body'), w.money, 'the budget is written as the language writes amounts');

    // Scheduling with failing gates asks first; accept.
    page.once('dialog', (d) => d.accept());
    await page.click(`button:has-text("${w.schedule}")`);
    await page.waitForFunction((s) => document.querySelector('h1 .badge')?.textContent.includes(s), w.scheduled);
    await page.click(`button:has-text("${w.checkNow}")`);
    await page.waitForSelector('#readiness .verdict');
    assert.match(await page.textContent('#readiness .verdict'), w.notReady, 'why it is not ready, in the language');
    const gate = page.locator('#readiness li', { hasText: 'landing.published' });
    assert.match(await gate.textContent(), new RegExp(w.gateTitle), 'the gate says itself in the language');
    await shot('3-not-ready');

    // Fix it through the gate's own link: link the demo landing page.
    await gate.locator('a.fix', { hasText: w.fix }).click();
    await page.waitForURL(/\/edit$/);
    const demoPage = await page.$eval('select[name=landing_page_id] option:has-text("/l/demo")', (o) => o.value);
    await page.selectOption('select[name=landing_page_id]', demoPage);
    await page.click(`button:has-text("${w.save}")`);
    await page.waitForURL(campaignURL);
    await page.click(`button:has-text("${w.checkNow}")`);
    await page.waitForSelector('#readiness li.o-pass:has-text("landing.published")');
    await shot('4-fixed');
    await ctx.close();
    assert.deepEqual(errors, [], 'no JavaScript or resource error in the console');
  });
}
