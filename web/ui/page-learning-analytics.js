// Analytics: response times by service and by severity, incidents over time, who gets paged (and
// out of hours), and alert noise, for a date range. The charts are SVG drawn here (bars, columns,
// sparklines); each has an accessible name, and its numbers are also given as text and tables, so
// nothing is told by colour or shape alone.
import {
  html, useState, useEffect, useRef, useApi, useLocation, setQuery, navigate, ErrorBox, Empty,
  Loading, PageHeader, Link, qs,
} from './lib.js';

// ---------------------------------------------------------------------------------------------
// Small helpers shared with page-learning.js.

// Seconds as people read them: "45s", "12m 5s", "3h 4m", "2d 3h"; null is "—".
export function fmtDuration(sec) {
  if (sec === null || sec === undefined || Number.isNaN(sec)) return '—';
  let s = Math.round(Math.abs(sec));
  const sign = sec < 0 ? '-' : '';
  if (s < 60) return `${sign}${s}s`;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  s %= 60;
  if (d) return `${sign}${d}d${h ? ` ${h}h` : ''}`;
  if (h) return `${sign}${h}h${m ? ` ${m}m` : ''}`;
  return `${sign}${m}m${s ? ` ${s}s` : ''}`;
}

// A date in the viewer's calendar as YYYY-MM-DD, and back (null when it is not one).
export function ymd(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function parseYmd(s) {
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(s || '');
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) ? null : d;
}

function addDays(s, n) {
  const d = parseYmd(s);
  d.setDate(d.getDate() + n);
  return ymd(d);
}

function daysBetween(a, b) {
  return Math.round((parseYmd(b) - parseYmd(a)) / 86400000);
}

const zone = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
})();

const num = new Intl.NumberFormat();
const pct = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 });

// ---------------------------------------------------------------------------------------------
// Charts. Each measures its box and draws at its real width (text stays readable on a phone);
// the viewBox makes it shrink rather than overflow before the first measurement.

function useWidth(fallback = 560) {
  const ref = useRef(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el || !('ResizeObserver' in window)) return undefined;
    const ro = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0].contentRect.width);
      if (w > 0) setWidth((old) => (Math.abs(old - w) > 1 ? w : old));
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

// Cuts a label to what fits in `px` at about 7 px a character.
function fit(label, px) {
  const n = Math.max(3, Math.floor(px / 7));
  return label.length > n ? label.slice(0, n - 1) + '…' : label;
}

