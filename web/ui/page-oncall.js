// On-call: who is on call now for every schedule and escalation policy (until when, who is
// next), and a schedule's calendar (week and month) of its final shifts, with overrides, swaps,
// cover requests and the iCal link.
import {
  html, useState, useEffect, useRef, useApi, useLiveChanges, api, ApiError, PageHeader, Link,
  RelTime, ErrorBox, Empty, Loading, toast, ActionButton, can, session, setQuery, useLocation,
  absolute,
} from './lib.js';

// ---------------------------------------------------------------------------------------------
// Times: shown in the viewer's zone; the schedule's zone is said next to them.

const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'your browser\'s zone';
const fmtTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fmtDay = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
const fmtWhen = new Intl.DateTimeFormat(undefined, {
  weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
});
const fmtMonth = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric' });
const fmtRange = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const fmtWeekday = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const fmtWeekdayLong = new Intl.DateTimeFormat(undefined, { weekday: 'long' });

const DAY = 86400000;

function ZoneNote({ zone }) {
  if (!zone) return null;
  const same = zone === viewerZone;
  return html`<p class="zone-note small muted">
    Times in <strong>${viewerZone}</strong> (your zone)${same
      ? html`, the schedule's zone too.`
      : html`; schedule zone <strong>${zone}</strong>.`}
  </p>`;
}

// An absolute time (in the viewer's zone) and how far away it is, the full time on hover.
function When({ at }) {
  if (!at) return html`<span class="muted">—</span>`;
  const d = new Date(at);
  return html`<span class="when"><span title=${absolute(d)}>${fmtWhen.format(d)}</span>
    <span class="muted small"> (<${RelTime} at=${at} />)</span></span>`;
}

// Local midnight of the day `d` falls on, and day arithmetic in local (wall-clock) days.
function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}
function addDays(d, n) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
}
// Monday of the week `d` is in.
function startOfWeek(d) {
  const s = startOfDay(d);
  return addDays(s, -((s.getDay() + 6) % 7));
}
function ymd(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
function parseYmd(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || '');
  if (!m) return null;
  const d = new Date(+m[1], +m[2] - 1, +m[3]);
  return isNaN(d) ? null : d;
}
// The value of an <input type="datetime-local"> for `d` (local time, minutes).
function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${ymd(d)}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
// An <input type="datetime-local"> value (local time) as an instant, or null.
function fromLocalInput(v) {
  if (!v) return null;
  const d = new Date(v);
  return isNaN(d) ? null : d;
}
// "HH:MM" of an instant within a day; the day's end reads 24:00 (or midnight), not 00:00.
const hour12 = Boolean(fmtTime.resolvedOptions().hour12);
function clock(t, dayEnd) {
  if (t >= dayEnd) return hour12 ? 'midnight' : '24:00';
  return fmtTime.format(new Date(t));
}

// ---------------------------------------------------------------------------------------------
// People.

function useUsers() {
  const { data, error } = useApi('/api/v1/users', { liveTypes: ['org.'] });
  const byId = {};
  for (const u of (data && data.users) || []) byId[u.id] = u;
  return { list: (data && data.users) || [], byId, error };
}

function nameOf(users, id) {
  if (!id) return 'Nobody';
  const u = users.byId[id];
  return (u && u.name) || id;
}
function shortName(users, id) {
  if (!id) return 'nobody';
  return nameOf(users, id).split(' ')[0];
}

function People({ ids, users }) {
  if (!ids || !ids.length) return html`<span class="kind kind-gap">⚠ Nobody</span>`;
  return ids.map((id, i) => html`${i ? ', ' : ''}<span class="person" title=${id}>${nameOf(users, id)}</span>`);
}

// Where a stretch of on-call comes from, in words (colour only adds to it).
function KindTag({ source, layer, kind }) {
  if (source === 'gap') return html`<span class="kind kind-gap">⚠ Gap: nobody on call</span>`;
  if (source === 'override') {
    const word = kind === 'swap' ? 'Swap' : kind === 'cover' ? 'Cover' : 'Override';
    return html`<span class="kind kind-override">✱ ${word}</span>`;
  }
  return html`<span class="kind kind-layer">▤ Layer ${layer || ''}</span>`;
}

function kindText(seg, kind) {
  if (seg.source === 'gap') return 'gap, nobody on call';
  if (seg.source === 'override') return kind === 'swap' ? 'swap' : kind === 'cover' ? 'cover' : 'override';
  return `layer ${seg.layer || ''}`;
}

// ---------------------------------------------------------------------------------------------
// /oncall: every schedule and every escalation policy, now.

export function OnCallPage() {
  const { data, error, loading, reload } = useApi('/api/v1/oncall', {
    liveTypes: ['override.', 'org.'],
  });
  const users = useUsers();
  // The server recompiles its schedules just after an override's change is committed, and the
  // feed may tell us before that: ask once more a moment later.
  useLiveChanges(['override.'], () => {
    setTimeout(reload, 1500);
  });

  // Who is on call changes with time too: ask again when the first handoff comes.
  useEffect(() => {
    if (!data) return undefined;
    const ends = data.schedules.map((s) => s.until && Date.parse(s.until)).filter(Boolean);
    if (!ends.length) return undefined;
    const wait = Math.min(Math.max(1000, Math.min(...ends) - Date.now() + 1000), 6 * 3600 * 1000);
    const t = setTimeout(reload, wait);
    return () => clearTimeout(t);
  }, [data]);

  const me = users.byId[session.user];
  const mine = data ? data.schedules.filter((s) => (s.users || []).includes(session.user)) : [];
  return html`<${PageHeader} title="On-call">
      ${me && me.ical_url && html`<a class="button" href=${me.ical_url}
        title="Your shifts from every schedule, for a calendar app">Your shifts (iCal)</a>`}
    </${PageHeader}>
    <p class="small muted">Times in <strong>${viewerZone}</strong> (your zone). Open a schedule for its
      calendar, overrides and cover requests.</p>
    <${ErrorBox} error=${error} onRetry=${reload} />
    <${ErrorBox} error=${users.error} />
    ${loading && !data && html`<${Loading} />`}
    ${mine.length > 0 && html`<p class="notice you-oncall" role="status">
      You are on call for ${mine.map((s, i) => html`${i ? ', ' : ''}<${Link} href=${'/schedules/' + encodeURIComponent(s.id)}>${s.name}</${Link}>
        ${s.until ? html` until <${When} at=${s.until} />` : ''}`)}.</p>`}
    ${data && html`
      <h2 id="schedules-h">Schedules</h2>
      ${data.schedules.length === 0
        ? html`<${Empty} title="No schedules yet">
            <p>Add a schedule (layers of people taking turns) under <code>schedules:</code> in org.yaml
            and apply it (<code>houston org apply</code>); docs/config.md lists every key. Then point an
            escalation policy at it.</p></${Empty}>`
        : html`<div class="cards oncall-cards">
            ${data.schedules.map((s) => html`<${ScheduleCard} key=${s.id} s=${s} users=${users} />`)}
          </div>`}
      <h2 id="policies-h">Escalation policies</h2>
      ${data.escalation_policies.length === 0
        ? html`<${Empty} title="No escalation policies yet">
            <p>An escalation policy says whom to page, in which order. Add one under
            <code>escalation_policies:</code> in org.yaml and name it in a service.</p></${Empty}>`
        : html`<div class="cards oncall-cards">
            ${data.escalation_policies.map((p) => html`<${PolicyCard} key=${p.id} p=${p}
              schedules=${data.schedules} users=${users} />`)}
          </div>`}`}`;
}

function ScheduleCard({ s, users }) {
  const hid = 'sched-' + s.id;
  return html`<article class="card oncall-card" aria-labelledby=${hid}>
    <h3 id=${hid}><${Link} href=${'/schedules/' + encodeURIComponent(s.id)}>${s.name}</${Link}></h3>
    <p class="small muted">Schedule zone ${s.timezone}</p>
    ${s.error && html`<p class="error">${s.error}</p>`}
    <dl class="facts">
      <dt>On call now</dt>
      <dd class="now-oncall"><strong><${People} ids=${s.users} users=${users} /></strong>
        ${s.users && s.users.length > 0 && html` <${KindTag} source=${s.source} layer=${s.layer} />`}</dd>
      <dt>Until</dt>
      <dd>${s.until ? html`<${When} at=${s.until} />` : html`<span class="muted">no handoff within a year</span>`}</dd>
      <dt>Next</dt>
      <dd>${s.next
        ? html`<${People} ids=${s.next.users} users=${users} /> from <${When} at=${s.next.start} />`
        : html`<span class="muted">nobody else within a year</span>`}</dd>
    </dl>
    <p class="small"><${Link} href=${'/schedules/' + encodeURIComponent(s.id)}>Calendar and overrides</${Link}></p>
  </article>`;
}

function targetName(t, schedules) {
  if (t.type === 'schedule') {
    const s = schedules.find((x) => x.id === t.id);
    return `schedule ${s ? s.name : t.id}`;
  }
  return `${t.type} ${t.id}`;
}

function PolicyCard({ p, schedules, users }) {
  const hid = 'policy-' + p.id;
  return html`<article class="card oncall-card" aria-labelledby=${hid}>
    <h3 id=${hid}>${p.name}</h3>
    <ol class="steps">
      ${p.steps.map((st, i) => html`<li key=${i}>
        <div class="step-head"><strong>Step ${i + 1}</strong>
          <span class="muted small">${i === 0
            ? st.delay_minutes ? `${st.delay_minutes} min after the incident opens` : 'as soon as the incident opens'
            : `${st.delay_minutes} min after step ${i}`}</span></div>
        <div>Reaches now: <strong><${People} ids=${st.users} users=${users} /></strong></div>
        <ul class="targets small">
          ${st.targets.map((t, j) => html`<li key=${j}>
            ${t.type === 'schedule'
              ? html`<${Link} href=${'/schedules/' + encodeURIComponent(t.id)}>${targetName(t, schedules)}</${Link}>`
              : targetName(t, schedules)}: <${People} ids=${t.users} users=${users} /></li>`)}
        </ul>
        ${st.round_robin && html`<p class="small muted">Round robin: one target per incident, taking turns.</p>`}
      </li>`)}
    </ol>
    <p class="small muted">${p.repeat
      ? `Goes through the steps ${p.repeat} more time${p.repeat > 1 ? 's' : ''} if nobody acknowledges.`
      : 'Stops after the last step if nobody acknowledges.'}</p>
  </article>`;
}

// ---------------------------------------------------------------------------------------------
// /schedules/{id}: the calendar.

// The days the view shows: a week (Monday first) or the weeks that cover a month.
function viewRange(view, anchor) {
  if (view === 'month') {
    const first = new Date(anchor.getFullYear(), anchor.getMonth(), 1);
    const last = new Date(anchor.getFullYear(), anchor.getMonth() + 1, 0);
    const start = startOfWeek(first);
    const end = addDays(startOfWeek(last), 7);
    return { start, end };
  }
  const start = startOfWeek(anchor);
  return { start, end: addDays(start, 7) };
}

function days(start, end) {
  const out = [];
  for (let d = start; d < end; d = addDays(d, 1)) out.push(d);
  return out;
}

// The pieces of `segments` within [dayStart, dayEnd), clipped.
function piecesOf(segments, dayStart, dayEnd) {
  const a = dayStart.getTime();
  const b = dayEnd.getTime();
  const out = [];
  for (const seg of segments) {
    const s = Date.parse(seg.start);
    const e = Date.parse(seg.end);
    if (e <= a || s >= b) continue;
    out.push({ seg, s: Math.max(s, a), e: Math.min(e, b) });
  }
  return out;
}

// The API override a final segment comes from (the last listed that covers it), for its kind and
// for cancelling it.
function overrideOf(seg, overrides) {
  if (seg.source !== 'override' || !overrides) return null;
  const s = Date.parse(seg.start);
  const e = Date.parse(seg.end);
  let found = null;
  for (const o of overrides) {
    if (o.state !== 'active' || o.user !== seg.user) continue;
    if (Date.parse(o.start) <= s && Date.parse(o.end) >= e) found = o;
  }
  return found;
}

function segLabel(p, users, dayEnd, kind) {
  const seg = p.seg;
  const who = seg.source === 'gap' ? 'Nobody on call' : nameOf(users, seg.user);
  return `${clock(p.s, dayEnd)} to ${clock(p.e, dayEnd)}: ${who} (${kindText(seg, kind)}); ` +
    `whole stretch ${fmtWhen.format(new Date(seg.start))} to ${fmtWhen.format(new Date(seg.end))}`;
}

export function SchedulePage({ id }) {
  const { query } = useLocation();
  const view = query.get('view') === 'month' ? 'month' : 'week';
  const anchor = parseYmd(query.get('date')) || startOfDay(new Date());
  const { start, end } = viewRange(view, anchor);
  const enc = encodeURIComponent(id);
  const live = { liveTypes: ['override.', 'org.'] };
  const shifts = useApi(
    `/api/v1/schedules/${enc}/shifts?from=${encodeURIComponent(start.toISOString())}&to=${encodeURIComponent(end.toISOString())}`,
    live,
  );
  const schedules = useApi('/api/v1/schedules', { liveTypes: ['org.'] });
  const overrides = useApi(`/api/v1/schedules/${enc}/overrides`, live);
  const covers = useApi('/api/v1/cover-requests', live);
  const users = useUsers();
  const [selected, setSelected] = useState(null); // a segment
  const [form, setForm] = useState({ tab: 'override', prefill: null, n: 0 });
  const formRef = useRef(null);

  const sched = schedules.data && schedules.data.schedules.find((s) => s.id === id);
  const title = sched ? sched.name : id;
  const segments = (shifts.data && shifts.data.segments) || [];
  const ovs = (overrides.data && overrides.data.overrides) || [];
  const reloadAll = () => Promise.all([shifts.reload(), overrides.reload(), covers.reload()]);

  const go = (d) => setQuery('date', ymd(d));
  const step = (n) => go(view === 'month'
    ? new Date(anchor.getFullYear(), anchor.getMonth() + n, 1)
    : addDays(anchor, 7 * n));
  const unit = view === 'month' ? 'month' : 'week';
  const rangeLabel = view === 'month'
    ? fmtMonth.format(anchor)
    : fmtRange.formatRange ? fmtRange.formatRange(start, addDays(end, -1)) : `${fmtRange.format(start)} – ${fmtRange.format(addDays(end, -1))}`;

  const openForm = (tab, prefill) => {
    setForm((f) => ({ tab, prefill, n: f.n + 1 }));
    requestAnimationFrame(() => {
      const el = formRef.current && formRef.current.querySelector('select, input');
      if (el) {
        formRef.current.scrollIntoView({ block: 'start' });
        el.focus();
      }
    });
  };

  // Keyboard, anywhere in the calendar: Page Up / Page Down page through weeks or months (as in
  // date pickers), T goes to today.
  const onCalendarKey = (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) return;
    if (e.key === 'PageUp') step(-1);
    else if (e.key === 'PageDown') step(1);
    else if (e.key === 't' || e.key === 'T') go(startOfDay(new Date()));
    else return;
    e.preventDefault();
  };

  const canWrite = can('responder');
  if (shifts.error instanceof ApiError && shifts.error.status === 404) {
    return html`<${PageHeader} title=${title} />
      <${ErrorBox} error=${shifts.error} />
      <p><${Link} href="/oncall">See every schedule</${Link}>.</p>`;
  }
  return html`<${PageHeader} title=${title}>
      <${Link} class="button" href="/oncall">All on-call</${Link}>
    </${PageHeader}>
    <${ZoneNote} zone=${sched && sched.timezone} />
    ${sched && html`<p class="small muted">Schedule <code>${id}</code> · ${sched.layers.length} layer${sched.layers.length === 1 ? '' : 's'}:
      ${sched.layers.map((l, i) => html`${i ? '; ' : ' '}<span class="kind kind-layer">▤ ${l.name}</span> ${l.rotation.type}${l.rotation.length > 1 ? ` ×${l.rotation.length}` : ''} (${l.users.map((u) => (u ? shortName(users, u) : 'nobody')).join(', ')})${l.end ? `, until ${l.end.replace('T', ' ').slice(0, 16)}` : ''}`)}</p>`}
    <${ErrorBox} error=${schedules.error} onRetry=${schedules.reload} />
    <${ErrorBox} error=${shifts.error} onRetry=${shifts.reload} />
    ${shifts.data && shifts.data.warning && html`<p class="notice gap-warning" role="status">⚠ ${shifts.data.warning}</p>`}

    <section class="calendar" aria-labelledby="cal-range" onKeyDown=${onCalendarKey}>
      <div class="cal-toolbar">
        <div class="cal-nav" role="group" aria-label="Calendar navigation">
          <button type="button" onClick=${() => step(-1)} aria-label=${'Previous ' + unit} title=${'Previous ' + unit + ' (Page Up)'}>‹ Prev</button>
          <button type="button" onClick=${() => go(startOfDay(new Date()))} title="Today (T)">Today</button>
          <button type="button" onClick=${() => step(1)} aria-label=${'Next ' + unit} title=${'Next ' + unit + ' (Page Down)'}>Next ›</button>
        </div>
        <h2 id="cal-range" class="cal-range" aria-live="polite">${rangeLabel}</h2>
        <div class="seg" role="group" aria-label="Calendar view">
          <button type="button" aria-pressed=${view === 'week'} onClick=${() => setQuery('view', null)}>Week</button>
          <button type="button" aria-pressed=${view === 'month'} onClick=${() => setQuery('view', 'month')}>Month</button>
        </div>
      </div>
      <${Legend} />
      <p class="small muted cal-keys">Keys in the calendar: Page Up and Page Down go back and forward, T goes to today.</p>
      ${shifts.loading && !shifts.data && html`<${Loading} />`}
      ${shifts.data && (view === 'week'
        ? html`<${WeekView} start=${start} end=${end} segments=${segments} users=${users}
            overrides=${ovs} selected=${selected} onSelect=${setSelected} />`
        : html`<${MonthView} start=${start} end=${end} anchor=${anchor} segments=${segments}
            users=${users} overrides=${ovs}
            onDay=${(d) => { setQuery('view', null); go(d); }} />`)}
    </section>

    ${selected && html`<${Selected} seg=${selected} users=${users} overrides=${ovs} canWrite=${canWrite}
      onClose=${() => setSelected(null)} onForm=${openForm} onDone=${reloadAll} />`}

    <div class="grid2 oncall-lower">
      <div>
        ${canWrite
          ? html`<section class="changes" aria-labelledby="changes-h" ref=${formRef}>
              <h2 id="changes-h">Change who is on call</h2>
              <${ChangeForms} key=${form.n} id=${id} users=${users} tab=${form.tab} prefill=${form.prefill}
                onTab=${(tab) => setForm((f) => ({ ...f, tab }))} onDone=${reloadAll} />
            </section>`
          : html`<p class="muted">Viewers cannot change the schedule; ask a responder or an admin.</p>`}
      </div>
      <div>
        <${CoverRequests} id=${id} covers=${covers} users=${users} canWrite=${canWrite} onDone=${reloadAll} />
        <${OverridesList} overrides=${overrides} users=${users} canWrite=${canWrite} onDone=${reloadAll} />
        <${ICalLink} url=${(sched && sched.ical_url) || (shifts.data && shifts.data.ical_url)} name=${title} />
      </div>
    </div>`;
}

function Legend() {
  return html`<ul class="cal-legend small" aria-label="What the colours and marks mean">
    <li><span class="swatch sw-layer" aria-hidden="true"></span><span class="kind kind-layer">▤ Layer</span> a rotation's shift (its name follows)</li>
    <li><span class="swatch sw-override" aria-hidden="true"></span><span class="kind kind-override">✱ Override</span> someone else on call (override, swap, cover)</li>
    <li><span class="swatch sw-gap" aria-hidden="true"></span><span class="kind kind-gap">⚠ Gap</span> nobody on call</li>
  </ul>`;
}

function dayHeading(d) {
  return fmtDay.format(d);
}

// A day's 24 hours drawn as a bar; decoration only (the list beside it says the same in words).
function DayBar({ pieces, dayStart, dayEnd, users, overrides, now }) {
  const a = dayStart.getTime();
  const len = dayEnd.getTime() - a;
  const showNow = now >= a && now < a + len;
  return html`<span class="cal-bar" aria-hidden="true">
    ${pieces.map((p, i) => {
      const ov = overrideOf(p.seg, overrides);
      return html`<span key=${i} class=${'blk k-' + p.seg.source}
        style=${`left:${((p.s - a) / len) * 100}%;width:${((p.e - p.s) / len) * 100}%`}
        title=${`${clock(p.s, a + len)}–${clock(p.e, a + len)} ${p.seg.source === 'gap' ? 'nobody' : nameOf(users, p.seg.user)} (${kindText(p.seg, ov && ov.kind)})`}>
        <span class="blk-text">${p.seg.source === 'gap' ? '⚠ gap' : (p.seg.source === 'override' ? '✱ ' : '') + shortName(users, p.seg.user)}</span>
      </span>`;
    })}
    ${showNow && html`<span class="now-line" style=${`left:${((now - a) / len) * 100}%`}></span>`}
  </span>`;
}

function WeekView({ start, end, segments, users, overrides, selected, onSelect }) {
  const now = Date.now();
  const today = startOfDay(new Date()).getTime();
  return html`<div class="cal-week">
    <div class="cal-axis small muted" aria-hidden="true"><span>00</span><span>06</span><span>12</span><span>18</span><span>24</span></div>
    ${days(start, end).map((d) => {
      const dEnd = addDays(d, 1);
      const pieces = piecesOf(segments, d, dEnd);
      const isToday = d.getTime() === today;
      const hid = 'day-' + ymd(d);
      return html`<section key=${ymd(d)} class=${'cal-day' + (isToday ? ' today' : '')} aria-labelledby=${hid}>
        <h3 id=${hid} aria-current=${isToday ? 'date' : undefined}>
          <span>${dayHeading(d)}</span>${isToday && html` <span class="badge today-badge">Today</span>`}</h3>
        <${DayBar} pieces=${pieces} dayStart=${d} dayEnd=${dEnd} users=${users} overrides=${overrides} now=${now} />
        <ul class="cal-list">
          ${pieces.length === 0 && html`<li class="muted small">No data for this day.</li>`}
          ${pieces.map((p, i) => {
            const ov = overrideOf(p.seg, overrides);
            const isSel = selected && selected.start === p.seg.start && selected.end === p.seg.end && selected.user === p.seg.user;
            return html`<li key=${i}>
              <button type="button" class=${'seg-item k-' + p.seg.source} aria-pressed=${Boolean(isSel)}
                aria-label=${segLabel(p, users, dEnd.getTime(), ov && ov.kind)}
                onClick=${() => onSelect(isSel ? null : p.seg)}>
                <span class="seg-time">${clock(p.s, dEnd.getTime())}–${clock(p.e, dEnd.getTime())}</span>
                <span class="seg-who">${p.seg.source === 'gap' ? 'Nobody' : nameOf(users, p.seg.user)}</span>
                <${KindTag} source=${p.seg.source} layer=${p.seg.layer} kind=${ov && ov.kind} />
              </button>
            </li>`;
          })}
        </ul>
      </section>`;
    })}
  </div>`;
}

function MonthView({ start, end, anchor, segments, users, overrides, onDay }) {
  const all = days(start, end);
  const weeks = [];
  for (let i = 0; i < all.length; i += 7) weeks.push(all.slice(i, i + 7));
  const today = startOfDay(new Date()).getTime();
  const now = Date.now();
  return html`<table class="cal-month">
    <caption class="oc-sr-only">${fmtMonth.format(anchor)}: who is on call each day. Choose a day for its week.</caption>
    <thead><tr>${weeks[0].map((d) => html`<th scope="col" key=${d.getDay()}><abbr title=${fmtWeekdayLong.format(d)}>${fmtWeekday.format(d)}</abbr></th>`)}</tr></thead>
    <tbody>
      ${weeks.map((w) => html`<tr key=${ymd(w[0])}>
        ${w.map((d) => {
          const dEnd = addDays(d, 1);
          const pieces = piecesOf(segments, d, dEnd);
          const out = d.getMonth() !== anchor.getMonth();
          const isToday = d.getTime() === today;
          const label = `${fmtDay.format(d)}: ` + (pieces.length
            ? pieces.map((p) => {
                const ov = overrideOf(p.seg, overrides);
                return `${clock(p.s, dEnd.getTime())} to ${clock(p.e, dEnd.getTime())} ${p.seg.source === 'gap' ? 'nobody on call' : nameOf(users, p.seg.user)} (${kindText(p.seg, ov && ov.kind)})`;
              }).join('; ')
            : 'no data');
          const shown = pieces.slice(0, 3);
          return html`<td key=${ymd(d)} class=${(out ? 'other-month' : '') + (isToday ? ' today' : '')}>
            <button type="button" class="cal-cell" aria-label=${label} aria-current=${isToday ? 'date' : undefined}
              onClick=${() => onDay(d)}>
              <span class="cell-date">${d.getDate()}</span>
              <${DayBar} pieces=${pieces} dayStart=${d} dayEnd=${dEnd} users=${users} overrides=${overrides} now=${now} />
              <span class="cell-list" aria-hidden="true">
                ${shown.map((p, i) => html`<span key=${i} class=${'cell-item k-' + p.seg.source}>${p.seg.source === 'gap'
                  ? '⚠ gap'
                  : (p.seg.source === 'override' ? '✱ ' : '') + shortName(users, p.seg.user)}</span>`)}
                ${pieces.length > shown.length && html`<span class="cell-item more">+${pieces.length - shown.length}</span>`}
              </span>
            </button>
          </td>`;
        })}
      </tr>`)}
    </tbody>
  </table>`;
}

// The chosen stretch: who, when, from where; and what can be done about it.
function Selected({ seg, users, overrides, canWrite, onClose, onForm, onDone }) {
  const ov = overrideOf(seg, overrides);
  const nowMs = Date.now();
  const future = Date.parse(seg.end) > nowMs;
  // A change can start now at the earliest.
  const from = new Date(Math.max(Date.parse(seg.start), nowMs));
  const range = { start: from, end: new Date(seg.end) };
  const ref = useRef(null);
  useEffect(() => {
    if (ref.current) ref.current.focus();
  }, [seg.start, seg.end, seg.user]);
  return html`<section class="selected card" aria-labelledby="sel-h" tabindex="-1" ref=${ref}>
    <h2 id="sel-h">${seg.source === 'gap' ? 'Nobody on call' : nameOf(users, seg.user)}
      <${KindTag} source=${seg.source} layer=${seg.layer} kind=${ov && ov.kind} /></h2>
    <dl class="facts">
      <dt>From</dt><dd><${When} at=${seg.start} /></dd>
      <dt>To</dt><dd><${When} at=${seg.end} /></dd>
      ${ov && ov.note && html`<dt>Note</dt><dd>${ov.note}</dd>`}
      ${ov && ov.created_by && html`<dt>Set by</dt><dd>${ov.created_by}</dd>`}
      ${seg.source === 'override' && !ov && html`<dt>Source</dt><dd>org.yaml (change it there)</dd>`}
    </dl>
    <div class="row">
      ${canWrite && future && html`
        <button type="button" onClick=${() => onForm('override', { ...range, user: '' })}>${seg.source === 'gap' ? 'Cover this gap' : 'Override this shift'}</button>
        ${seg.source !== 'gap' && html`<button type="button" onClick=${() => onForm('swap', { ...range, user: seg.user })}>Swap this shift</button>
        <button type="button" onClick=${() => onForm('cover', { ...range, user: seg.user })}>Request cover</button>`}
        ${ov && ov.id !== null && ov.id !== undefined && html`<${ActionButton} class="danger"
          action=${async () => { await api('DELETE', `/api/v1/overrides/${ov.id}`); await onDone(); onClose(); }}
          done="Override cancelled">Cancel this ${ov.kind}</${ActionButton}>`}`}
      <button type="button" class="link" onClick=${onClose}>Close</button>
    </div>
  </section>`;
}

function UserSelect({ id, label, users, value, onChange, required = true, includeEmpty = true }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <select id=${id} value=${value} required=${required} onChange=${(e) => onChange(e.target.value)}>
      ${includeEmpty && html`<option value="">Choose a person…</option>`}
      ${users.list.map((u) => html`<option value=${u.id} key=${u.id}>${u.name || u.id} (${u.id})</option>`)}
    </select>
  </div>`;
}

