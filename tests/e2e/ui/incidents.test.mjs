// A responder runs an incident from the browser, against a real houston (tests/e2e/ui_incidents_test.py):
// sign in, alerts arriving live, acknowledge seen by a second person, declare a SEV, assign a
// role, publish an update that reaches /status, the polling fallback, a phone-size screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, launch, newContext, newPage, signIn, api, enqueue, shot, assertNoHorizontalScroll,
  assertClean, PHONE, PASSWORD, startReceiver,
} from './uilib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

// The row of incident `id` in the list.
const row = (page, id) => page.locator(`tr[data-incident="${id}"]`);

test('signed out, a page sends you to sign in and back; a wrong password is refused', { timeout: 60000 }, async () => {
  const ctx = await newContext(browser);
  const page = await newPage(ctx);
  await page.goto(BASE + '/oncall');
  await page.waitForURL((u) => u.pathname === '/signin');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/oncall');
  await shot(page, 'signin-desktop');
  await page.getByLabel('User').fill('alice');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: /401/ }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/signin');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/oncall');
  // Signed in: the shell names the person and the live mode.
  await page.locator('.user', { hasText: 'alice' }).waitFor();
  await page.locator('[data-mode="live"]').waitFor();
  // Signing out ends the session: the next page asks again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/signin');
  await page.goto(BASE + '/incidents');
  await page.waitForURL((u) => u.pathname === '/signin');
  assertClean(ctx);
  await ctx.close();
});

test('an alert appears without a reload; an acknowledge shows in a second browser', { timeout: 60000 }, async () => {
  const alice = await newContext(browser);
  const bob = await newContext(browser);
  const pa = await newPage(alice);
  const pb = await newPage(bob);
  await signIn(pa, 'alice', '/incidents');
  await signIn(pb, 'bob', '/incidents');
  await pa.locator('[data-mode="live"]').waitFor();
  await pb.locator('[data-mode="live"]').waitFor();

  const dedup = 'ui-live-' + Date.now();
  await enqueue({ dedup_key: dedup, payload: { summary: 'Checkout p99 above 2 s', source: 'prometheus', severity: 'critical' } });
  const alerts = await api('GET', '/api/v1/alerts?limit=5');
  const alert = alerts.alerts.find((a) => a.dedup_key === dedup);
  assert.ok(alert && alert.incident_id, JSON.stringify(alerts));
  const id = alert.incident_id;
  // Live: in both lists within 2 s, without a reload.
  await row(pa, id).waitFor({ timeout: 2000 });
  await row(pb, id).waitFor({ timeout: 2000 });
  // The tab title counts the triggered incidents.
  await pa.waitForFunction(() => /^\(\d+\+?\) /.test(document.title), null, { timeout: 2000 });
  await shot(pa, 'incidents-desktop');

  await row(pa, id).getByRole('button', { name: `Acknowledge incident #${id}` }).click();
  await row(pa, id).locator('.badge', { hasText: 'acknowledged' }).waitFor({ timeout: 2000 });
  // Bob's list changes by itself.
  await row(pb, id).locator('.badge', { hasText: 'acknowledged' }).waitFor({ timeout: 2000 });
  const inc = await api('GET', `/api/v1/incidents/${id}`);
  assert.equal(inc.incident.status, 'acknowledged');

  // The alerts list shows the alert and its incident.
  await pb.getByRole('link', { name: 'Alerts' }).click();
  await pb.getByRole('combobox', { name: 'Status' }).selectOption('all');
  await pb.getByText('Checkout p99 above 2 s').first().waitFor();
  assertClean(alice);
  assertClean(bob);
  await alice.close();
  await bob.close();
});

