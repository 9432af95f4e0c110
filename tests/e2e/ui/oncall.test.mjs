// The on-call pages in a real browser (viewer zone Europe/Berlin; the example org's schedules are
// in New York and London): /oncall says who is on call for every schedule and every escalation
// step, until when and who is next; the payments-primary calendar draws its final shifts in week
// and month views with layers, overrides and gaps labelled in words; alice makes erin on call
// now through the calendar's override form and /oncall (open in bob's browser) follows live, as
// does the API; a refused override is explained in words; the override is cancelled again; both
// pages fit a phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, PHONE, launch, newContext, newPage, signIn, api, shot, assertNoHorizontalScroll,
  assertClean,
} from './uilib.mjs';

const ZONE = 'Europe/Berlin';
let browser;
let names; // user id -> name

before(async () => {
  browser = await launch();
  const users = await api('GET', '/api/v1/users');
  names = Object.fromEntries(users.users.map((u) => [u.id, u.name]));
});

after(async () => {
  await browser?.close();
});

async function onCallNow(schedule) {
  return (await api('GET', `/api/v1/schedules/${schedule}/oncall`)).users;
}

test('on-call overview, calendar, and an override made in the calendar', async () => {
  const ctx = await newContext(browser, { timezoneId: ZONE });
  const page = await newPage(ctx);
  await signIn(page, 'alice', '/oncall');
  await page.getByRole('heading', { level: 1, name: 'On-call' }).waitFor();

  // Every schedule: who is on call now (as the API says), until when, who is next.
  for (const [id, name] of [['payments-primary', 'Payments primary'], ['platform-primary', 'Platform primary']]) {
    const card = page.getByRole('article', { name });
    const who = await onCallNow(id);
    assert.equal(who.length, 1, `${id} has someone on call now`);
    await card.locator('.now-oncall').getByText(names[who[0]]).waitFor();
    await card.getByText('Until').waitFor();
    await card.getByText('Next').waitFor();
    await card.getByText(`Schedule zone ${id === 'payments-primary' ? 'America/New_York' : 'Europe/London'}`).waitFor();
  }
  // Every escalation policy, step by step, with whom each reaches now.
  const pep = page.getByRole('article', { name: 'Payments escalation' });
  await pep.getByText('Step 1', { exact: true }).waitFor();
  await pep.getByText('Step 2', { exact: true }).waitFor();
  await pep.getByText('15 min after step 1').waitFor();
  const payNow = names[(await onCallNow('payments-primary'))[0]];
  await pep.getByRole('listitem').filter({ hasText: /Step 1/ }).getByText(payNow).first().waitFor();
  const plat = page.getByRole('article', { name: 'Platform escalation' });
  await plat.getByText('Round robin').waitFor();
  await shot(page, 'oncall-desktop');

  // bob keeps /oncall open in another browser: it must follow alice's override, live.
  const bobCtx = await newContext(browser, { timezoneId: ZONE });
  const watcher = await newPage(bobCtx);
  await signIn(watcher, 'bob', '/oncall');
  await page.bringToFront();
  const watchedPay = watcher.getByRole('article', { name: 'Payments primary' });
  await watchedPay.locator('.now-oncall').getByText(payNow).waitFor();

  // The calendar: week view, zones said, layers labelled.
  await page.getByRole('article', { name: 'Payments primary' }).getByRole('link', { name: 'Payments primary' }).click();
  await page.waitForURL(BASE + '/schedules/payments-primary');
  await page.getByRole('heading', { level: 1, name: 'Payments primary' }).waitFor();
  await page.getByText(`${ZONE}`, { exact: true }).first().waitFor();
  const note = await page.locator('.zone-note').innerText();
  assert.match(note, /Times in Europe\/Berlin \(your zone\); schedule zone America\/New_York/);
  const legend = page.getByRole('list', { name: 'What the colours and marks mean' });
  for (const word of ['Layer', 'Override', 'Gap']) await legend.getByText(word, { exact: false }).first().waitFor();
  const days = page.locator('.cal-day');
  await days.first().waitFor();
  assert.equal(await days.count(), 7);
  await page.getByRole('button', { name: /\(layer weekly\)/ }).first().waitFor();
  await page.getByRole('button', { name: /\(layer business-hours\)/ }).first().waitFor();
  await page.locator('.cal-day.today').waitFor();
  await shot(page, 'schedule-week-desktop');

  // Navigation by buttons and keys: next week, back to today.
  const range = page.locator('#cal-range');
  const thisWeek = await range.innerText();
  await page.getByRole('button', { name: 'Next week' }).click();
  await page.waitForFunction((t) => document.querySelector('#cal-range').innerText !== t, thisWeek);
  await page.getByRole('button', { name: 'Today', exact: true }).focus();
  await page.keyboard.press('t');
  await page.waitForFunction((t) => document.querySelector('#cal-range').innerText === t, thisWeek);

  // Month view: a table of days, each a button naming who is on call in words.
  await page.getByRole('button', { name: 'Month', exact: true }).click();
  const month = page.getByRole('table');
  await month.waitFor();
  assert.ok((await month.getByRole('button').count()) >= 28);
  await month.getByRole('button', { name: /\(layer weekly\)/ }).first().waitFor();
  assert.equal(await page.getByRole('button', { name: 'Month', exact: true }).getAttribute('aria-pressed'), 'true');
  await shot(page, 'schedule-month-desktop');
  await page.getByRole('button', { name: 'Week', exact: true }).click();
  await days.first().waitFor();

  // The iCal link is there to copy.
  const ical = await page.getByLabel('iCal link').inputValue();
  assert.match(ical, /^http:\/\/127\.0\.0\.1:\d+\/calendars\/.+\.ics$/);

  // A refused override is explained in words: it ends in the past.
  const form = page.getByRole('form', { name: 'Create an override' });
  await form.getByLabel('Who is on call').selectOption('erin');
  await form.getByLabel(/^Start/).fill('2026-01-01T10:00');
  await form.getByLabel(/^End/).fill('2026-01-01T11:00');
  await form.getByRole('button', { name: 'Create override' }).click();
  await form.getByRole('alert').getByText("'end' is in the past").waitFor();

  // erin on call from now for an hour (the form's default times).
  await page.reload();
  await form.getByLabel('Who is on call').selectOption('erin');
  const created = page.waitForResponse((r) => r.url().endsWith('/api/v1/schedules/payments-primary/overrides') && r.request().method() === 'POST');
  await form.getByRole('button', { name: 'Create override' }).click();
  assert.equal((await created).status(), 201);
  await page.getByText(/Override created: Erin Example is on call/).waitFor();
  await page.locator('.cal-day.today').getByRole('button', { name: /Erin Example \(override\)/ }).waitFor();
  assert.deepEqual(await onCallNow('payments-primary'), ['erin']);

  // bob's page changed by itself.
  await watchedPay.locator('.now-oncall').getByText('Erin Example').waitFor();
  await watchedPay.getByText('✱ Override').waitFor();
  await watcher.getByRole('article', { name: 'Payments escalation' }).getByRole('listitem')
    .filter({ hasText: /Step 1/ }).getByText('Erin Example').first().waitFor();

  // Choosing erin's stretch shows it, and cancels it; the layers decide again.
  await page.locator('.cal-day.today').getByRole('button', { name: /Erin Example \(override\)/ }).click();
  const sel = page.getByRole('region', { name: /Erin Example/ });
  await sel.getByRole('button', { name: 'Cancel this override' }).click();
  await page.getByText('Override cancelled').first().waitFor();
  await page.locator('.cal-day.today').getByRole('button', { name: /Erin Example \(override\)/ }).waitFor({ state: 'detached' });
  assert.deepEqual(await onCallNow('payments-primary'), [Object.keys(names).find((k) => names[k] === payNow)]);
  await watchedPay.locator('.now-oncall').getByText(payNow).waitFor();

  assertClean(ctx);
  assertClean(bobCtx);
  await ctx.close();
  await bobCtx.close();
});

