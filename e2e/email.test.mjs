// The e-mail channel end to end against a real SMTP server, Mailpit: a
// marketer writes a campaign's message in the editor, the campaign goes
// live and mails its list through smtp.url; what arrived is read through
// Mailpit's API. The DKIM signature verifies (go-msgauth, with the public
// key of the test's own Ed25519 key), the RFC 8058 one-click POST to the
// List-Unsubscribe URL unsubscribes the contact (the API says so), and a
// tracked link of the message lands on /l/{slug} with the campaign's UTM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildBinary, startRampe, launch, signIn, shots, collectErrors, freePort } from './lib.mjs';

const root = resolve(import.meta.dirname, '..');
const domain = 'shop.example';
const selector = 'e2e';
let app, browser, mailpit, mailpitURL, dkimRecord, verifier;

// mailpitBin is the Mailpit that .ci/run installs (go install …@v1.33.1).
function mailpitBin() {
  if (process.env.MAILPIT_BIN) return process.env.MAILPIT_BIN;
  const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
  const bin = join(gopath.split(':')[0], 'bin', 'mailpit');
  if (!existsSync(bin)) throw new Error(`no Mailpit at ${bin}: go install github.com/axllent/mailpit@v1.33.1 (.ci/run does)`);
  return bin;
}

async function startMailpit() {
  const smtpPort = await freePort();
  const httpPort = await freePort();
  const proc = spawn(mailpitBin(), ['--smtp', `127.0.0.1:${smtpPort}`, '--listen', `127.0.0.1:${httpPort}`, '--smtp-disable-rdns', '--quiet'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (b) => { out += b; });
  proc.stderr.on('data', (b) => { out += b; });
  const url = `http://127.0.0.1:${httpPort}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url + '/api/v1/info')).ok) return { proc, smtpPort, url };
    } catch { /* not listening yet */ }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  proc.kill();
  throw new Error('Mailpit did not start:\n' + out);
}

before(async () => {
  mailpit = await startMailpit();
  mailpitURL = mailpit.url;
  // The DKIM key: Ed25519, PKCS#8 PEM for Rampe; its DNS record carries
  // the raw 32-byte public key (RFC 8463), the tail of the SPKI DER.
  const dir = mkdtempSync(join(tmpdir(), 'rampe-e2e-dkim-'));
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const keyFile = join(dir, 'dkim.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  dkimRecord = `v=DKIM1; k=ed25519; p=${raw.toString('base64')}`;
  verifier = join(dir, 'dkimverify');
  execFileSync('go', ['build', '-o', verifier, './e2e/dkimverify'], { cwd: root, stdio: 'inherit' });
  app = await startRampe(buildBinary(), {
    RAMPE_SMTP_URL: `smtp://127.0.0.1:${mailpit.smtpPort}?tls=none`,
    RAMPE_EMAIL_DKIM_DOMAIN: domain, RAMPE_EMAIL_DKIM_SELECTOR: selector, RAMPE_EMAIL_DKIM_KEY_FILE: keyFile,
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  app?.proc.kill('SIGTERM');
  mailpit?.proc.kill('SIGTERM');
});