function TimeInput({ id, label, value, onChange }) {
  return html`<div class="field">
    <label for=${id}>${label} <span class="muted small">(${viewerZone})</span></label>
    <input id=${id} type="datetime-local" required value=${value} onInput=${(e) => onChange(e.target.value)} />
  </div>`;
}

function defaultRange(prefill) {
  if (prefill && prefill.start) return [localInput(prefill.start), localInput(prefill.end)];
  const now = new Date();
  now.setSeconds(0, 0);
  return [localInput(now), localInput(new Date(now.getTime() + 3600000))];
}

// Checks a start/end pair of datetime-local values; returns [startIso, endIso] or throws words.
function rangeOf(startV, endV, what = '') {
  const s = fromLocalInput(startV);
  const e = fromLocalInput(endV);
  if (!s) throw new Error(`${what}choose when it starts`);
  if (!e) throw new Error(`${what}choose when it ends`);
  if (e <= s) throw new Error(`${what}the end must be after the start`);
  return [s.toISOString(), e.toISOString()];
}

function ChangeForms({ id, users, tab, prefill, onTab, onDone }) {
  const tabs = [['override', 'Override'], ['swap', 'Swap'], ['cover', 'Cover request']];
  const onKey = (e) => {
    const i = tabs.findIndex(([t]) => t === tab);
    let j = null;
    if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') j = (i + tabs.length - 1) % tabs.length;
    if (j === null) return;
    e.preventDefault();
    onTab(tabs[j][0]);
    const btn = e.currentTarget.querySelectorAll('[role=tab]')[j];
    if (btn) btn.focus();
  };
  return html`<div>
    <div class="tabs" role="tablist" aria-label="Kind of change" onKeyDown=${onKey}>
      ${tabs.map(([t, label]) => html`<button type="button" role="tab" key=${t} id=${'tab-' + t}
        aria-selected=${tab === t} aria-controls=${'panel-' + t} tabindex=${tab === t ? 0 : -1}
        onClick=${() => onTab(t)}>${label}</button>`)}
    </div>
    <div role="tabpanel" id=${'panel-' + tab} aria-labelledby=${'tab-' + tab}>
      ${tab === 'override' && html`<${OverrideForm} id=${id} users=${users} prefill=${prefill} onDone=${onDone} />`}
      ${tab === 'swap' && html`<${SwapForm} id=${id} users=${users} prefill=${prefill} onDone=${onDone} />`}
      ${tab === 'cover' && html`<${CoverForm} id=${id} users=${users} prefill=${prefill} onDone=${onDone} />`}
    </div>
  </div>`;
}