test('selected rows hold still; bulk acknowledge and resolve', { timeout: 60000 }, async () => {
  const ctx = await newContext(browser);
  const page = await newPage(ctx);
  await signIn(page, 'bob', '/incidents');
  await page.locator('[data-mode="live"]').waitFor();
  const ids = [];
  for (const n of [1, 2]) {
    const r = await api('POST', '/api/v1/incidents', { title: `Bulk ${n} ${Date.now()}`, service: 'storefront', sev: 'SEV4' });
    ids.push(r.incident.id);
  }
  for (const id of ids) await row(page, id).waitFor({ timeout: 2000 });
  for (const id of ids) await row(page, id).getByRole('checkbox').check();
  // While rows are selected, a new incident does not move the list under the cursor.
  const during = await api('POST', '/api/v1/incidents', { title: `Arrives while selecting ${Date.now()}`, service: 'storefront', sev: 'SEV4' });
  // The feed delivered the change; the list says so, and did not reload.
  await page.getByText('Incidents have changed: the list catches up when the selection is cleared.').waitFor({ timeout: 2000 });
  assert.equal(await row(page, during.incident.id).count(), 0, 'the list reordered under a selection');
  await page.getByRole('button', { name: 'Acknowledge selected' }).click();
  await page.getByText('Acknowledge: 2 done').waitFor();
  for (const id of ids) {
    assert.equal((await api('GET', `/api/v1/incidents/${id}`)).incident.status, 'acknowledged');
  }
  // With the selection gone, the list catches up.
  await row(page, during.incident.id).waitFor({ timeout: 2000 });
  for (const id of [...ids, during.incident.id]) await row(page, id).getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Resolve selected' }).click();
  await page.getByText('Resolve: 3 done').waitFor();
  for (const id of [...ids, during.incident.id]) {
    assert.equal((await api('GET', `/api/v1/incidents/${id}`)).incident.status, 'resolved');
    await row(page, id).waitFor({ state: 'detached', timeout: 2000 });
  }
  assertClean(ctx);
  await ctx.close();
});

test('declare a SEV, assign a role, post an update and see it on /status', { timeout: 60000 }, async () => {
  const ctx = await newContext(browser);
  const page = await newPage(ctx);
  await signIn(page, 'alice', '/incidents');
  await page.getByRole('button', { name: 'Declare incident' }).click();
  const form = page.getByRole('form', { name: 'Declare an incident' });
  const title = `Card payments failing ${Date.now()}`;
  await form.getByLabel('Title').fill(title);
  await form.getByLabel('Severity').selectOption('SEV1');
  await form.getByLabel('Service').selectOption('checkout');
  await form.getByLabel('What is happening').fill('Card payments fail at the processor');
  await form.getByRole('button', { name: 'Declare', exact: true }).click();
  await page.waitForURL(/\/incidents\/\d+$/);
  const id = Number(new URL(page.url()).pathname.split('/').pop());
  await page.getByRole('heading', { name: `#${id} ${title}` }).waitFor();

  // Assign a role.
  await page.getByLabel('Role', { exact: true }).selectOption('communications_lead');
  await page.getByLabel('Person', { exact: true }).selectOption('bob');
  await page.getByRole('button', { name: 'Assign' }).click();
  await page.locator('section[aria-labelledby="roles-h"] dd', { hasText: 'Bob Example' }).waitFor();
  assert.equal((await api('GET', `/api/v1/incidents/${id}`)).incident.roles.communications_lead, 'bob');

  // A pinned note shows on the timeline.
  await page.getByRole('textbox', { name: 'Note' }).fill('Processor confirms an outage on their side');
  await page.getByLabel('Pin it').check();
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.locator('ol.timeline li.pinned', { hasText: 'Processor confirms an outage' }).waitFor();

  // A status update: a preview for each audience, then publish.
  await page.getByRole('button', { name: 'Write an update' }).click();
  await page.getByLabel('What responders know (engineers)').fill('Failing over to the second processor');
  await page.getByLabel('Public status page message').fill('Card payments are failing; we are switching providers.');
  const tabs = page.getByRole('tablist', { name: 'Preview per audience' });
  await tabs.waitFor();
  for (const audience of ['public', 'executives', 'engineering', 'support']) {
    await tabs.getByRole('tab', { name: audience }).click();
    await page.getByRole('tabpanel', { name: `Preview for ${audience}` }).waitFor();
  }
  await tabs.getByRole('tab', { name: 'public' }).click();
  await page.getByRole('tabpanel', { name: 'Preview for public' }).getByText('switching providers').waitFor();
  await shot(page, 'incident-composer-desktop');
  await page.getByRole('button', { name: 'Publish to every audience' }).click();
  await page.getByText('Status update published').waitFor();
  await shot(page, 'incident-desktop');

  // The public status page shows it.
  const status = await newPage(ctx);
  await status.goto(BASE + '/status');
  await status.getByText('switching providers').first().waitFor();

  // Mitigate, then resolve, from the page.
  await page.getByRole('button', { name: 'Mitigate' }).click();
  await page.locator('.incident-head .badge', { hasText: 'mitigated' }).waitFor();
  await page.getByRole('button', { name: 'Resolve' }).click();
  await page.locator('.incident-head .badge', { hasText: 'resolved' }).waitFor();
  await page.getByRole('button', { name: 'Reopen' }).waitFor();
  assert.equal((await api('GET', `/api/v1/incidents/${id}`)).incident.status, 'resolved');
  assertClean(ctx);
  await ctx.close();
});