test('a cover request is asked for and accepted; an unknown schedule is said so', async () => {
  const ctx = await newContext(browser, { timezoneId: ZONE });
  const page = await newPage(ctx);
  await signIn(page, 'alice', '/schedules/platform-primary');
  await page.getByRole('tab', { name: 'Cover request' }).click();
  const form = page.getByRole('form', { name: 'Request cover' });
  await form.getByLabel('Who needs cover').selectOption('dave');
  await form.getByRole('button', { name: 'Request cover' }).click();
  const item = page.locator('.cover-item').filter({ hasText: 'Dave Example needs cover' });
  await item.waitFor();
  await item.getByLabel('Accept as').selectOption('erin');
  await item.getByRole('button', { name: 'Accept cover for Dave Example' }).click();
  await item.waitFor({ state: 'detached' });
  const list = page.getByRole('region', { name: 'Current and upcoming overrides' });
  await list.getByRole('listitem').filter({ hasText: 'Erin Example' }).getByText('✱ Cover').waitFor();
  const ovs = await api('GET', '/api/v1/schedules/platform-primary/overrides');
  assert.ok(ovs.overrides.some((o) => o.kind === 'cover' && o.user === 'erin' && o.state === 'active'));
  // A schedule that does not exist is said so in words.
  await page.goto(BASE + '/schedules/nope');
  await page.getByRole('alert').getByText("no schedule 'nope'").waitFor();
  await page.getByRole('link', { name: 'See every schedule' }).waitFor();
  assertClean(ctx);
  await ctx.close();
});

test('on-call and the calendar fit a phone', async () => {
  const ctx = await newContext(browser, { viewport: PHONE, timezoneId: ZONE });
  const page = await newPage(ctx);
  await signIn(page, 'alice', '/oncall');
  await page.getByRole('article', { name: 'Payments escalation' }).waitFor();
  await assertNoHorizontalScroll(page);
  await shot(page, 'oncall-phone');
  await page.goto(BASE + '/schedules/payments-primary');
  await page.locator('.cal-day').first().waitFor();
  await assertNoHorizontalScroll(page);
  await shot(page, 'schedule-phone');
  await page.getByRole('button', { name: 'Month', exact: true }).click();
  await page.getByRole('table').waitFor();
  await assertNoHorizontalScroll(page);
  assertClean(ctx);
  await ctx.close();
});