// Runs a form's submit: busy while it runs, the error in words under the form.
function useSubmit(run) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const onSubmit = async (e) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await run();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, onSubmit };
}

function OverrideForm({ id, users, prefill, onDone }) {
  const [d0, d1] = defaultRange(prefill);
  const [user, setUser] = useState((prefill && prefill.user) || '');
  const [start, setStart] = useState(d0);
  const [end, setEnd] = useState(d1);
  const [note, setNote] = useState('');
  const { busy, error, onSubmit } = useSubmit(async () => {
    if (!user) throw new Error('choose who is on call instead');
    const [s, e] = rangeOf(start, end);
    const body = { user, start: s, end: e };
    if (note) body.note = note;
    await api('POST', `/api/v1/schedules/${encodeURIComponent(id)}/overrides`, body);
    toast(`Override created: ${nameOf(users, user)} is on call from ${fmtWhen.format(new Date(s))} to ${fmtWhen.format(new Date(e))}`);
    await onDone();
  });
  return html`<form class="oncall-form" aria-label="Create an override" onSubmit=${onSubmit}>
    <p class="small muted">Puts someone on call for a stretch of time, over every layer.</p>
    <${UserSelect} id="ov-user" label="Who is on call" users=${users} value=${user} onChange=${setUser} />
    <div class="row">
      <${TimeInput} id="ov-start" label="Start" value=${start} onChange=${setStart} />
      <${TimeInput} id="ov-end" label="End" value=${end} onChange=${setEnd} />
    </div>
    <label for="ov-note">Note <span class="muted small">(optional)</span></label>
    <input id="ov-note" value=${note} onInput=${(e) => setNote(e.target.value)} />
    <${ErrorBox} error=${error} />
    <p><button type="submit" class="primary" disabled=${busy}>${busy ? 'Creating…' : 'Create override'}</button></p>
  </form>`;
}

