// The learning pages in a real browser: a resolved SEV2 gets a postmortem draft that shows in
// the list; alice writes a section, saves it, and finds it there after a reload; an edit saved
// elsewhere while she has unsaved edits is announced ("changed elsewhere") and her save is
// refused in words with a way to reload; an action item is added and marked done from its page;
// the analytics page draws its SVG charts with accessible names; all four pages fit a phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, PHONE, DESKTOP, launch, newContext, newPage, signIn, api, shot,
  assertNoHorizontalScroll, assertClean,
} from './uilib.mjs';

// Full-page screenshots from the top (the shell's header sticks to where the page was scrolled).
async function top(page) {
  await page.evaluate(() => window.scrollTo(0, 0));
}

const TITLE = 'Checkout 500s after the v42 deploy';
let browser;
let ctx;
let page;
let incident;

before(async () => {
  browser = await launch();
  ctx = await newContext(browser);
  page = await newPage(ctx);
  // A SEV2 on checkout, acknowledged and resolved: the example org requires postmortems for
  // SEV1 and SEV2, so houston drafts one by itself.
  const r = await api('POST', '/api/v1/incidents', {
    title: TITLE, sev: 'SEV2', service: 'checkout', commander: 'alice', responders: ['bob'],
    summary: 'Checkout answered 500 to a third of requests.',
  });
  incident = r.incident.id;
  await api('POST', `/api/v1/incidents/${incident}/notes`, { text: 'Rolled back v42', pinned: true });
  await api('POST', `/api/v1/incidents/${incident}/acknowledge`);
  await api('POST', `/api/v1/incidents/${incident}/resolve`);
});

after(async () => {
  await browser?.close();
});

test('the postmortems list shows the drafted SEV2', async () => {
  await signIn(page, 'alice', '/postmortems');
  // The draft appears when houston has made it (the list follows the live feed).
  const link = page.getByRole('link', { name: `#${incident} ${TITLE}` });
  await link.waitFor({ timeout: 20000 });
  const row = page.getByRole('row').filter({ has: link });
  await row.getByText('draft', { exact: true }).waitFor();
  await row.getByText('alice', { exact: true }).waitFor();
  // The status filter narrows it away and back.
  await page.getByRole('button', { name: 'Published', exact: true }).click();
  await page.getByText('No postmortem matches these filters').waitFor();
  await page.getByRole('button', { name: 'Draft', exact: true }).click();
  await link.waitFor();
  await top(page);
  await shot(page, 'postmortems-desktop');
  await page.setViewportSize(PHONE);
  await assertNoHorizontalScroll(page);
  await page.setViewportSize(DESKTOP);
});