// Horizontal bars, one row each: {label, value, text, part?}. `part` (0..value) is drawn
// hatched at the bar's end, and named by `partName` in the legend and in each row's text.
function BarChart({ title, rows, partName }) {
  const [ref, width] = useWidth();
  const rowH = 26;
  const top = partName ? 24 : 4;
  const height = top + rows.length * rowH + 4;
  const max = Math.max(0, ...rows.map((r) => r.value || 0)) || 1;
  const labelW = Math.min(Math.max(...rows.map((r) => r.label.length * 7 + 10), 40), Math.floor(width * 0.38));
  const textW = Math.min(150, Math.max(...rows.map((r) => r.text.length * 6.6 + 8), 40));
  const barW = Math.max(20, width - labelW - textW);
  const x = (v) => (barW * (v || 0)) / max;
  const id = 'c' + title.replace(/\W+/g, '-').toLowerCase();
  return html`<div class="lr-chart" ref=${ref}>
    <svg role="img" aria-label=${title} width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`}
      preserveAspectRatio="xMinYMin meet">
      <title>${title}</title>
      ${partName && html`<defs><pattern id=${id + '-hatch'} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect width="6" height="6" class="lr-bar" /><line x1="0" y1="0" x2="0" y2="6" class="lr-hatch" />
        </pattern></defs>
        <g class="lr-legend">
          <rect x=${labelW} y="4" width="12" height="12" class="lr-bar" /><text x=${labelW + 16} y="14">in hours</text>
          <rect x=${labelW + 90} y="4" width="12" height="12" fill=${`url(#${id}-hatch)`} /><text x=${labelW + 106} y="14">${partName}</text>
        </g>`}
      ${rows.map((r, i) => {
        const y = top + i * rowH;
        const w = x(r.value);
        const pw = r.part ? x(r.part) : 0;
        return html`<g key=${r.label}>
          <title>${r.label}: ${r.text}</title>
          <text x=${labelW - 6} y=${y + 17} text-anchor="end" class="lr-axis">${fit(r.label, labelW - 10)}</text>
          <rect x=${labelW} y=${y + 4} width=${Math.max(w - pw, 0)} height="18" class="lr-bar" />
          ${pw > 0 && html`<rect x=${labelW + w - pw} y=${y + 4} width=${pw} height="18" fill=${`url(#${id}-hatch)`} class="lr-part" />`}
          <text x=${labelW + w + 6} y=${y + 17} class="lr-value">${r.text}</text>
        </g>`;
      })}
    </svg>
  </div>`;
}

// Columns over time: points {label, value}; the labels of a few columns under the axis.
function ColumnChart({ title, points, unit }) {
  const [ref, width] = useWidth();
  const height = 170;
  const left = 34;
  const bottom = 22;
  const plotH = height - bottom - 10;
  const max = Math.max(1, ...points.map((p) => p.value));
  const step = (width - left - 4) / Math.max(points.length, 1);
  const barW = Math.max(1, Math.min(28, step * 0.7));
  const every = Math.max(1, Math.ceil(points.length / Math.max(2, Math.floor((width - left) / 80))));
  return html`<div class="lr-chart" ref=${ref}>
    <svg role="img" aria-label=${title} width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`}
      preserveAspectRatio="xMinYMin meet">
      <title>${title}</title>
      <line x1=${left} y1=${10} x2=${left} y2=${10 + plotH} class="lr-gridline" />
      <line x1=${left} y1=${10 + plotH} x2=${width - 2} y2=${10 + plotH} class="lr-gridline" />
      <text x=${left - 4} y=${16} text-anchor="end" class="lr-axis">${num.format(max)}</text>
      <text x=${left - 4} y=${10 + plotH} text-anchor="end" class="lr-axis">0</text>
      ${points.map((p, i) => {
        const h = (plotH * p.value) / max;
        const cx = left + step * i + step / 2;
        return html`<g key=${p.label}>
          <title>${p.label}: ${num.format(p.value)} ${unit}</title>
          <rect x=${cx - barW / 2} y=${10 + plotH - h} width=${barW} height=${h} class="lr-bar" />
          ${i % every === 0 && html`<text x=${cx} y=${height - 6} text-anchor="middle" class="lr-axis">${p.label.slice(5)}</text>`}
        </g>`;
      })}
    </svg>
  </div>`;
}

// A line of values, small, beside a number; named with its values in words.
function Sparkline({ values, label }) {
  const w = 110;
  const h = 28;
  const max = Math.max(1, ...values);
  const pts = values.map((v, i) => `${(i * (w - 4)) / Math.max(values.length - 1, 1) + 2},${h - 3 - ((h - 6) * v) / max}`);
  return html`<svg class="lr-spark" role="img" aria-label=${label} width=${w} height=${h} viewBox=${`0 0 ${w} ${h}`}>
    <title>${label}</title>
    <polyline points=${pts.join(' ')} class="lr-line" />
  </svg>`;
}

// The numbers of a chart as a table, folded under it.
function Numbers({ caption, head, rows }) {
  return html`<details class="lr-numbers">
    <summary>${caption}: the numbers</summary>
    <div class="table-wrap"><table class="lr-table lr-plain">
      <caption class="lr-sr">${caption}</caption>
      <thead><tr>${head.map((x) => html`<th scope="col" key=${x}>${x}</th>`)}</tr></thead>
      <tbody>${rows.map((r, i) => html`<tr key=${i}>${r.map((v, j) => (j === 0 ? html`<th scope="row" key=${j}>${v}</th>` : html`<td key=${j} data-label=${head[j]}>${v}</td>`))}</tr>`)}</tbody>
    </table></div>
  </details>`;
}

// ---------------------------------------------------------------------------------------------
// /analytics

const presets = [
  [7, 'Last 7 days'],
  [30, '30 days'],
  [90, '90 days'],
  [365, '1 year'],
];

export function AnalyticsPage() {
  const { query } = useLocation();
  const today = ymd(new Date());
  const to = parseYmd(query.get('to')) ? query.get('to') : today;
  const from = parseYmd(query.get('from')) ? query.get('from') : addDays(to, -29);
  const span = daysBetween(from, to) + 1;
  const bad = span < 1 ? `The range starts (${from}) after it ends (${to}): pick a start before the end.`
    : span > 400 ? `The range is ${span} days long; houston answers at most 400 days: shorten it.` : null;
  const interval = span <= 31 ? 'day' : span <= 190 ? 'week' : 'month';
  // Dates are days in the viewer's zone; the end day is included.
  const range = bad ? null : { from, to: addDays(to, 1), tz: zone };
  const q = (extra) => (range ? qs({ ...range, ...extra }) : null);
  const path = (p, extra) => (range ? p + q(extra) : null);
  const bySvc = useApi(path('/api/v1/analytics/incidents', { group_by: 'service' }));
  const bySev = useApi(path('/api/v1/analytics/incidents', { group_by: 'severity' }));
  const overTime = useApi(path('/api/v1/analytics/incidents', { group_by: 'service', interval }));
  const load = useApi(path('/api/v1/analytics/oncall-load'));
  const noise = useApi(path('/api/v1/analytics/noise'));
  const reloadAll = () => [bySvc, bySev, overTime, load, noise].forEach((x) => x.reload());
  const setRange = (f, t) => navigate('/analytics' + qs({ from: f, to: t }), { replace: true });
  const preset = query.get('to') && query.get('to') !== today ? 0 : span;

  return html`
    <${PageHeader} title="Analytics">
      <button type="button" onClick=${reloadAll}>Refresh</button>
    </${PageHeader}>
    <form class="filters lr-range" aria-label="Date range" onSubmit=${(e) => e.preventDefault()}>
      <div>
        <span class="lr-label" id="an-preset">Range</span>
        <div class="seg" role="group" aria-labelledby="an-preset">
          ${presets.map(([n, text]) => html`<button type="button" key=${n} aria-pressed=${preset === n}
            onClick=${() => setRange(addDays(today, -(n - 1)), null)}>${text}</button>`)}
        </div>
      </div>
      <div><label for="an-from">From</label>
        <input id="an-from" type="date" value=${from} max=${to} onChange=${(e) => e.target.value && setQuery('from', e.target.value)} /></div>
      <div><label for="an-to">To (included)</label>
        <input id="an-to" type="date" value=${to} onChange=${(e) => e.target.value && setQuery('to', e.target.value)} /></div>
      <p class="small muted lr-zone">Days in your time zone (${zone}); ${interval === 'day' ? 'daily' : interval === 'week' ? 'weekly' : 'monthly'} columns.</p>
    </form>
    ${bad && html`<div class="error" role="alert">${bad}</div>`}
    ${range && html`
      <${Summary} overTime=${overTime} load=${load} noise=${noise} />
      <${IncidentsOverTime} state=${overTime} interval=${interval} />
      <${ResponseTimes} state=${bySvc} by="service" />
      <${ResponseTimes} state=${bySev} by="severity" />
      <${Load} state=${load} />
      <${Noise} state=${noise} />`}`;
}

// The groups of the one bucket of an answer without `interval`.
function groupsOf(data) {
  return data && data.buckets.length ? data.buckets[0].groups : [];
}

function Section({ id, title, state, children }) {
  return html`<section class="lr-panel" aria-labelledby=${id}>
    <h2 id=${id}>${title}</h2>
    <${ErrorBox} error=${state.error} onRetry=${state.reload} />
    ${!state.data && !state.error && html`<${Loading} />`}
    ${state.data && children}
  </section>`;
}

function NoIncidents() {
  return html`<${Empty} title="No incidents in this range">
    <p>Incidents count on the day they were detected. Widen the range above, or send alerts to houston
      (<${Link} href="/help">how to point monitoring here</${Link}>) or declare an incident on
      the <${Link} href="/incidents">incidents page</${Link}>.</p>
  </${Empty}>`;
}

function Summary({ overTime, load, noise }) {
  const buckets = overTime.data ? overTime.data.buckets : [];
  const counts = buckets.map((b) => b.groups.reduce((n, g) => n + g.count, 0));
  const incidents = counts.reduce((a, b) => a + b, 0);
  const people = load.data ? load.data.people : [];
  const pages = people.reduce((n, p) => n + p.pages, 0);
  const ooh = people.reduce((n, p) => n + p.out_of_hours, 0);
  const night = people.reduce((n, p) => n + p.night, 0);
  const n = noise.data;
  const card = (label, value, extra) => html`<li class="card lr-stat"><span class="lr-stat-label">${label}</span>
    <span class="lr-stat-value">${value}</span>${extra}</li>`;
  return html`<ul class="lr-stats" aria-label="Totals for the range">
    ${card('Incidents', overTime.data ? num.format(incidents) : '…',
      counts.length > 1 && html`<${Sparkline} values=${counts} label=${`Incidents per ${overTime.data.interval}: ${counts.join(', ')}`} />`)}
    ${card('Pages', load.data ? num.format(pages) : '…')}
    ${card('Out-of-hours pages', load.data ? num.format(ooh) : '…',
      load.data && html`<span class="small muted">${pages ? pct.format(ooh / pages) + ' of pages' : 'no pages'}${night ? `, ${night} at night` : ''}</span>`)}
    ${card('Alerts', n ? num.format(n.alerts) : '…', n && html`<span class="small muted">${num.format(n.never_acknowledged)} never acknowledged</span>`)}
    ${card('Flaps', n ? num.format(n.flaps) : '…', n && html`<span class="small muted">${num.format(n.flapping_keys)} flapping keys</span>`)}
  </ul>`;
}

function IncidentsOverTime({ state, interval }) {
  const data = state.data;
  const buckets = data ? data.buckets : [];
  const points = buckets.map((b) => ({ label: b.label, value: b.groups.reduce((n, g) => n + g.count, 0) }));
  const total = points.reduce((n, p) => n + p.value, 0);
  // Per service: a sparkline each, with the numbers beside it.
  const services = [...new Set(buckets.flatMap((b) => b.groups.map((g) => g.group)))].sort();
  const series = services.map((s) => ({
    s, values: buckets.map((b) => (b.groups.find((g) => g.group === s) || { count: 0 }).count),
  }));
  return html`<${Section} id="an-time" title="Incidents over time" state=${state}>
    ${total === 0 ? html`<${NoIncidents} />` : html`
      <${ColumnChart} title="Incidents over time" points=${points} unit="incidents" />
      <p class="small muted">${`${num.format(total)} incident${total === 1 ? '' : 's'}, counted per ${interval}; the busiest ${interval}: ${points.reduce((a, b) => (b.value > a.value ? b : a)).label}.`}</p>
      <ul class="lr-sparks" aria-label="Incidents over time per service">
        ${series.map(({ s, values }) => html`<li key=${s}>
          <span class="lr-spark-label">${s}</span>
          <${Sparkline} values=${values} label=${`Incidents of ${s} per ${interval}: ${values.join(', ')}`} />
          <span class="lr-spark-n">${num.format(values.reduce((a, b) => a + b, 0))}</span>
        </li>`)}
      </ul>
      <${Numbers} caption="Incidents over time" head=${[interval === 'day' ? 'Day' : interval === 'week' ? 'Week of' : 'Month', 'Incidents']}
        rows=${points.map((p) => [p.label, p.value])} />`}
  </${Section}>`;
}

function statsRow(g) {
  const st = (x) => `${fmtDuration(x.mean)} (median ${fmtDuration(x.p50)}, p90 ${fmtDuration(x.p90)}, n ${x.n})`;
  return [g.group, g.count, st(g.tta), st(g.ttm), st(g.ttr)];
}

function ResponseTimes({ state, by }) {
  const groups = groupsOf(state.data);
  const title = by === 'service' ? 'Response times by service' : 'Response times by severity';
  const label = (g) => (by === 'severity' && g.group === 'untriaged' ? 'untriaged' : g.group);
  const rows = (k) =>
    groups.filter((g) => g[k].n > 0).map((g) => ({
      label: label(g), value: g[k].mean, text: `${fmtDuration(g[k].mean)} (n ${g[k].n})`,
    }));
  const tta = rows('tta');
  const ttr = rows('ttr');
  return html`<${Section} id=${'an-' + by} title=${title} state=${state}>
    ${groups.length === 0 ? html`<${NoIncidents} />` : html`
      <p class="small muted">Means over the incidents that have the time; MTTA is detection to first
        acknowledgement, MTTR detection to final resolution.</p>
      <div class="lr-pair">
        <div><h3>MTTA by ${by}</h3>${tta.length ? html`<${BarChart} title=${`MTTA by ${by}`} rows=${tta} />`
          : html`<p class="muted">No incident in range was acknowledged by a person yet.</p>`}</div>
        <div><h3>MTTR by ${by}</h3>${ttr.length ? html`<${BarChart} title=${`MTTR by ${by}`} rows=${ttr} />`
          : html`<p class="muted">No incident in range is resolved yet.</p>`}</div>
      </div>
      <${Numbers} caption=${title} head=${[by === 'service' ? 'Service' : 'Severity', 'Incidents', 'Time to acknowledge', 'Time to mitigate', 'Time to resolve']}
        rows=${groups.map(statsRow)} />`}
  </${Section}>`;
}

function Load({ state }) {
  const people = state.data ? state.data.people : [];
  const paged = people.filter((p) => p.pages > 0).sort((a, b) => b.pages - a.pages);
  const s = state.data && state.data.spread;
  return html`<${Section} id="an-load" title="Who gets paged" state=${state}>
    ${paged.length === 0
      ? html`<${Empty} title="Nobody was paged in this range">
          <p>A page is one escalation round reaching one person. When alerts page the on-call, the
            load per person shows here; check <${Link} href="/oncall">who is on call</${Link}> and the
            services' escalation policies.</p></${Empty}>`
      : html`
        <${BarChart} title="Pages per person" partName="out of hours"
          rows=${paged.map((p) => ({
            label: p.user, value: p.pages, part: p.out_of_hours,
            text: `${p.pages} (${p.out_of_hours} out of hours)`,
          }))} />
        ${s && html`<p class="small muted">Spread over ${s.people} people: ${s.min} to ${s.max} pages each,
          mean ${s.mean.toFixed(1)}, standard deviation ${s.stddev.toFixed(1)}${s.busiest ? `; busiest ${s.busiest} with ${pct.format(s.busiest_share)} of all pages` : ''}.
          Out of hours is outside 08:00–18:00 Monday to Friday in each person's own time zone; night is 22:00–07:00.</p>`}
        <${Numbers} caption="Pages per person" head=${['Person', 'Pages', 'Out of hours', 'At night', 'Hours on call', 'Acknowledged', 'Incidents handled']}
          rows=${people.map((p) => [p.user, p.pages, p.out_of_hours, p.night, Math.round(p.hours_on_call), p.acknowledged, p.incidents_handled])} />`}
  </${Section}>`;
}

function Noise({ state }) {
  const n = state.data;
  return html`<${Section} id="an-noise" title="Alert noise" state=${state}>
    ${n && (n.alerts === 0
      ? html`<${Empty} title="No alerts arrived in this range">
          <p>Noise shows which sources and integrations send the most alerts and which alerts flap.
            Point monitoring at houston (<${Link} href="/help">how</${Link}>), or widen the range.</p></${Empty}>`
      : html`
        <p>${`${num.format(n.alerts)} alerts: ${num.format(n.never_acknowledged)} resolved without anyone ` +
          `acknowledging them, ${num.format(n.open)} still open. Alerts per incident: median ` +
          `${n.alerts_per_incident.p50 ?? '—'}, p90 ${n.alerts_per_incident.p90 ?? '—'}. ${num.format(n.flaps)} flaps ` +
          `(an alert again within ${n.window_minutes} minutes of the same key resolving) on ` +
          `${num.format(n.flapping_keys)} keys.`}</p>
        <div class="lr-pair">
          <div><h3>Noisiest sources</h3>
            <${BarChart} title="Noisiest sources" rows=${n.top_sources.map((x) => ({ label: x.source || '(none)', value: x.alerts, text: num.format(x.alerts) }))} /></div>
          <div><h3>Noisiest integrations</h3>
            <${BarChart} title="Noisiest integrations" rows=${n.top_integrations.map((x) => ({ label: x.integration, value: x.alerts, text: num.format(x.alerts) }))} /></div>
        </div>
        <h3>Flapping</h3>
        ${n.top_flapping.length === 0
          ? html`<p class="muted">No alert flapped: none came back within ${n.window_minutes} minutes of resolving.</p>`
          : html`<${BarChart} title="Flapping alerts" rows=${n.top_flapping.map((x) => ({ label: `${x.integration} ${x.dedup_key}`, value: x.flaps, text: `${x.flaps} flaps` }))} />`}
        <${Numbers} caption="Alert noise" head=${['Kind', 'Name', 'Count']}
          rows=${[
            ...n.top_sources.map((x) => ['source', x.source, x.alerts]),
            ...n.top_integrations.map((x) => ['integration', x.integration, x.alerts]),
            ...n.top_flapping.map((x) => ['flapping key', `${x.integration} ${x.dedup_key}`, x.flaps]),
          ]} />`)}
  </${Section}>`;
}
