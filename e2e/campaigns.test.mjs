// A marketer signs in, plans a campaign, schedules it and finds it in the
// calendar, in real Chromium against a real rampe process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildBinary, startRampe, launch, signIn, shots } from './lib.mjs';

let app, browser;

before(async () => {
  app = await startRampe(buildBinary());
  browser = await launch();
});

after(async () => {
  await browser?.close();
  app?.proc.kill('SIGTERM');
});

function local(days, hour) {
  const d = new Date(Date.now() + days * 86400000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(hour)}:00`;
}

test('sign in, create and schedule a campaign, see it in the calendar', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The form with mistakes answers 422 on purpose; any other error counts.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('422')) errors.push(m.text()); });

  await page.goto(app.url + '/login');
  await page.screenshot({ path: join(shots, '01-sign-in.png') });
  await signIn(page, app);
  assert.ok(await page.isVisible('text=Black Friday'), 'demo campaigns are listed');
  await page.screenshot({ path: join(shots, '02-campaigns.png'), fullPage: true });

  await page.click('text=New campaign');
  // A form with mistakes comes back with the errors beside the fields.
  await page.fill('input[name=name]', '');
  await page.click('button:has-text("Save")');
  assert.ok(await page.isVisible('text=is required'), 'the name error is shown');
  assert.ok(await page.isVisible('text=choose at least one channel'), 'the channel error is shown');
  await page.screenshot({ path: join(shots, '03-form-errors.png'), fullPage: true });

  await page.fill('input[name=name]', 'Fête des pères — e-mail');
  await page.fill('input[name=starts_at]', local(3, 9));
  await page.fill('input[name=ends_at]', local(5, 21));
  await page.check('input[name=channels][value=email]');
  const demoPage = await page.$eval('select[name=landing_page_id] option:has-text("/l/demo")', (o) => o.value);
  await page.selectOption('select[name=landing_page_id]', demoPage);
  await page.fill('input[name=budget_email]', '2 500,00');
  await page.fill('input[name=forecast_email_audience]', '120000');
  await page.fill('input[name=forecast_email_open_rate]', '0.22');
  await page.fill('input[name=forecast_email_click_rate]', '0.08');
  await page.screenshot({ path: join(shots, '04-form.png'), fullPage: true });
  await page.click('button:has-text("Save")');
  await page.waitForURL(/\/campaigns\/\d+$/);
  assert.ok(await page.isVisible('text=Campaign created as a draft'));
  assert.match(await page.textContent('body'), /€2,500\.00/);
  await page.waitForSelector('.verdict');
  for (const gate of ['schedule.valid', 'channels.configured', 'landing.published', 'promotions.published']) {
    assert.ok(await page.isVisible(`#readiness li.o-pass:has-text("${gate}")`), gate + ' passes');
  }

  // Gates fail (its e-mail has no message yet): Schedule
  // asks first, naming it, and the flash says it again.
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.accept(); });
  await page.click('button:has-text("Schedule")');
  await page.waitForSelector('text=/Scheduled\\. Rampe will check every gate|Scheduled, but \\d+ gates? fails? now/');
  // The e-mail gates fail: the campaign has no message yet.
  if (asked) assert.match(asked, /These gates fail now[\s\S]*\(email\.message\)[\s\S]*Schedule anyway\?/);
  assert.match(await page.textContent('h1 .badge'), /scheduled/);
  assert.ok(await page.isVisible('td:has-text("admin@rampe.demo")'), 'the audit line names who scheduled');
  await page.screenshot({ path: join(shots, '05-campaign-scheduled.png'), fullPage: true });

  await page.click('button:has-text("Check now")');
  await page.waitForSelector('#readiness li:has-text("landing.load_checked")');

  await page.goto(app.url + '/calendar');
  const month = local(3, 9).slice(0, 7);
  await page.goto(app.url + '/calendar?month=' + month);
  assert.ok(await page.isVisible('.calendar a:has-text("Fête des pères")'), 'the campaign is in the calendar');
  await page.screenshot({ path: join(shots, '06-calendar.png'), fullPage: true });

  await page.goto(app.url + '/alerts');
  await page.screenshot({ path: join(shots, '07-alerts.png'), fullPage: true });
  assert.deepEqual(errors, [], 'no JavaScript or resource error in the console');
});
