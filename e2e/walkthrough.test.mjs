// The new-user walkthrough in French and in English: a browser set to
// fr-FR (then en-US) signs in, plans a price-comparator campaign starting
// now, schedules it, sees it blocked and why (the failing gates, each with
// its fix link, in its language), fixes the landing page through its link,
// runs the load check the page asks for, and sees the campaign go live —
// against a real rampe process started as the README says (`rampe serve
// --demo`), with the demo's landing page and feeds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildBinary, startRampe, launch, shots, collectErrors } from './lib.mjs';

// Each language is a new user on a clean start: its own `rampe serve
// --demo`, so one walkthrough's campaign does not add to the other's need.
let bin, browser;
before(async () => { bin = buildBinary(); browser = await launch(); });
after(async () => { await browser?.close(); });

// paris writes an instant as the campaign form takes it: local time in
// the campaign's zone (Europe/Paris, the default), to the minute.
function paris(ms) {
  const f = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  return f.format(new Date(ms)).replace(' ', 'T');
}

const words = {
  'fr-FR': {
    lang: 'fr', signIn: 'Se connecter', nav: 'Campagnes', newCampaign: 'Nouvelle campagne', save: 'Enregistrer', schedule: 'Programmer',
    blocked: 'bloquée', notReady: /Pas prête : \d+ contrôles? reti/, gateTitle: 'La page d\'atterrissage est publiée',
    fix: 'Lier une page d\'atterrissage', checkNow: 'Vérifier maintenant', money: /2\u202f500,00\u00a0€/, required: 'est obligatoire',
    noPage: 'aucune page d\'atterrissage n\'est liée à la campagne', runCheck: 'Lancer le test de charge',
    passed: 'réussi', verdict: /chaque palier a tenu jusqu'à/, live: 'En ligne', wentLive: 'mise en ligne : ', ready: 'Prête : tous les contrôles passent.',
  },
  'en-US': {
    lang: 'en', signIn: 'Sign in', nav: 'Campaigns', newCampaign: 'New campaign', save: 'Save', schedule: 'Schedule',
    blocked: 'blocked', notReady: /Not ready: \d+ gates? holds? the go-live/, gateTitle: 'Landing page is published',
    fix: 'Link a landing page', checkNow: 'Check now', money: /€2,500\.00/, required: 'is required',
    noPage: 'no landing page is linked to the campaign', runCheck: 'Run load check',
    passed: 'passed', verdict: /every step held up to/, live: 'Live', wentLive: 'went live: ', ready: 'Ready: every gate passes.',
  },
};

