// The admin pages in a real browser (tests/e2e/ui_admin_test.py), on the example org: alice (an
// admin) creates an API token, sees it once, uses it, revokes it and it stops working; the org
// page shows each object with its YAML and no secret; the audit log lists the token's creation;
// bob (a responder) has no admin links, and the admin pages tell him in words that they need the
// admin role; the pages fit a phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, PHONE, launch, newContext, newPage, signIn, shot, assertNoHorizontalScroll, assertClean,
} from './uilib.mjs';

const TOKEN_NAME = 'ui-test-ci';
let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

function incidentsWith(secret) {
  return fetch(BASE + '/api/v1/incidents?limit=1', { headers: { Authorization: 'Bearer ' + secret } });
}

test('alice creates a token, sees it once, uses it, and revokes it', async () => {
  const ctx = await newContext(browser);
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  const page = await newPage(ctx);
  await signIn(page, 'alice', '/tokens');
  await page.getByRole('heading', { level: 1, name: 'API tokens' }).waitFor();
  const form = page.getByRole('form', { name: 'Create an API token' });
  // The server's words when something is missing or wrong.
  await form.getByLabel('Name').fill(TOKEN_NAME);
  await form.getByLabel('Role').selectOption('responder');
  await form.getByRole('button', { name: 'Create token' }).click();

  const created = page.getByRole('region', { name: `Token “${TOKEN_NAME}” created (responder)` });
  await created.getByText('it is shown only once').waitFor();
  const secret = (await created.getByLabel('The new token', { exact: true }).innerText()).trim();
  assert.match(secret, /^hou_[A-Za-z0-9]+$/);
  await created.getByRole('button', { name: 'Copy the new token' }).click();
  await page.getByText('Copied to the clipboard').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await shot(page, 'tokens-desktop');

  // It works, with its role.
  assert.equal((await incidentsWith(secret)).status, 200);

  // Once dismissed (or after a reload) it is nowhere to be seen again.
  await created.getByRole('button', { name: 'Done, I have copied it' }).click();
  await created.waitFor({ state: 'detached' });
  const row = page.locator('table[aria-label="API tokens"] tr', { hasText: TOKEN_NAME });
  await row.getByText('responder').waitFor();
  await row.getByText(secret.slice(0, 8) + '…').waitFor();
  assert.ok(!(await page.content()).includes(secret), 'the secret is still on the page');
  await page.reload();
  await row.waitFor();
  assert.ok(!(await page.content()).includes(secret), 'the secret came back after a reload');

  // Revoking asks first, then the token stops working at once.
  await row.getByRole('button', { name: `Revoke token ${TOKEN_NAME}` }).click();
  await row.getByText('Whatever uses it stops working at once.').waitFor();
  await row.getByRole('button', { name: 'Yes, revoke' }).click();
  await page.getByText(`Token “${TOKEN_NAME}” revoked: it no longer works`).waitFor();
  await row.waitFor({ state: 'detached' }); // revoked ones are hidden by default
  assert.equal((await incidentsWith(secret)).status, 401);
  await page.getByLabel(/Show \d+ revoked/).check();
  await row.getByText('revoked').waitFor();

  // A bad request is explained in words.
  await form.getByLabel('Name').fill('   ');
  await form.getByRole('button', { name: 'Create token' }).click();
  await form.getByRole('alert').getByText("'name' must not be empty").waitFor();
  assertClean(ctx);
  await ctx.close();
});

