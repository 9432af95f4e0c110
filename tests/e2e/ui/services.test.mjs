// Services and notifications in a real browser (tests/e2e/ui_services_test.py), on the example
// org: the services list with owner team, tier, runbook, open incidents and last event; bob (a
// responder) sees no integration key, alice (an admin) does; an alert pages people through the
// example org's webhooks, which point at 127.0.0.1:9000 where nothing listens, and the
// notifications page shows those failed deliveries with their error; both pages fit a phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, PHONE, launch, newContext, newPage, signIn, api, enqueue, shot,
  assertNoHorizontalScroll, assertClean,
} from './uilib.mjs';

const CHECKOUT_KEY = '0123456789abcdef0123456789abcdef';
let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

// Polls `fn` (no fixed sleeps in the test's logic: it stops as soon as `fn` answers) until it
// returns something truthy.
async function until(fn, what, timeout = 15000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('services: team, tier, runbook, open incidents; keys for admins only', async () => {
  const dedup = 'ui-services-' + Date.now();
  const sent = await enqueue({
    dedup_key: dedup,
    payload: { summary: 'Checkout errors above 5%', source: 'prometheus', severity: 'error' },
  });
  assert.equal(sent.dedup_key, dedup);

  const bobCtx = await newContext(browser);
  const bob = await newPage(bobCtx);
  await signIn(bob, 'bob', '/services');
  const card = bob.getByRole('article', { name: 'Checkout API' });
  await card.waitFor();
  await card.getByText('Payments', { exact: true }).waitFor();
  await card.getByText('Tier 1').waitFor();
  const runbook = card.getByRole('link', { name: 'Runbook for Checkout API' });
  assert.equal(await runbook.getAttribute('href'), 'https://wiki.example.com/runbooks/checkout');
  // The alert above opened an incident: counted, linked to the incidents of the service.
  const open = card.getByRole('link', { name: /\d+ open/ });
  assert.equal(await open.getAttribute('href'), '/incidents?service=checkout');
  await card.locator('time').first().waitFor(); // the last event
  await card.getByText('Depends on').waitFor();
  await card.getByRole('link', { name: 'Payments API' }).waitFor();
  await card.getByText('Synthetic checks').waitFor();
  // A responder sees types and names, never a key.
  await bob.getByText('Integration keys are shown to admins only.').waitFor();
  const bobText = await bob.locator('main').innerText();
  assert.ok(!bobText.includes(CHECKOUT_KEY), 'bob saw an integration key');
  assert.ok(!bobText.includes('am-checkout'), 'bob saw an integration key');
  // Filters narrow the cards.
  await bob.getByLabel('Team').selectOption('platform');
  await bob.getByRole('article', { name: 'Storefront' }).waitFor();
  await card.waitFor({ state: 'detached' });
  await bob.getByLabel('Team').selectOption('');
  await card.waitFor();
  assertClean(bobCtx);
  await bobCtx.close();

  const aliceCtx = await newContext(browser);
  const alice = await newPage(aliceCtx);
  await signIn(alice, 'alice', '/services');
  const aliceCard = alice.getByRole('article', { name: 'Checkout API' });
  await aliceCard.getByText(CHECKOUT_KEY, { exact: true }).waitFor();
  await aliceCard.getByText('am-checkout', { exact: true }).waitFor();
  await aliceCard.getByRole('button', { name: 'Copy the Events API v2 key of Checkout API' }).waitFor();
  await shot(alice, 'services-desktop');
  // The open incidents link lands on the incidents of the service.
  await aliceCard.getByRole('link', { name: /\d+ open/ }).click();
  await alice.waitForURL((u) => u.pathname === '/incidents' && u.searchParams.get('service') === 'checkout');
  assertClean(aliceCtx);
  await aliceCtx.close();

  const phoneCtx = await newContext(browser, { viewport: PHONE, isMobile: true, hasTouch: true });
  const phone = await newPage(phoneCtx);
  await signIn(phone, 'alice', '/services');
  await phone.getByRole('article', { name: 'Checkout API' }).getByText(CHECKOUT_KEY, { exact: true }).waitFor();
  await assertNoHorizontalScroll(phone);
  await shot(phone, 'services-phone');
  assertClean(phoneCtx);
  await phoneCtx.close();
});

test('notifications: a failed delivery shows with its error, per incident and per person', async () => {
  const dedup = 'ui-notify-' + Date.now();
  await enqueue({
    dedup_key: dedup,
    payload: { summary: 'Card payments failing', source: 'synthetic', severity: 'critical' },
  });
  const alert = await until(async () => {
    const alerts = await api('GET', '/api/v1/alerts?limit=20');
    return alerts.alerts.find((a) => a.dedup_key === dedup && a.incident_id);
  }, 'the alert and its incident');
  const incident = alert.incident_id;
  // The pages to the on-call person's webhook go to 127.0.0.1:9000, where nothing listens.
  const failed = await until(async () => {
    const list = await api('GET', `/api/v1/notifications?incident=${incident}&problems=true`);
    return list.notifications.find((n) => n.user && n.last_error);
  }, 'a failed delivery of the new incident');
  assert.ok(failed.last_error.length > 0);

  const ctx = await newContext(browser);
  const page = await newPage(ctx);
  await signIn(page, 'alice', '/notifications');
  await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
  // The failing contact methods are called out at the top.
  const broken = page.getByRole('region', { name: 'Failing contact methods' });
  await broken.getByText(failed.contact_method, { exact: false }).first().waitFor();
  const row = page.locator(`tr[data-notification="${failed.id}"]`);
  await row.locator('td.n-error').getByText(failed.last_error).waitFor();
  await row.locator('.badge', { hasText: /retrying|failed|dead|unknown/ }).waitFor();
  await shot(page, 'notifications-desktop');

  // Per incident: only its deliveries.
  await page.getByLabel('Incident').fill(String(incident));
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.waitForURL((u) => u.searchParams.get('incident') === String(incident));
  await row.waitFor();
  let mine;
  await until(async () => {
    const ids = await page.locator('tr[data-notification]').evaluateAll((rows) => rows.map((r) => r.dataset.notification));
    mine = await api('GET', `/api/v1/notifications?incident=${incident}&limit=100`);
    return JSON.stringify(ids.sort()) === JSON.stringify(mine.notifications.map((n) => String(n.id)).sort());
  }, 'the page to list exactly the deliveries of the incident');

  // Per person and problems only.
  await page.getByLabel('Person').selectOption(failed.user);
  await page.getByLabel('Status').selectOption('problems');
  await page.waitForURL((u) => u.searchParams.get('user') === failed.user && u.searchParams.get('state') === 'problems');
  await row.locator('td.n-error').getByText(failed.last_error).waitFor();
  for (const user of await page.locator('tr[data-notification] td:first-child strong').allInnerTexts()) {
    assert.ok(user.length > 0);
  }
  const byUser = await api('GET', `/api/v1/notifications?user=${failed.user}&problems=true&incident=${incident}`);
  assert.ok(byUser.notifications.every((n) => n.user === failed.user && n.last_error));

  // Nothing matches for someone who was not paged by it.
  const other = ['alice', 'bob', 'carol'].find((u) => !mine.notifications.some((n) => n.user === u));
  if (other) {
    await page.getByLabel('Person').selectOption(other);
    await page.getByText('No notifications match these filters.').waitFor();
  }
  assertClean(ctx);
  await ctx.close();

  const phoneCtx = await newContext(browser, { viewport: PHONE, isMobile: true, hasTouch: true });
  const phone = await newPage(phoneCtx);
  await signIn(phone, 'alice', `/notifications?incident=${incident}`);
  // On a phone the error shows under whom it was for.
  await phone.locator(`tr[data-notification="${failed.id}"] .n-error-narrow`).getByText(failed.last_error).waitFor();
  await assertNoHorizontalScroll(phone);
  await shot(phone, 'notifications-phone');
  assertClean(phoneCtx);
  await phoneCtx.close();
});
