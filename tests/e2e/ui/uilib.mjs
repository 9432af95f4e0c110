// What every browser test shares: Debian's Chromium through playwright-core (1.61.1, the last
// release that runs on Node 18), contexts that refuse and record any request leaving loopback,
// signing in through the page, API calls with the admin token, and screenshots for docs/ui/.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

export const BASE = process.env.HOUSTON_URL;
export const PASSWORD = process.env.UI_PASSWORD;
const TOKEN = process.env.HOUSTON_TOKEN;
const SHOTS = process.env.HOUSTON_UI_SCREENSHOTS || '';

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 860 };

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-quic', '--no-first-run', '--disable-gpu', '--disable-dev-shm-usage',
    ],
  });
}

function loopback(url) {
  if (/^(data|blob|about):/.test(url)) return true;
  try {
    const h = new URL(url).hostname;
    return h === '127.0.0.1' || h === 'localhost' || h === '[::1]';
  } catch {
    return false;
  }
}

// A browser context whose every request is checked: anything not on loopback is aborted and
// recorded in context.foreign (a test asserts it stays empty). Page errors are recorded too.
export async function newContext(browser, options = {}) {
  const ctx = await browser.newContext({ viewport: DESKTOP, colorScheme: 'light', ...options });
  ctx.foreign = [];
  ctx.pageErrors = [];
  await ctx.route('**/*', (route) => {
    const url = route.request().url();
    if (!loopback(url)) {
      ctx.foreign.push(url);
      return route.abort();
    }
    return route.continue();
  });
  ctx.on('page', (p) => p.on('pageerror', (e) => ctx.pageErrors.push(String(e))));
  return ctx;
}

export async function newPage(ctx) {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => ctx.pageErrors.push(String(e)));
  return page;
}

// Signs `user` in through the sign-in page; lands on `next` (or the incidents).
export async function signIn(page, user, next) {
  await page.goto(BASE + '/signin' + (next ? '?next=' + encodeURIComponent(next) : ''));
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
}

// The API with the admin token (the test's own view of the truth).
export async function api(method, p, body) {
  const r = await fetch(BASE + p, {
    method,
    headers: { Authorization: 'Bearer ' + TOKEN, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${p} -> ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// An Events API v2 trigger on the example org's checkout key; resolves to the answer.
export async function enqueue(event) {
  const r = await fetch(BASE + '/v2/enqueue', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      routing_key: '0123456789abcdef0123456789abcdef',
      event_action: 'trigger',
      ...event,
    }),
  });
  const text = await r.text();
  assert.equal(r.status, 202, text);
  return JSON.parse(text);
}

// A full-page screenshot for docs/ui/ when HOUSTON_UI_SCREENSHOTS names a folder.
export async function shot(page, name) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  // From the top, so the sticky header sits where a reader expects it.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
}

// The page's width fits the viewport: nothing scrolls sideways.
export async function assertNoHorizontalScroll(page) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client, `the page is ${scroll}px wide in a ${client}px viewport`);
}

export function assertClean(ctx) {
  assert.deepEqual(ctx.foreign, [], 'requests left loopback');
  assert.deepEqual(ctx.pageErrors, [], 'the page threw');
}

// Receives the notifications houston sends (the test org's receivers are on RECEIVER_PORT when
// the test class sets RECEIVER): every JSON body, and a wait for the first one that matches.
export async function startReceiver() {
  const bodies = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      let body = null;
      try {
        body = JSON.parse(data);
      } catch {
        body = { raw: data };
      }
      bodies.push({ path: req.url, body });
      for (const w of waiters.slice()) {
        if (w.match(req.url, body)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(body);
        }
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((r) => server.listen(Number(process.env.RECEIVER_PORT), '127.0.0.1', r));
  server.unref(); // never what keeps the test process alive
  return {
    bodies,
    // The first body (received before or after) for which match(path, body) holds.
    waitFor(match, timeout = 10000) {
      const seen = bodies.find((b) => match(b.path, b.body));
      if (seen) return Promise.resolve(seen.body);
      return new Promise((resolve, reject) => {
        const w = { match, resolve };
        waiters.push(w);
        setTimeout(() => reject(new Error('no matching notification arrived')), timeout).unref();
      });
    },
    close: () =>
      new Promise((r) => {
        server.close(r);
        server.closeAllConnections(); // houston keeps its connections alive
      }),
  };
}