test('alice writes a section, saves it, and it is still there after a reload', async () => {
  await page.getByRole('link', { name: `#${incident} ${TITLE}` }).click();
  await page.waitForURL(`${BASE}/incidents/${incident}/postmortem`);
  await page.getByRole('heading', { name: 'What houston recorded' }).waitFor();
  // The computed part: response times, the pinned note marked, the people.
  await page.getByText('Time to acknowledge').first().waitFor();
  await page.getByText('Pinned', { exact: true }).waitFor();
  await page.getByText('Rolled back v42').first().waitFor();

  const text = 'The v42 deploy emptied the connection pool; checkout answered 500s until the rollback.';
  const section = page.getByLabel('What happened', { exact: true });
  await section.fill(text);
  await page.getByText('Unsaved edits').waitFor();
  await page.getByRole('checkbox', { name: 'deploy', exact: true }).check();
  const saved = page.waitForResponse(
    (r) => r.url().endsWith(`/api/v1/incidents/${incident}/postmortem`) && r.request().method() === 'PUT',
  );
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  assert.equal((await saved).status(), 200);
  await page.getByText(/^Saved version \d+/).waitFor();

  await page.reload();
  await page.getByLabel('What happened', { exact: true }).waitFor();
  assert.equal(await page.getByLabel('What happened', { exact: true }).inputValue(), text);
  assert.ok(await page.getByRole('checkbox', { name: 'deploy', exact: true }).isChecked());
  const pm = await api('GET', `/api/v1/incidents/${incident}/postmortem`);
  assert.equal(pm.postmortem.sections.find((s) => s.id === 'what_happened').text, text);
  await top(page);
  await shot(page, 'postmortem-desktop');

  // Someone saves elsewhere while alice has unsaved edits: her edits stay, the page says so.
  await page.getByLabel('What went well', { exact: true }).fill('Paging reached the right team at once.');
  await api('PUT', `/api/v1/incidents/${incident}/postmortem`, {
    sections: { where_we_got_lucky: 'It happened before the evening peak.' },
  });
  await page.getByText('Changed elsewhere.').waitFor();
  assert.equal(await page.getByLabel('What went well', { exact: true }).inputValue(),
    'Paging reached the right team at once.');
  // Saving anyway is refused (the version moved on), in words, with a way to reload.
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Not saved:').waitFor();
  await page.getByRole('button', { name: 'Reload the saved version' }).click();
  await page.getByText('Not saved:').waitFor({ state: 'detached' });
  assert.equal(await page.getByLabel('Where we got lucky', { exact: true }).inputValue(),
    'It happened before the evening peak.');
  assert.equal(await page.getByLabel('What happened', { exact: true }).inputValue(), text);

  await page.setViewportSize(PHONE);
  await assertNoHorizontalScroll(page);
  await top(page);
  await shot(page, 'postmortem-phone');
  await page.setViewportSize(DESKTOP);
});

test('an action item is added from its page and marked done', async () => {
  await page.goto(`${BASE}/action-items`);
  await page.getByRole('button', { name: 'New action item' }).click();
  const form = page.getByRole('form', { name: 'New action item' });
  const title = 'Alert on connection pool saturation';
  await form.getByLabel('Title').fill(title);
  await form.getByLabel('Owner').selectOption('alice');
  await form.getByLabel('Due date').fill('2030-01-15');
  await form.getByLabel('Incident').fill(String(incident));
  await form.getByLabel('Priority').selectOption('P1');
  await form.getByRole('button', { name: 'Add action item' }).click();
  const row = page.getByRole('row').filter({ hasText: title });
  await row.waitFor();
  await row.getByText('open', { exact: true }).waitFor();
  await row.getByRole('button', { name: `Mark “${title}” done` }).click();
  await row.getByText('done', { exact: true }).waitFor();
  await row.getByRole('button', { name: `Reopen “${title}”` }).waitFor();
  const items = await api('GET', `/api/v1/action-items?incident=${incident}`);
  assert.deepEqual(items.action_items.map((a) => [a.title, a.owner, a.due, a.priority, a.status]),
    [[title, 'alice', '2030-01-15', 'P1', 'done']]);
  await top(page);
  await shot(page, 'action-items-desktop');
  await page.setViewportSize(PHONE);
  await assertNoHorizontalScroll(page);
  await page.setViewportSize(DESKTOP);
});

test('analytics draws its charts as SVG with accessible names', async () => {
  await page.goto(`${BASE}/analytics`);
  for (const name of ['Incidents over time', 'MTTA by service', 'MTTR by service', 'MTTA by severity',
    'MTTR by severity']) {
    await page.getByRole('img', { name, exact: true }).waitFor();
  }
  // Every chart has a name; their numbers are in tables too.
  const unnamed = await page.locator('svg[role="img"]').evaluateAll(
    (svgs) => svgs.filter((s) => !s.getAttribute('aria-label')).length);
  assert.equal(unnamed, 0);
  await page.getByText('Response times by severity: the numbers').click();
  await page.getByRole('rowheader', { name: 'SEV2' }).waitFor();
  await top(page);
  await shot(page, 'analytics-desktop');
  await page.setViewportSize(PHONE);
  await page.getByRole('img', { name: 'Incidents over time', exact: true }).waitFor();
  await assertNoHorizontalScroll(page);
  await top(page);
  await shot(page, 'analytics-phone');
  await page.setViewportSize(DESKTOP);
  assertClean(ctx);
});