test('the org page shows each object with its YAML, secrets masked', async () => {
  const ctx = await newContext(browser);
  const page = await newPage(ctx);
  await signIn(page, 'alice', '/org');
  await page.getByRole('heading', { level: 1, name: 'Org as applied' }).waitFor();
  const services = page.getByRole('region', { name: /^Services/ });
  const checkout = services.locator('details', { has: page.getByText('checkout', { exact: true }) });
  await checkout.locator('summary').click();
  const yaml = await checkout.locator('pre').innerText();
  assert.match(yaml, /^id: checkout$/m);
  assert.match(yaml, /^name: Checkout API$/m);
  assert.match(yaml, /runbook_url: https:\/\/wiki\.example\.com\/runbooks\/checkout/);
  await page.getByText(/secrets are shown as/).waitFor();
  // Expanded, every object and the whole document: no secret anywhere.
  await page.getByRole('button', { name: 'Expand all' }).click();
  await page.getByRole('region', { name: /^Users/ }).getByText('alice-hook').first().waitFor();
  // The whole document too, comments included.
  await page.locator('details[open] summary', { hasText: 'org.yaml as applied, comments included' }).waitFor();
  const text = await page.locator('main').innerText();
  for (const secret of ['alice-s3cret', 'bob-s3cret', 'example-provider-token', 'chatops-s3cret']) {
    assert.ok(!text.includes(secret), `the org page shows the secret ${secret}`);
  }
  assert.ok(text.includes('# Example houston organisation'), 'the document keeps its comments');
  await page.getByRole('button', { name: 'Collapse all' }).click();
  await checkout.locator('summary').click();
  await shot(page, 'org-desktop');
  assertClean(ctx);
  await ctx.close();
});

test('the audit log lists the token creation, filtered by object type', async () => {
  const ctx = await newContext(browser);
  const page = await newPage(ctx);
  await signIn(page, 'alice', '/audit');
  await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
  await page.getByRole('table', { name: 'Audit log' }).waitFor();
  await page.getByLabel('Object type').selectOption('token');
  await page.waitForURL((u) => u.searchParams.get('resource_type') === 'token');
  const created = page.locator('tr', { hasText: 'token.created' }).filter({ hasText: TOKEN_NAME });
  await created.waitFor();
  await created.getByText('alice').waitFor();
  await page.locator('tr', { hasText: 'token.revoked' }).filter({ hasText: TOKEN_NAME }).waitFor();
  const types = await page.locator('table[aria-label="Audit log"] tbody td:nth-child(4)').allInnerTexts();
  assert.ok(types.length > 0 && types.every((t) => t.startsWith('token ')), types.join('|'));
  await shot(page, 'audit-desktop');
  assertClean(ctx);
  await ctx.close();
});

test('bob has no admin links, and the admin pages say they need the admin role', async () => {
  const ctx = await newContext(browser);
  const page = await newPage(ctx);
  await signIn(page, 'bob', '/incidents');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Services' }).waitFor();
  for (const name of ['Audit log', 'Org', 'API tokens']) {
    assert.equal(await nav.getByRole('link', { name, exact: true }).count(), 0, `bob sees ${name}`);
  }
  for (const [path, what] of [['/tokens', 'Managing API tokens'], ['/audit', 'The audit log'], ['/org', 'The org page']]) {
    await page.goto(BASE + path);
    const alert = page.getByRole('alert').filter({ hasText: `${what} needs the admin role.` });
    await alert.waitFor();
    await alert.getByText("this needs the admin role; user 'bob' has the responder role", { exact: false }).waitFor();
  }
  assert.equal(await page.getByRole('form', { name: 'Create an API token' }).count(), 0);
  assertClean(ctx);
  await ctx.close();
});

test('the admin pages fit a phone', async () => {
  const ctx = await newContext(browser, { viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await newPage(ctx);
  await signIn(page, 'alice', '/tokens');
  await page.getByRole('form', { name: 'Create an API token' }).waitFor();
  await page.getByLabel(/Show \d+ revoked/).check();
  await page.locator('table[aria-label="API tokens"] tr', { hasText: TOKEN_NAME }).waitFor();
  await assertNoHorizontalScroll(page);
  await page.goto(BASE + '/org');
  await page.getByRole('button', { name: 'Expand all' }).click();
  await page.getByText('name: Checkout API').first().waitFor();
  await assertNoHorizontalScroll(page);
  await page.goto(BASE + '/audit');
  await page.getByRole('table', { name: 'Audit log' }).waitFor();
  await assertNoHorizontalScroll(page);
  assertClean(ctx);
  await ctx.close();
});