for (const [locale, w] of Object.entries(words)) {
  test(`new-user walkthrough in ${locale}`, async (t) => {
    const app = await startRampe(bin);
    t.after(() => app.proc.kill('SIGTERM'));
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
    // It starts now: scheduled, it meets its go-live at once.
    await page.fill('input[name=starts_at]', paris(Date.now() - 60000));
    await page.fill('input[name=ends_at]', paris(Date.now() + 3 * 86400000));
    await page.check('input[name=channels][value=comparators]');
    await page.fill('input[name=budget_comparators]', w.lang === 'fr' ? '2 500,00' : '2,500.00');
    await page.fill('input[name=forecast_comparators_daily_clicks]', w.lang === 'fr' ? '60 000' : '60,000');
    await page.fill('input[name=forecast_comparators_uplift]', w.lang === 'fr' ? '2,5' : '2.5');
    for (const box of await page.$$('input[name=feed_ids]')) await box.check(); // the demo's feeds
    await shot('2-plan');
    await page.click(`button:has-text("${w.save}")`);
    await page.waitForURL(/\/campaigns\/\d+$/);
    const campaignURL = page.url();
    assert.match(await page.textContent('body'), w.money, 'the budget is written as the language writes amounts');

    // Scheduling with failing gates asks first; accept. Its go-live comes
    // at once and blocks it, saying why in the language.
    page.once('dialog', (d) => d.accept());
    await page.click(`button:has-text("${w.schedule}")`);
    await waitFor(page, campaignURL, () => document.querySelector('h1 .badge')?.textContent, w.blocked);
    const reason = await page.textContent('p.reason');
    assert.ok(reason.includes(w.blocked) && reason.includes(w.noPage), `the status reason speaks the language: ${reason}`);
    await page.click(`button:has-text("${w.checkNow}")`);
    await page.waitForSelector('#readiness .verdict');
    assert.match(await page.textContent('#readiness .verdict'), w.notReady, 'why it is not ready, in the language');
    const gate = page.locator('#readiness li', { hasText: 'landing.published' });
    assert.match(await gate.textContent(), new RegExp(w.gateTitle), 'the gate says itself in the language');
    assert.ok((await gate.textContent()).includes(w.noPage), 'the gate\'s message speaks the language');
    await shot('3-blocked');

    // Fix it through the gate's own link: link the demo landing page.
    await gate.locator('a.fix', { hasText: w.fix }).click();
    await page.waitForURL(/\/edit$/);
    const demoPage = await page.$eval('select[name=landing_page_id] option:has-text("/l/demo")', (o) => o.value);
    await page.selectOption('select[name=landing_page_id]', demoPage);
    await page.click(`button:has-text("${w.save}")`);
    await page.waitForURL(campaignURL);
    await page.click(`button:has-text("${w.checkNow}")`);
    await page.waitForSelector('#readiness li.o-pass:has-text("landing.published")');
    await shot('4-page-linked');

    // Its traffic is more than the demo's load check proved: the page asks
    // for a check at the rate it needs, run against this very server; once
    // it passes, the blocked campaign goes live.
    assert.ok(await page.isVisible('#readiness li.o-fail:has-text("landing.load_checked")'), 'the forecast needs a new load check');
    // A check that fails on a busy machine is run again, as a marketer
    // would; its verdict says why, in the language.
    let status = '';
    for (let attempt = 1; attempt <= 3 && status !== 'passed'; attempt++) {
      await page.goto(campaignURL);
      await page.click(`button:has-text("${w.runCheck}")`);
      await page.waitForURL(/\/loadchecks\/\d+$/);
      const checkURL = page.url();
      await waitFor(page, checkURL, () => document.querySelector('#check-status')?.className, ' lc-', 180,
        () => !/lc-(queued|running)/.test(document.querySelector('#check-status')?.className || ''));
      status = (await page.getAttribute('#check-status', 'class')).replace(/.*lc-/, '');
      if (status !== 'passed') console.log(`load check ${checkURL} ${status}: ${await page.textContent('#check-reason')}`);
    }
    assert.equal(status, 'passed', 'the load check passes');
    assert.ok((await page.textContent('#check-status')).includes(w.passed), 'the status speaks the language');
    assert.match(await page.textContent('#check-reason'), w.verdict, 'the verdict speaks the language');
    await shot('5-load-checked');
    await page.goto(campaignURL);
    await waitFor(page, campaignURL, () => document.querySelector('h1 .badge')?.textContent, w.live.toLowerCase(), 60);
    assert.ok((await page.textContent('p.reason')).includes(w.wentLive), 'the go-live reason speaks the language');
    assert.ok((await page.textContent('#readiness')).includes(w.ready), 'every gate passes');
    await page.goto(app.url + '/campaigns');
    assert.ok(await page.isVisible(`text=Walkthrough ${w.lang}`), 'the campaign is listed');
    await page.goto(campaignURL);
    await shot('6-live');
    await ctx.close();
    assert.deepEqual(errors, [], 'no JavaScript or resource error in the console');
  });
}

// waitFor reloads url until fn's text (run in the page) holds want — or,
// given done, until done (run in the page) is true — at most seconds long
// (a go-live or a load check runs in the background).
async function waitFor(page, url, fn, want, seconds = 30, done) {
  for (let i = 0; i < seconds * 2; i++) {
    if (done && await page.evaluate(done)) return;
    const got = await page.evaluate(fn);
    if (!done && got && got.toLowerCase().includes(want.toLowerCase())) return;
    await page.waitForTimeout(500);
    await page.goto(url);
  }
  assert.fail(`waited ${seconds} s for "${want}" on ${url}`);
}