function SwapForm({ id, users, prefill, onDone }) {
  const [d0, d1] = defaultRange(prefill);
  const [a, setA] = useState({ user: '', start: d0, end: d1 });
  const [b, setB] = useState({ user: (prefill && prefill.user) || '', start: '', end: '' });
  const { busy, error, onSubmit } = useSubmit(async () => {
    if (!a.user || !b.user) throw new Error('choose who takes each shift');
    const [as, ae] = rangeOf(a.start, a.end, 'first shift: ');
    const [bs, be] = rangeOf(b.start, b.end, 'second shift: ');
    await api('POST', `/api/v1/schedules/${encodeURIComponent(id)}/swaps`, {
      shifts: [{ user: a.user, start: as, end: ae }, { user: b.user, start: bs, end: be }],
    });
    toast(`Swap created: ${nameOf(users, a.user)} and ${nameOf(users, b.user)} trade shifts`);
    await onDone();
  });
  const part = (n, v, set, hint) => html`<fieldset>
    <legend>${n === 1 ? 'First shift' : 'Second shift'}</legend>
    <p class="small muted">${hint}</p>
    <${UserSelect} id=${`sw${n}-user`} label=${`Who takes shift ${n}`} users=${users} value=${v.user}
      onChange=${(user) => set({ ...v, user })} />
    <div class="row">
      <${TimeInput} id=${`sw${n}-start`} label=${`Shift ${n} start`} value=${v.start} onChange=${(start) => set({ ...v, start })} />
      <${TimeInput} id=${`sw${n}-end`} label=${`Shift ${n} end`} value=${v.end} onChange=${(end) => set({ ...v, end })} />
    </div>
  </fieldset>`;
  return html`<form class="oncall-form" aria-label="Create a swap" onSubmit=${onSubmit}>
    <p class="small muted">Two people trade shifts: each takes the other's time. Both parts are made
      together or not at all.</p>
    ${part(1, a, setA, 'The time being given away, and who takes it.')}
    ${part(2, b, setB, 'The time taken in return, and who takes it (usually the person who gave the first).')}
    <${ErrorBox} error=${error} />
    <p><button type="submit" class="primary" disabled=${busy}>${busy ? 'Creating…' : 'Create swap'}</button></p>
  </form>`;
}

