// Shared helpers of the browser tests: build and start a real rampe process
// on 127.0.0.1 with demo data, and launch Debian's Chromium.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
export const shots = process.env.RAMPE_SCREENSHOTS || join(root, 'artifacts', 'screenshots');
mkdirSync(shots, { recursive: true });

export function buildBinary() {
  if (process.env.RAMPE_BIN) return process.env.RAMPE_BIN;
  const out = join(mkdtempSync(join(tmpdir(), 'rampe-e2e-bin-')), 'rampe');
  execFileSync('go', ['build', '-o', out, './cmd/rampe'], { cwd: root, stdio: 'inherit' });
  return out;
}

// freePort is a TCP port free on 127.0.0.1 now.
export function freePort() {
  return new Promise((ok) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => ok(port)); });
  });
}

// startRampe runs `rampe serve --demo` (with extraEnv added to its
// environment) and resolves with its URL and the demo admin's credentials
// once it listens.
export async function startRampe(bin, extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rampe-e2e-'));
  const port = await freePort();
  // public.base_url must match the address: load checks target it.
  const proc = spawn(bin, ['serve', '--demo'], {
    cwd: dir,
    env: { ...process.env, RAMPE_HTTP_ADDR: `127.0.0.1:${port}`, RAMPE_PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      RAMPE_DATABASE_DSN: join(dir, 'rampe.db'), RAMPE_REDIS_URL: '', RAMPE_LOG_LEVEL: 'warn', RAMPE_LOADCHECK_STEP_DURATION: '1s', ...extraEnv },
  });
  let out = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('rampe did not start:\n' + out)), 30000);
    const onData = (b) => {
      out += b.toString();
      const url = out.match(/listening on (http:\/\/[0-9.:]+)/);
      const pw = out.match(/password: (\S+)/);
      if (url && pw) {
        clearTimeout(timer);
        ok({ url: url[1], email: out.match(/e-mail:\s+(\S+)/)[1], password: pw[1], proc, log: () => out });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => fail(new Error(`rampe exited ${code}:\n${out}`)));
  });
}

export async function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export async function signIn(page, app) {
  await page.goto(app.url + '/login');
  await page.fill('input[name=email]', app.email);
  await page.fill('input[name=password]', app.password);
  await page.click('button:has-text("Sign in")');
  await page.waitForURL('**/campaigns');
}

// parisLocal formats an instant as the datetime-local value a marketer in
// Europe/Paris would type.
export function parisLocal(ms) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour === '24' ? '00' : parts.hour}:${parts.minute}`;
}

// collectErrors records page errors and failed requests except expected ones.
export function collectErrors(page, allowed = ['422']) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !allowed.some((a) => m.text().includes(a))) errors.push(m.text()); });
  return errors;
}