test('a page notification\'s link opens the incident with Acknowledge focused', { timeout: 60000 }, async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  const dedup = 'ui-paged-' + Date.now();
  // On payments-api (checkout's open incident from an earlier test would take the alert in).
  await enqueue({
    routing_key: 'fedcba9876543210fedcba9876543210', dedup_key: dedup,
    payload: { summary: 'Payments timing out', source: 'synthetic', severity: 'error' },
  });
  const alerts = await api('GET', '/api/v1/alerts?limit=5');
  const id = alerts.alerts.find((a) => a.dedup_key === dedup).incident_id;
  // The page to whoever is on call, by webhook: its incident.url is a signed link.
  const page1 = await receiver.waitFor((path, b) => b.ack_url && b.incident && b.incident.id === id);
  const link = page1.incident.url;
  assert.match(link, /\/actions\//);

  // Signed out: the link's own page, which leads into the app through sign-in.
  const out = await newContext(browser);
  const po = await newPage(out);
  await po.goto(link);
  await po.getByRole('link', { name: `Open incident #${id} in houston` }).click();
  await po.waitForURL((u) => u.pathname === '/signin');
  await po.getByLabel('User').fill('carol');
  await po.getByLabel('Password').fill(PASSWORD);
  await po.getByRole('button', { name: 'Sign in' }).click();
  await po.waitForURL((u) => u.pathname === `/incidents/${id}` && u.searchParams.get('ack') === '1');
  await po.waitForFunction(() => document.activeElement && document.activeElement.textContent === 'Acknowledge');

  // Signed in: the link goes straight to the incident, Acknowledge focused; Enter acknowledges.
  const inn = await newContext(browser);
  const pi = await newPage(inn);
  await signIn(pi, 'bob');
  await pi.goto(link);
  await pi.waitForURL((u) => u.pathname === `/incidents/${id}`);
  await pi.waitForFunction(() => document.activeElement && document.activeElement.textContent === 'Acknowledge');
  await pi.keyboard.press('Enter');
  await pi.locator('.incident-head .badge', { hasText: 'acknowledged' }).waitFor();
  assert.equal((await api('GET', `/api/v1/incidents/${id}`)).incident.status, 'acknowledged');
  // Carol's open page follows.
  await po.locator('.incident-head .badge', { hasText: 'acknowledged' }).waitFor();
  assertClean(out);
  assertClean(inn);
  await out.close();
  await inn.close();
});

test('with the WebSocket blocked, the list still updates by polling', { timeout: 60000 }, async () => {
  const ctx = await newContext(browser);
  // A proxy that does not pass WebSocket upgrades: the handshake is refused.
  await ctx.routeWebSocket(/\/api\/v1\/live/, (ws) => ws.close({ code: 1006, reason: 'blocked' }));
  const page = await newPage(ctx);
  await signIn(page, 'alice', '/incidents');
  await page.locator('[data-mode="polling"]').waitFor({ timeout: 5000 });
  const r = await api('POST', '/api/v1/incidents', { title: `Seen by polling ${Date.now()}`, service: 'storefront', sev: 'SEV4' });
  await row(page, r.incident.id).waitFor({ timeout: 5000 });
  assert.equal(await page.locator('[data-mode="live"]').count(), 0);
  assertClean(ctx);
  await ctx.close();
});