// api calls Rampe's JSON API with a bearer token.
function apiClient(token) {
  return async (method, path, body) => {
    const res = await fetch(app.url + '/api/v1' + path, {
      method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

async function waitFor(what, fn, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((ok) => setTimeout(ok, 500));
  }
  throw new Error('timed out waiting for ' + what);
}

test('a live campaign mails its list through Mailpit: DKIM verifies, one-click unsubscribe, tracked click with UTM', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = collectErrors(page);
  await signIn(page, app);

  // An API token, made in the UI.
  await page.goto(app.url + '/settings/tokens');
  await page.fill('input[name=name]', 'e2e e-mail');
  await page.click('button:has-text("Create token")');
  const api = apiClient((await page.textContent('#new-token')).trim());

  // A list of three contacts, and a campaign on the e-mail channel whose
  // window has begun, on the demo's landing page.
  const list = await api('POST', '/lists', { name: 'E2E Mailpit', double_opt_in: false });
  const people = [['ana.e2e@example.org', 'Ana Lopes'], ['bruno.e2e@example.org', 'Bruno Petit'], ['chloe.e2e@example.org', 'Chloé Martin']];
  const contacts = [];
  for (const [email, name] of people) {
    contacts.push(await api('POST', '/contacts', { email, name, locale: 'fr', status: 'opted_in', list_ids: [list.id] }));
  }
  const { pages } = await api('GET', '/pages');
  const demo = pages.find((p) => p.slug === 'demo');
  assert.ok(demo, 'the demo landing page exists');
  const camp = await api('POST', '/campaigns', {
    name: 'E2E e-mail through Mailpit', channels: ['email'], time_zone: 'Europe/Paris',
    starts_at: new Date(Date.now() - 60000).toISOString().replace(/\.\d+Z$/, 'Z'),
    ends_at: new Date(Date.now() + 2 * 86400000).toISOString().replace(/\.\d+Z$/, 'Z'),
    currency: 'EUR', budgets: { email: 5000 }, landing_page_id: demo.id,
    forecast: { email: { audience: 3, open_rate: 0.5, click_rate: 0.5 } },
  });

  // The message, written in the editor.
  await page.goto(`${app.url}/campaigns/${camp.id}/email`);
  await page.fill('input[name=from_name]', 'Boutique Rampe');
  await page.fill('input[name=from]', `news@${domain}`);
  await page.fill('input[name=subject]', '{{.first_name}}, nos offres commencent');
  await page.fill('input[name=preheader]', 'Livraison offerte pendant trois jours');
  await page.selectOption('select[name=list_id]', String(list.id));
  await page.fill('textarea[name=body]', 'Bonjour {{or .first_name "client"}},\n\nNos offres commencent : [voir la sélection]({{.landing_url}}).\n\n{{.products}}\n');
  await page.click('button:has-text("Save message")');
  await page.waitForSelector('text=Message saved');
  await page.waitForSelector('iframe.pv-desktop');
  const preview = page.frameLocator('iframe.pv-desktop');
  await preview.locator('text=Bonjour Ana').waitFor();
  await page.frameLocator('iframe.pv-phone').locator('text=Bonjour Ana').waitFor();
  // The previews are as wide as a desktop mail client and a phone.
  assert.equal(Math.round((await page.locator('iframe.pv-desktop').evaluate((f) => f.clientWidth))), 640);
  assert.equal(Math.round((await page.locator('iframe.pv-phone').evaluate((f) => f.clientWidth))), 375);
  await page.screenshot({ path: join(shots, '40-email-editor.png'), fullPage: true });
  // Chromium paints no iframe out of the viewport: the previews get a
  // screenshot of their own, scrolled into view.
  await page.locator('#preview').scrollIntoViewIfNeeded();
  await page.waitForTimeout(300);
  await page.locator('#preview').screenshot({ path: join(shots, '40-email-preview.png') });

  // A load check of the page at this campaign's need, then live: its
  // window has begun, so scheduling puts it live as soon as its gates pass.
  await page.goto(`${app.url}/campaigns/${camp.id}`);
  await page.click('button:has-text("Run load check")');
  await page.waitForURL(/\/loadchecks\/\d+$/);
  await page.waitForSelector('#check-reason', { timeout: 90000 });
  assert.match(await page.textContent('#check-status'), /passed/);
  await page.goto(`${app.url}/campaigns/${camp.id}`);
  await page.click('button:has-text("Check now")');
  await page.waitForSelector('#readiness li:has-text("email.sender")');
  for (const gate of ['email.audience', 'email.message', 'email.sender', 'landing.load_checked']) {
    assert.ok(await page.isVisible(`#readiness li.o-pass:has-text("${gate}")`), gate + ' passes: ' + await page.textContent('#readiness'));
  }
  await page.click('button:has-text("Schedule")');
  await waitFor('the campaign to go live', async () => (await api('GET', `/campaigns/${camp.id}`)).status === 'live');

  // Three messages arrive in Mailpit, one per contact.
  const ours = (all) => all.filter((m) => people.some((p) => p[0] === m.To[0]?.Address));
  const arrived = await waitFor('three messages in Mailpit', async () => {
    const res = await (await fetch(`${mailpitURL}/api/v1/messages?limit=500`)).json();
    return ours(res.messages || []).length >= 3 ? ours(res.messages) : null;
  }).catch(async (e) => {
    const res = await (await fetch(`${mailpitURL}/api/v1/messages?limit=5`)).json();
    await page.goto(`${app.url}/campaigns/${camp.id}/email`);
    throw new Error(`${e.message}; Mailpit holds ${res.total} messages ${JSON.stringify(res.messages?.map((m) => [m.To, m.Subject]))}; ` +
      `sends: ${await page.textContent('#sends')}; campaign: ${JSON.stringify(await api('GET', `/campaigns/${camp.id}`))}\n${app.log().slice(-3000)}`);
  });
  assert.equal(arrived.length, 3, 'one message per contact');
  assert.deepEqual(arrived.map((m) => m.To[0].Address).sort(), people.map((p) => p[0]).sort());
  await page.goto(`${app.url}/campaigns/${camp.id}/email`);
  await page.waitForSelector('#sends-table :text("3 sent")');
  await page.screenshot({ path: join(shots, '41-email-sent.png'), fullPage: true });

  const ana = arrived.find((m) => m.To[0].Address === people[0][0]);
  const raw = await (await fetch(`${mailpitURL}/api/v1/message/${ana.ID}/raw`)).text();

  // DKIM: the signature verifies against the test's public key and covers
  // the list headers.
  let verdict;
  try {
    verdict = JSON.parse(execFileSync(verifier, ['-record', dkimRecord, '-name', `${selector}._domainkey.${domain}`], { input: raw, encoding: 'utf8' }));
  } catch (e) {
    assert.fail('DKIM does not verify: ' + (e.stdout || e.message) + '\n' + raw.slice(0, 3000));
  }
  assert.ok(verdict.ok, JSON.stringify(verdict));
  assert.equal(verdict.signatures[0].domain, domain);
  const signed = verdict.signatures[0].headers.map((h) => h.toLowerCase());
  for (const h of ['from', 'subject', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id']) assert.ok(signed.includes(h), `the signature covers ${h}: ${signed}`);

  // The message as Mailpit parsed it: the headers of RFC 2369 and 8058.
  const msg = await (await fetch(`${mailpitURL}/api/v1/message/${ana.ID}`)).json();
  const headers = await (await fetch(`${mailpitURL}/api/v1/message/${ana.ID}/headers`)).json();
  assert.deepEqual(headers['List-Unsubscribe-Post'], ['List-Unsubscribe=One-Click']);
  const unsubURL = headers['List-Unsubscribe'][0].match(/<(https?:[^>]+)>/)[1];
  assert.ok(unsubURL.startsWith(app.url + '/u/'), unsubURL);
  assert.match(headers['List-Unsubscribe'][0], /<mailto:/);
  assert.ok(msg.HTML.includes('Bonjour Ana'), 'the message is personalised');
  // As a recipient reads it (a blank page of its own: Rampe's CSP would
  // refuse the message's inline styles).
  const reader = await browser.newPage({ viewport: { width: 800, height: 900 } });
  await reader.setContent(msg.HTML);
  await reader.screenshot({ path: join(shots, '42-email-received.png'), fullPage: true });
  await reader.close();

  // A tracked link of the message lands on the landing page with the
  // campaign's UTM.
  const tracked = [...msg.HTML.matchAll(/href="([^"]+\/r\/[^"]+)"/g)].map((m) => m[1].replaceAll('&amp;', '&'));
  assert.ok(tracked.length > 0, 'the message has tracked links');
  assert.ok(tracked.every((l) => l.startsWith(app.url + '/r/')), tracked.join(' '));
  await page.goto(tracked[0]);
  const landed = new URL(page.url());
  assert.equal(landed.pathname, '/l/demo');
  assert.equal(landed.searchParams.get('utm_medium'), 'email');
  assert.ok(landed.searchParams.get('utm_source'), 'utm_source is set');
  assert.ok(landed.searchParams.get('utm_campaign'), 'utm_campaign is set');
  await page.screenshot({ path: join(shots, '43-email-click-landing.png') });

  // The one-click POST (RFC 8058), no sign-in, no cookie: Ana is
  // unsubscribed and suppressed; the others are not.
  const res = await fetch(unsubURL, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  assert.ok(res.status >= 200 && res.status < 300, `one-click POST: ${res.status}`);
  const after = await api('GET', `/contacts/${contacts[0].id}`);
  assert.equal(after.status, 'unsubscribed');
  assert.equal(after.suppressed, true);
  assert.equal((await api('GET', `/contacts/${contacts[1].id}`)).status, 'opted_in');
  await page.goto(`${app.url}/contacts/${contacts[0].id}`);
  await page.screenshot({ path: join(shots, '44-email-unsubscribed-contact.png'), fullPage: true });
  assert.deepEqual(errors, []);
});