function CoverForm({ id, users, prefill, onDone }) {
  const [d0, d1] = defaultRange(prefill);
  const mine = users.byId[session.user] ? session.user : '';
  const [who, setWho] = useState((prefill && prefill.user) || mine);
  const [start, setStart] = useState(d0);
  const [end, setEnd] = useState(d1);
  const [note, setNote] = useState('');
  const { busy, error, onSubmit } = useSubmit(async () => {
    if (!who) throw new Error('choose who needs cover');
    const [s, e] = rangeOf(start, end);
    const body = { requested_by: who, start: s, end: e };
    if (note) body.note = note;
    await api('POST', `/api/v1/schedules/${encodeURIComponent(id)}/cover-requests`, body);
    toast('Cover requested: it is listed under Cover requests until someone accepts it');
    await onDone();
  });
  return html`<form class="oncall-form" aria-label="Request cover" onSubmit=${onSubmit}>
    <p class="small muted">Asks the others to take a stretch of time; whoever accepts is put on call for it.</p>
    <${UserSelect} id="cv-user" label="Who needs cover" users=${users} value=${who} onChange=${setWho} />
    <div class="row">
      <${TimeInput} id="cv-start" label="From" value=${start} onChange=${setStart} />
      <${TimeInput} id="cv-end" label="Until" value=${end} onChange=${setEnd} />
    </div>
    <label for="cv-note">Note <span class="muted small">(optional)</span></label>
    <input id="cv-note" value=${note} onInput=${(e) => setNote(e.target.value)} />
    <${ErrorBox} error=${error} />
    <p><button type="submit" class="primary" disabled=${busy}>${busy ? 'Sending…' : 'Request cover'}</button></p>
  </form>`;
}