test('phone-size screens: the list and the incident page fit without sideways scrolling', { timeout: 60000 }, async () => {
  const ctx = await newContext(browser, { viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await newPage(ctx);
  await signIn(page, 'alice', '/incidents');
  const r = await api('POST', '/api/v1/incidents', {
    title: `A long incident title that has to wrap on a narrow phone screen ${Date.now()}`,
    service: 'checkout', sev: 'SEV2',
  });
  await row(page, r.incident.id).waitFor();
  await assertNoHorizontalScroll(page);
  await shot(page, 'incidents-phone');
  await page.goto(`${BASE}/incidents/${r.incident.id}`);
  await page.getByRole('button', { name: 'Acknowledge' }).waitFor();
  await assertNoHorizontalScroll(page);
  await shot(page, 'incident-phone');
  // The menu folds into a button.
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('link', { name: 'On-call' }).waitFor();
  // Dark mode follows the system.
  const dark = await newContext(browser, { viewport: PHONE, colorScheme: 'dark' });
  const dp = await newPage(dark);
  await signIn(dp, 'alice', `/incidents/${r.incident.id}`);
  await dp.getByRole('button', { name: 'Acknowledge' }).waitFor();
  const bg = await dp.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(13, 17, 23)');
  await shot(dp, 'incident-phone-dark');
  assertClean(ctx);
  assertClean(dark);
  await ctx.close();
  await dark.close();
});

// Script in what senders and responders write (alert summaries and details, incident titles,
// summaries, notes, status updates) stays text in every page that shows it: no dialog opens, no
// injected handler runs, and the text is shown as written. (security_test.py checks the raw
// HTML of the server-rendered pages; this runs the browser's scripts that render the rest.)
test('script in titles, alerts, notes and updates stays text in the browser', { timeout: 60000 }, async () => {
  const ctx = await newContext(browser);
  const page = await newPage(ctx);
  const dialogs = [];
  ctx.on('page', (p) => p.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); }));
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const tag = Date.now();
  const xss = (where) => `${where} <img src=x onerror="window.__xss='${where}';alert('${where}')">` +
    `<script>window.__xss='${where}'</script>"><svg onload=alert(1)>`;
  await enqueue({
    dedup_key: `ui-xss-${tag}`,
    payload: { summary: xss('alert'), source: xss('source'), severity: 'critical', custom_details: { note: xss('details') } },
  });
  const alerts = await api('GET', '/api/v1/alerts?limit=5');
  const alert = alerts.alerts.find((a) => a.dedup_key === `ui-xss-${tag}`);
  assert.ok(alert, JSON.stringify(alerts));
  const declared = await api('POST', '/api/v1/incidents', {
    title: xss('title'), service: 'checkout', sev: 'SEV2', summary: xss('summary'), public_title: xss('public'),
  });
  const id = declared.incident.id;
  await api('POST', `/api/v1/incidents/${id}/notes`, { text: xss('note'), pinned: true });
  await api('POST', `/api/v1/incidents/${id}/updates`, { message: xss('update'), public_message: xss('status') });

  await signIn(page, 'alice', '/incidents');
  const visits = [
    ['/incidents', 'title'], [`/incidents/${id}`, 'note'], [`/incidents/${alert.incident_id}`, 'alert'],
    ['/alerts', 'alert'], ['/status', 'status'],
  ];
  for (const [path, shown] of visits) {
    await page.goto(BASE + path);
    // Shown as written (the page rendered it), so its absence below means something.
    await page.getByText(xss(shown), { exact: false }).first().waitFor({ timeout: 5000 });
    assert.equal(await page.evaluate(() => window.__xss), undefined, `script ran on ${path}`);
    assert.equal(await page.locator('main img[src="x"], main svg[onload], main script').count(), 0,
      `markup from the payload on ${path}`);
  }
  assert.deepEqual(dialogs, [], 'a dialog opened');
  assertClean(ctx);
  await ctx.close();
});