function CoverRequests({ id, covers, users, canWrite, onDone }) {
  const list = ((covers.data && covers.data.cover_requests) || []).filter((c) => c.schedule === id);
  return html`<section aria-labelledby="covers-h">
    <h2 id="covers-h">Cover requests</h2>
    <${ErrorBox} error=${covers.error} onRetry=${covers.reload} />
    ${covers.data && list.length === 0 && html`<p class="muted small">No open cover requests. Need someone to
      take your shift? Use “Cover request” under Change who is on call.</p>`}
    <ul class="plain-list">
      ${list.map((c) => html`<${CoverItem} key=${c.id} c=${c} users=${users} canWrite=${canWrite} onDone=${onDone} />`)}
    </ul>
  </section>`;
}

function CoverItem({ c, users, canWrite, onDone }) {
  const [who, setWho] = useState(users.byId[session.user] && session.user !== c.requested_by ? session.user : '');
  const sid = 'cover-' + c.id;
  return html`<li class="card cover-item" aria-labelledby=${sid}>
    <p id=${sid}><strong>${nameOf(users, c.requested_by)}</strong> needs cover from <${When} at=${c.start} />
      to <${When} at=${c.end} />${c.note ? html` — ${c.note}` : ''}</p>
    ${canWrite && html`<div class="row">
      <${UserSelect} id=${'accept-' + c.id} label="Accept as" users=${users} value=${who} onChange=${setWho} />
      <${ActionButton} class="primary" aria-label=${`Accept cover for ${nameOf(users, c.requested_by)}`}
        action=${async () => {
          if (!who) throw new Error('choose who takes the cover');
          await api('POST', `/api/v1/overrides/${c.id}/accept`, { user: who });
          await onDone();
        }} done="Cover accepted: the calendar shows it">Accept</${ActionButton}>
      <${ActionButton} action=${async () => { await api('DELETE', `/api/v1/overrides/${c.id}`); await onDone(); }}
        aria-label=${`Withdraw cover request of ${nameOf(users, c.requested_by)}`}
        done="Cover request withdrawn">Withdraw</${ActionButton}>
    </div>`}
  </li>`;
}

function OverridesList({ overrides, users, canWrite, onDone }) {
  const list = ((overrides.data && overrides.data.overrides) || []).filter((o) => o.state === 'active');
  return html`<section aria-labelledby="ovs-h">
    <h2 id="ovs-h">Current and upcoming overrides</h2>
    <${ErrorBox} error=${overrides.error} onRetry=${overrides.reload} />
    ${overrides.data && list.length === 0 && html`<p class="muted small">None: the layers decide who is on call.</p>`}
    <ul class="plain-list">
      ${list.map((o, i) => html`<li key=${o.id ?? 'yaml-' + i} class="ov-item">
        <div><${KindTag} source="override" kind=${o.kind} /> <strong>${nameOf(users, o.user)}</strong></div>
        <div class="small"><${When} at=${o.start} /> to <${When} at=${o.end} /></div>
        ${o.note && html`<div class="small muted">${o.note}</div>`}
        ${o.id === null || o.id === undefined
          ? html`<div class="small muted">From org.yaml: change it there.</div>`
          : canWrite && html`<${ActionButton} class="danger"
              aria-label=${`Cancel ${o.kind} of ${nameOf(users, o.user)} from ${fmtWhen.format(new Date(o.start))}`}
              action=${async () => { await api('DELETE', `/api/v1/overrides/${o.id}`); await onDone(); }}
              done="Override cancelled">Cancel</${ActionButton}>`}
      </li>`)}
    </ul>
  </section>`;
}

function ICalLink({ url, name }) {
  const [copied, setCopied] = useState(false);
  const inputRef = useRef(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
      toast('Calendar link copied');
    } catch {
      // No clipboard here (an insecure origin): select the text so that it can be copied by hand.
      inputRef.current.select();
      toast('Press Ctrl+C (⌘C) to copy the selected link');
    }
  };
  return html`<section aria-labelledby="ical-h">
    <h2 id="ical-h">Calendar feed</h2>
    ${url
      ? html`<p class="small muted">Subscribe to ${name}'s final shifts in a calendar app (iCal). Anyone with the
          link can read the shifts; it changes only when the server's link key changes.</p>
        <label for="ical-url">iCal link</label>
        <div class="row ical-row">
          <input id="ical-url" ref=${inputRef} readonly value=${url} onFocus=${(e) => e.target.select()} />
          <button type="button" onClick=${copy}>${copied ? 'Copied' : 'Copy link'}</button>
          <a class="button" href=${url}>Download .ics</a>
        </div>`
      : html`<p class="muted small">Calendar links are off on this server (it has no link key).</p>`}
  </section>`;
}
