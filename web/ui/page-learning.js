// Learning from incidents: the postmortems (a list, and one incident's postmortem: the part houston
// computed, read-only, and the part people write, edited with a version check), the action items
// that follow incidents up, and the analytics (page-learning-analytics.js).
import {
  html, useState, useEffect, useRef, api, useApi, useLiveChanges, Link, navigate, useLocation,
  setQuery, RelTime, ErrorBox, Empty, Loading, toast, toastError, ActionButton, SevBadge,
  PageHeader, can, qs, session, ApiError,
} from './lib.js';
import { fmtDuration, ymd, parseYmd } from './page-learning-analytics.js';

export { AnalyticsPage } from './page-learning-analytics.js';

// ---------------------------------------------------------------------------------------------
// Shared bits.

const pmStatusText = { draft: 'draft', in_review: 'in review', published: 'published' };
const itemStatusText = { open: 'open', in_progress: 'in progress', done: 'done', wont_do: "won't do" };

function PmStatus({ status }) {
  return html`<span class=${'badge st-' + status}>${pmStatusText[status] || status}</span>`;
}

function ItemStatus({ status }) {
  return html`<span class=${'badge st-' + status}>${itemStatusText[status] || status}</span>`;
}

function Overdue() {
  return html`<span class="badge lr-overdue">overdue</span>`;
}

// A YYYY-MM-DD date from the page (the viewer's own calendar) as the instant its day starts, or
// (`end`) the instant it ends: the API takes RFC 3339 times.
function dayStart(s, end = false) {
  const d = parseYmd(s);
  if (!d) return '';
  if (end) d.setDate(d.getDate() + 1);
  return d.toISOString();
}

// The org's people, for owner pickers ("alice" -> "Alice Example").
function useUsers() {
  const { data, error } = useApi('/api/v1/users');
  return { users: data ? data.users : [], error };
}

function UserOptions({ users, none }) {
  return html`${none !== undefined && html`<option value="">${none}</option>`}
    ${users.map((u) => html`<option value=${u.id} key=${u.id}>${u.name && u.name !== u.id ? `${u.name} (${u.id})` : u.id}</option>`)}`;
}

// A filter row's segmented buttons: one pressed at a time, the group named by `label`.
function Seg({ label, id, value, options, onChange }) {
  return html`<div>
    <span class="lr-label" id=${id}>${label}</span>
    <div class="seg" role="group" aria-labelledby=${id}>
      ${options.map(
        ([v, text]) => html`<button type="button" key=${v} aria-pressed=${value === v}
          onClick=${() => onChange(v)}>${text}</button>`,
      )}
    </div>
  </div>`;
}

function MoreButton({ shown, more, onMore }) {
  if (!more) return null;
  return html`<p><button type="button" onClick=${onMore}>Show more (${shown} shown)</button></p>`;
}

// ---------------------------------------------------------------------------------------------
// /postmortems

export function PostmortemsPage() {
  const { query } = useLocation();
  const status = query.get('status') || '';
  const service = query.get('service') || '';
  const from = query.get('from') || '';
  const to = query.get('to') || '';
  const [limit, setLimit] = useState(100);
  const services = useApi('/api/v1/services');
  const path =
    '/api/v1/postmortems' +
    qs({ status, service, from: dayStart(from), to: dayStart(to, true), limit });
  const { data, error, reload } = useApi(path, { liveTypes: ['postmortem.'] });
  const filtered = Boolean(status || service || from || to);
  const rows = data ? data.postmortems : [];

  return html`
    <${PageHeader} title="Postmortems">
      <${OpenPostmortemForm} />
    </${PageHeader}>
    <div class="filters">
      <${Seg} label="Status" id="pm-status" value=${status} onChange=${(v) => setQuery('status', v)}
        options=${[['', 'All'], ['draft', 'Draft'], ['in_review', 'In review'], ['published', 'Published']]} />
      <div>
        <label for="pm-service">Service</label>
        <select id="pm-service" value=${service} onChange=${(e) => setQuery('service', e.target.value)}>
          <option value="">All services</option>
          ${(services.data ? services.data.services : []).map(
            (s) => html`<option value=${s.id} key=${s.id}>${s.name || s.id}</option>`,
          )}
        </select>
      </div>
      <div>
        <label for="pm-from">Resolved from</label>
        <input id="pm-from" type="date" value=${from} onChange=${(e) => setQuery('from', e.target.value)} />
      </div>
      <div>
        <label for="pm-to">Resolved until</label>
        <input id="pm-to" type="date" value=${to} onChange=${(e) => setQuery('to', e.target.value)} />
      </div>
      ${filtered && html`<div><button type="button" class="link" onClick=${() => navigate('/postmortems', { replace: true })}>Clear filters</button></div>`}
    </div>
    <${ErrorBox} error=${error} onRetry=${reload} />
    ${!data && !error && html`<${Loading} />`}
    ${data && rows.length === 0 &&
    (filtered
      ? html`<${Empty} title="No postmortem matches these filters">
          <p>Widen the date range or pick another status or service, or <button type="button" class="link"
            onClick=${() => navigate('/postmortems', { replace: true })}>clear the filters</button>.</p>
        </${Empty}>`
      : html`<${Empty} title="No postmortems yet">
          <p>houston drafts one by itself when an incident of a required severity (by default SEV1
            and SEV2) resolves, due a few days later, and reminds its owner until it is published.
            For any other incident, open it by its number above and start one.</p>
        </${Empty}>`)}
    ${rows.length > 0 && html`<div class="table-wrap"><table class="lr-table">
      <caption class="lr-sr">Postmortems, newest incident first</caption>
      <thead><tr>
        <th scope="col">Incident</th><th scope="col">Status</th><th scope="col">Owner</th>
        <th scope="col">Resolved</th><th scope="col">Due</th><th scope="col">Contributing factors</th>
      </tr></thead>
      <tbody>
        ${rows.map((p) => html`<tr key=${p.incident_id} class=${p.overdue ? 'lr-late' : ''}>
          <td data-label="Incident">
            <${Link} href=${`/incidents/${p.incident_id}/postmortem`}>#${p.incident_id} ${p.title || 'untitled incident'}</${Link}>
            <div class="small muted"><${SevBadge} sev=${p.sev} /> ${p.service}${p.required ? '' : ' · started by hand'}</div>
          </td>
          <td data-label="Status"><${PmStatus} status=${p.status} /></td>
          <td data-label="Owner">${p.owner || html`<span class="muted">nobody yet</span>`}</td>
          <td data-label="Resolved"><${RelTime} at=${p.resolved_at} /></td>
          <td data-label="Due">${p.status === 'published'
            ? html`<span class="muted">published <${RelTime} at=${p.published_at} /></span>`
            : p.due_at
              ? html`<${RelTime} at=${p.due_at} /> ${p.overdue && html`<${Overdue} />`}`
              : html`<span class="muted">no due date</span>`}</td>
          <td data-label="Factors">${p.factors.length ? p.factors.map((f) => html`<span class="lr-tag" key=${f}>${f}</span> `) : html`<span class="muted">—</span>`}</td>
        </tr>`)}
      </tbody>
    </table></div>
    <${MoreButton} shown=${rows.length} more=${Boolean(data.next_cursor) && limit < 1000}
      onMore=${() => setLimit(Math.min(1000, limit + 100))} />`}`;
}

// Any incident can have a postmortem: open (or start) it by the incident's number.
function OpenPostmortemForm() {
  const [n, setN] = useState('');
  const submit = (e) => {
    e.preventDefault();
    const id = parseInt(n, 10);
    if (id > 0) navigate(`/incidents/${id}/postmortem`);
  };
  return html`<form class="row lr-open" onSubmit=${submit}>
    <label class="inline" for="pm-open">Incident #</label>
    <input id="pm-open" type="number" min="1" inputmode="numeric" required value=${n}
      onInput=${(e) => setN(e.target.value)} />
    <button type="submit">Open its postmortem</button>
  </form>`;
}

// ---------------------------------------------------------------------------------------------
// /incidents/{id}/postmortem

export function PostmortemPage({ id }) {
  const path = `/api/v1/incidents/${encodeURIComponent(id)}/postmortem`;
  const pm = useApi(path, { liveTypes: ['postmortem.'], liveId: id });
  // The computed part follows the incident (its timeline, updates) and its action items.
  useLiveChanges(['incident.', 'timeline.', 'status_update.'], () => pm.reload(), id);
  useLiveChanges(['action_item.'], () => pm.reload());
  const template = useApi('/api/v1/postmortem-template');
  const { users } = useUsers();
  const p = pm.data && pm.data.postmortem;
  const missing = pm.error instanceof ApiError && pm.error.status === 404 && !p;

  const title = p ? `Postmortem: #${id} ${p.title || (p.computed.incident || {}).title || ''}` : `Postmortem of incident #${id}`;
  return html`
    <${PageHeader} title=${title}>
      ${p && html`<${PmStatus} status=${p.status} />`}
      <${Link} href=${`/incidents/${encodeURIComponent(id)}`}>Incident #${id}</${Link}>
      ${p && html`<a href=${`/api/v1/incidents/${encodeURIComponent(id)}/postmortem.md`} download=${`postmortem-${id}.md`}>Markdown export</a>`}
    </${PageHeader}>
    ${!missing && html`<${ErrorBox} error=${pm.error} onRetry=${pm.reload} />`}
    ${!p && !pm.error && html`<${Loading} />`}
    ${missing && html`<${StartPostmortem} id=${id} path=${path} onStarted=${pm.reload} />`}
    ${p && html`<${Postmortem} key=${id} p=${p} path=${path} users=${users} template=${template}
      reload=${pm.reload} />`}`;
}

function StartPostmortem({ id, path, onStarted }) {
  return html`<${Empty} title=${`Incident #${id} has no postmortem yet`}>
    <p>houston drafts one by itself when an incident of a required severity (by default SEV1 and
      SEV2) resolves. Any other incident gets one when someone starts writing it.</p>
    ${can('responder')
      ? html`<p><${ActionButton} class="primary" action=${async () => {
          await api('PUT', path, {});
          await onStarted();
        }} done="Postmortem started">Start a postmortem</${ActionButton}></p>`
      : html`<p>Ask a responder to start it: viewers can read postmortems but not write them.</p>`}
  </${Empty}>`;
}

// The human part as the form holds it.
function formOf(p) {
  const sections = {};
  for (const s of p.sections) sections[s.id] = s.text;
  return { sections, factors: [...p.factors], owner: p.owner || '' };
}

function sameFactors(a, b) {
  return a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');
}

// What the form changed from `base`: the body of a PUT (without the version), or null.
function changesOf(form, base) {
  const b = formOf(base);
  const out = {};
  const sections = {};
  for (const [k, v] of Object.entries(form.sections)) if (v !== b.sections[k]) sections[k] = v;
  if (Object.keys(sections).length) out.sections = sections;
  if (!sameFactors(form.factors, b.factors)) out.factors = form.factors;
  if (form.owner !== b.owner) out.owner = form.owner || null;
  return Object.keys(out).length ? out : null;
}

function Postmortem({ p, path, users, template, reload }) {
  // `base` is the saved postmortem the form started from; `p` the newest one loaded. A newer
  // one replaces the form only while it holds no unsaved edits; otherwise the page says so.
  const [base, setBase] = useState(p);
  const [form, setForm] = useState(() => formOf(p));
  const [stale, setStale] = useState(null);
  const [conflict, setConflict] = useState(null);
  const [savedAt, setSavedAt] = useState(null);
  const busy = useRef(false);
  const changes = changesOf(form, base);
  const dirty = Boolean(changes);

  const adopt = (next) => {
    setBase(next);
    setForm(formOf(next));
    setStale(null);
    setConflict(null);
  };
  const dismissed = useRef(0);
  useEffect(() => {
    if (busy.current || p.version <= base.version) return;
    if (!dirty) adopt(p);
    else if (p.version > dismissed.current) setStale(p);
  }, [p, base, dirty]);

  // Leaving with unsaved edits asks first.
  useEffect(() => {
    if (!dirty) return undefined;
    const fn = (e) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', fn);
    return () => window.removeEventListener('beforeunload', fn);
  }, [dirty]);

  // Runs a write; a 409 because someone saved in between is said in words, with a way out.
  const write = async (fn) => {
    busy.current = true;
    try {
      const r = await fn();
      if (r && r.postmortem) adopt(r.postmortem);
      return r;
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        setConflict(e);
        return null;
      }
      throw e;
    } finally {
      busy.current = false;
    }
  };
  const save = async (extra = {}) => {
    const body = { ...(changes || {}), ...extra, version: base.version };
    const r = await write(() => api('PUT', path, body));
    if (r) {
      setSavedAt(new Date().toISOString());
      toast(`Saved (version ${r.postmortem.version})`);
    }
    return r;
  };
  const publish = async () => {
    let version = base.version;
    if (dirty) {
      const saved = await save();
      if (!saved) return;
      version = saved.postmortem.version;
    }
    const r = await write(() => api('POST', path + '/publish', { version }));
    if (r) toast('Published: the postmortem is now read-only');
  };
  const reopen = async () => {
    const r = await write(() => api('POST', path + '/reopen', {}));
    if (r) toast('Reopened as a draft: it can be edited again');
  };
  const discard = async () => {
    const r = await api('GET', path);
    adopt(r.postmortem);
    reload();
  };

  const published = base.status === 'published';
  const editable = !published && can('responder');
  const vocabulary = template.data ? template.data.contributing_factors : [];
  const factorChoices = [...vocabulary, ...form.factors.filter((f) => !vocabulary.includes(f))];
  const c = p.computed || {};

  return html`
    ${stale && html`<div class="notice lr-stale" role="alert">
      <strong>Changed elsewhere.</strong> Someone saved this postmortem
      (${pmStatusText[stale.status]}, version ${stale.version}, <${RelTime} at=${stale.updated_at} />)
      while you have unsaved edits here. Reload it? Your unsaved edits would be lost; copy them first
      if you want to keep them.
      <div class="row lr-gap">
        <${ActionButton} action=${discard}>Reload their version</${ActionButton}>
        <button type="button" onClick=${() => {
          dismissed.current = stale.version;
          setStale(null);
        }}>Keep editing</button>
      </div>
    </div>`}
    ${conflict && html`<div class="error lr-conflict" role="alert">
      <strong>Not saved:</strong> ${conflict.status === 409 && /version/i.test(conflict.message)
        ? `someone else saved this postmortem after you opened it (you were editing version ${base.version}).`
        : conflict.text} Your edits are still in the form. Reload to see the saved version (your edits here would be
      lost, so copy what you want to keep), then write them in again.
      ${/version/i.test(conflict.message) && html`<div class="small muted">${conflict.text}</div>`}
      <div class="row lr-gap">
        <${ActionButton} action=${discard}>Reload the saved version</${ActionButton}>
        <button type="button" onClick=${() => setConflict(null)}>Dismiss</button>
      </div>
    </div>`}
    <${Facts} p=${p} c=${c} base=${base} />
    <div class="grid2 lr-main">
      <section aria-labelledby="pm-writeup">
        <h2 id="pm-writeup">Write-up</h2>
        ${published
          ? html`<p class="notice">Published by ${base.published_by || 'someone'} <${RelTime} at=${base.published_at} />:
              read-only, and the facts are frozen as they were then. Reopen it to edit it.</p>`
          : html`<p class="muted small">Blameless: about systems and conditions, not people. Only
              this part is written by people; houston never overwrites it.</p>`}
        ${editable
          ? html`<${Editor} p=${base} form=${form} setForm=${setForm} users=${users}
              factorChoices=${factorChoices} templateError=${template.error} />`
          : html`<${ReadOnly} p=${base} />`}
        ${can('responder') && html`<div class="row lr-actions">
          ${editable && html`
            <${ActionButton} class="primary" action=${save} disabled=${!dirty}>Save</${ActionButton}>
            ${base.status === 'draft'
              ? html`<${ActionButton} action=${() => save({ status: 'in_review' })}>${dirty ? 'Save and move to review' : 'Move to review'}</${ActionButton}>`
              : html`<${ActionButton} action=${() => save({ status: 'draft' })}>${dirty ? 'Save and move back to draft' : 'Move back to draft'}</${ActionButton}>`}
            <${ActionButton} action=${publish}>${dirty ? 'Save and publish' : 'Publish'}</${ActionButton}>`}
          ${published && html`<${ActionButton} action=${reopen}>Reopen</${ActionButton}>`}
          <span class="small muted" role="status">
            ${dirty ? 'Unsaved edits' : savedAt ? html`Saved version ${base.version} <${RelTime} at=${savedAt} />` : `Version ${base.version}`}
          </span>
        </div>`}
      </section>
      <aside aria-label="People and follow-up">
        <${People} people=${c.people || []} />
        <${ActionItems} items=${c.action_items || []} id=${p.incident_id} />
        <${Changes} confirmed=${c.confirmed_changes || []} suspects=${c.suspect_changes || []} />
      </aside>
    </div>
    <${Updates} updates=${c.status_updates || []} />
    <${Timeline} entries=${c.timeline || []} omitted=${c.timeline_omitted || 0} />
    <${Alerts} alerts=${c.alerts || []} count=${c.alert_count || 0} />`;
}

function Editor({ p, form, setForm, users, factorChoices, templateError }) {
  const setSection = (sid, text) => setForm((f) => ({ ...f, sections: { ...f.sections, [sid]: text } }));
  const toggle = (tag, on) =>
    setForm((f) => ({ ...f, factors: on ? [...f.factors, tag] : f.factors.filter((x) => x !== tag) }));
  return html`<form class="lr-editor" onSubmit=${(e) => e.preventDefault()} aria-label="Write-up">
    <label for="pm-owner">Owner</label>
    <select id="pm-owner" value=${form.owner} onChange=${(e) => setForm((f) => ({ ...f, owner: e.target.value }))}>
      <${UserOptions} users=${users.length ? users : form.owner ? [{ id: form.owner }] : []} none="Nobody yet" />
    </select>
    ${p.due_at && html`<p class="small muted">Due <${RelTime} at=${p.due_at} />${p.required ? ' (required for this severity; its owner is reminded until it is published)' : ''}.</p>`}
    ${p.sections.map((s) => html`<div class="lr-section" key=${s.id}>
      <label for=${'pm-sec-' + s.id}>${s.title}</label>
      ${s.prompt && html`<p class="small muted lr-prompt" id=${'pm-prompt-' + s.id}>${s.prompt}</p>`}
      <textarea id=${'pm-sec-' + s.id} rows="6" aria-describedby=${s.prompt ? 'pm-prompt-' + s.id : undefined}
        value=${form.sections[s.id] || ''} onInput=${(e) => setSection(s.id, e.target.value)}></textarea>
    </div>`)}
    <fieldset class="lr-factors">
      <legend>Contributing-factor tags</legend>
      <p class="small muted">Tags from the org's vocabulary, counted across incidents.</p>
      ${templateError && html`<${ErrorBox} error=${templateError} />`}
      ${factorChoices.map((tag) => html`<label class="inline" key=${tag}>
        <input type="checkbox" checked=${form.factors.includes(tag)} onChange=${(e) => toggle(tag, e.target.checked)} />
        ${tag.replace(/_/g, ' ')}
      </label>`)}
    </fieldset>
  </form>`;
}

function ReadOnly({ p }) {
  return html`<div class="lr-readonly">
    <dl class="facts"><dt>Owner</dt><dd>${p.owner || 'nobody yet'}</dd>
      <dt>Contributing-factor tags</dt><dd>${p.factors.length ? p.factors.map((f) => html`<span class="lr-tag" key=${f}>${f}</span> `) : 'none tagged'}</dd></dl>
    ${p.sections.map((s) => html`<section key=${s.id}>
      <h3>${s.title}</h3>
      ${s.text ? html`<div class="lr-text">${s.text}</div>` : html`<p class="muted">Not written${s.prompt ? ': ' + s.prompt : '.'}</p>`}
    </section>`)}
  </div>`;
}

// The computed part's head: what, when, and how fast.
function Facts({ p, c, base }) {
  const inc = c.incident || {};
  const impact = c.impact || {};
  const rs = c.response_seconds || {};
  const times = [
    ['Impact started', impact.started_at],
    ['Detected', impact.detected_at],
    ['Acknowledged', impact.acknowledged_at],
    ['Mitigated', impact.mitigated_at],
    ['Resolved', impact.resolved_at],
  ];
  const metrics = [
    ['Impact', impact.duration_seconds],
    ['Time to detect', rs.detect],
    ['Time to acknowledge', rs.acknowledge],
    ['Time to mitigate', rs.mitigate],
    ['Time to resolve', rs.resolve],
  ];
  return html`<section aria-labelledby="pm-facts" class="lr-facts">
    <h2 id="pm-facts">What houston recorded</h2>
    <p class="muted small">${base.status === 'published'
      ? 'Frozen when the postmortem was published.'
      : 'Computed from the incident on every read; it follows the incident until the postmortem is published.'}</p>
    <dl class="facts">
      <dt>Incident</dt><dd><${Link} href=${`/incidents/${p.incident_id}`}>#${p.incident_id} ${inc.title || p.title}</${Link}>
        ${inc.summary && html`<div class="small muted">${inc.summary}</div>`}</dd>
      <dt>Severity</dt><dd>${inc.sev ? html`<${SevBadge} sev=${inc.sev} />` : 'untriaged'} ${inc.severity && html`<span class="muted small">alert severity ${inc.severity}</span>`}</dd>
      <dt>Services</dt><dd>${(inc.services || []).map((s) => s.name || s.id).join(', ') || '—'}</dd>
      ${inc.episodes > 1 && html`<dt>Episodes</dt><dd>${inc.episodes} (reopened ${inc.episodes - 1}×)</dd>`}
    </dl>
    <ul class="lr-metrics" aria-label="Response times">
      ${metrics.map(([label, v]) => html`<li key=${label}><span class="lr-metric-label">${label}</span>
        <span class="lr-metric-value">${fmtDuration(v)}</span></li>`)}
    </ul>
    <div class="table-wrap"><table class="lr-times">
      <caption class="lr-sr">The impact window</caption>
      <thead><tr><th scope="col">Impact window</th><th scope="col">When</th></tr></thead>
      <tbody>${times.map(([label, at]) => html`<tr key=${label}><th scope="row">${label}</th>
        <td>${at ? html`<${RelTime} at=${at} />` : html`<span class="muted">did not happen</span>`}</td></tr>`)}</tbody>
    </table></div>
  </section>`;
}

function People({ people }) {
  return html`<section aria-labelledby="pm-people">
    <h2 id="pm-people">Who did what</h2>
    ${people.length === 0
      ? html`<p class="muted">Nobody held a role or acknowledged. Roles assigned on the incident show here.</p>`
      : html`<ul class="lr-people">${people.map((x) => html`<li key=${x.user}>
          <strong>${x.name || x.user}</strong>${x.name && x.name !== x.user ? html` <span class="muted small">(${x.user})</span>` : ''}${': ' + ([...x.roles.map((r) => r.replace(/_/g, ' ')), ...(x.acknowledged ? ['acknowledged'] : [])].join(', ') || 'took part')}
        </li>`)}</ul>`}
  </section>`;
}

function ActionItems({ items, id }) {
  return html`<section aria-labelledby="pm-items">
    <h2 id="pm-items">Action items</h2>
    ${items.length === 0
      ? html`<p class="muted">None yet. Each change you commit to in “What we will change” should be one.</p>`
      : html`<ul class="lr-items">${items.map((a) => html`<li key=${a.id}>
          <${ItemStatus} status=${a.status} /> ${a.title}
          <div class="small muted">${`#${a.id} · ${a.priority} · ${a.owner} · due ${a.due}`}</div>
        </li>`)}</ul>`}
    <ul class="lr-links">
      <li><${Link} href=${`/action-items?incident=${id}&new=1`}>Add an action item</${Link}></li>
      <li><${Link} href=${`/action-items?incident=${id}`}>Manage this incident's items</${Link}></li>
    </ul>
  </section>`;
}

function Changes({ confirmed, suspects }) {
  if (!confirmed.length && !suspects.length) return null;
  return html`<section aria-labelledby="pm-changes">
    <h2 id="pm-changes">Changes</h2>
    <ul class="lr-items">
      ${confirmed.map((x) => html`<li key=${'c' + x.id}><span class="badge">confirmed</span> ${x.summary}
        <div class="small muted">${x.service} · <${RelTime} at=${x.timestamp} /></div></li>`)}
      ${suspects.map((x) => html`<li key=${'s' + x.id}><span class="badge">suspect</span> ${x.summary}
        <div class="small muted">${x.service} · <${RelTime} at=${x.timestamp} />${x.reason ? ' · ' + x.reason : ''}</div></li>`)}
    </ul>
  </section>`;
}

function Updates({ updates }) {
  return html`<section aria-labelledby="pm-updates">
    <h2 id="pm-updates">Status updates as sent</h2>
    ${updates.length === 0
      ? html`<p class="muted">None were published for this incident.</p>`
      : updates.map((u) => html`<article class="card lr-update" key=${u.id}>
          <div class="tl-meta"><${RelTime} at=${u.at} /> · ${u.phase} · by ${u.author}</div>
          ${u.renderings.map((r) => html`<details key=${r.audience}>
            <summary>${r.audience}${r.subject ? ': ' + r.subject : ''}</summary>
            <div class="preview">${r.text}</div>
          </details>`)}
        </article>`)}
  </section>`;
}

function Timeline({ entries, omitted }) {
  const pinned = entries.filter((e) => e.pinned).length;
  return html`<section aria-labelledby="pm-timeline">
    <h2 id="pm-timeline">Timeline</h2>
    <p class="muted small">${entries.length} entries${pinned ? `, ${pinned} pinned (marked “Pinned”)` : ''}.
      ${omitted > 0 && ` ${omitted} earlier entries are left out; the incident's page has them all.`}</p>
    <ol class="timeline">
      ${entries.map((e) => html`<li key=${e.id} class=${e.pinned ? 'pinned' : ''}>
        <div class="tl-meta"><${RelTime} at=${e.at} /> · ${e.actor}${e.pinned && html` · <span class="badge lr-pin">Pinned</span>`}</div>
        <div class=${e.pinned ? 'lr-pinned-text' : ''}>${e.text}</div>
      </li>`)}
    </ol>
  </section>`;
}

function Alerts({ alerts, count }) {
  if (!count) return null;
  return html`<section aria-labelledby="pm-alerts">
    <h2 id="pm-alerts">Alerts (${count})</h2>
    <details><summary>${alerts.length < count ? `The newest ${alerts.length} of ${count}` : `All ${count}`}</summary>
      <ul class="lr-items">${alerts.map((a) => html`<li key=${a.id}>#${a.id} ${a.summary}
        <div class="small muted">${a.source} · ${a.severity} · ${a.status} · <${RelTime} at=${a.created_at} /></div></li>`)}</ul>
    </details>
  </section>`;
}

// ---------------------------------------------------------------------------------------------
// /action-items

function inDays(n) {
  const d = new Date();
  d.setDate(d.getDate() + n);
  return ymd(d);
}

export function ActionItemsPage() {
  const { query } = useLocation();
  const status = query.get('status') || '';
  const owner = query.get('owner') || '';
  const overdue = query.get('overdue') === 'true';
  const incident = query.get('incident') || '';
  const [limit, setLimit] = useState(100);
  const [creating, setCreating] = useState(query.get('new') === '1');
  const { users } = useUsers();
  const path = '/api/v1/action-items' + qs({ status, owner, overdue: overdue ? 'true' : '', incident, limit });
  const { data, error, reload } = useApi(path, { liveTypes: ['action_item.'] });
  const items = data ? data.action_items : [];
  const filtered = Boolean(status || owner || overdue || incident);

  return html`
    <${PageHeader} title="Action items">
      ${can('responder') && html`<button type="button" class="primary" aria-expanded=${creating}
        aria-controls="ai-new" onClick=${() => setCreating(!creating)}>New action item</button>`}
    </${PageHeader}>
    ${creating && html`<${NewItem} users=${users} incident=${incident} onDone=${(created) => {
      setCreating(false);
      if (created) reload();
    }} />`}
    <div class="filters">
      <${Seg} label="Status" id="ai-status" value=${status} onChange=${(v) => setQuery('status', v)}
        options=${[['', 'All'], ['open', 'Open'], ['in_progress', 'In progress'], ['done', 'Done'], ['wont_do', "Won't do"]]} />
      <div>
        <label for="ai-owner">Owner</label>
        <select id="ai-owner" value=${owner} onChange=${(e) => setQuery('owner', e.target.value)}>
          <${UserOptions} users=${users} none="Anyone" />
        </select>
      </div>
      <div>
        <label for="ai-incident">Incident #</label>
        <input id="ai-incident" class="lr-num" type="number" min="1" value=${incident}
          onChange=${(e) => setQuery('incident', e.target.value)} />
      </div>
      <div><label class="inline lr-check"><input type="checkbox" checked=${overdue}
        onChange=${(e) => setQuery('overdue', e.target.checked ? 'true' : null)} /> Overdue only</label></div>
      ${session.user && owner !== session.user && html`<div><button type="button" onClick=${() => setQuery('owner', session.user)}>Mine</button></div>`}
      ${filtered && html`<div><button type="button" class="link" onClick=${() => navigate('/action-items', { replace: true })}>Clear filters</button></div>`}
    </div>
    <${ErrorBox} error=${error} onRetry=${reload} />
    ${!data && !error && html`<${Loading} />`}
    ${data && items.length === 0 &&
    (filtered
      ? html`<${Empty} title="No action item matches these filters">
          <p>Pick another status or owner, or <button type="button" class="link"
            onClick=${() => navigate('/action-items', { replace: true })}>clear the filters</button>.</p>
        </${Empty}>`
      : html`<${Empty} title="No action items yet">
          <p>An action item follows an incident up: a change to make, with an owner and a due date.
            Add one with “New action item”, or from the incident's postmortem. Overdue ones remind
            their owner until they are done.</p>
        </${Empty}>`)}
    ${items.length > 0 && html`<div class="table-wrap"><table class="lr-table">
      <caption class="lr-sr">Action items, newest first</caption>
      <thead><tr>
        <th scope="col">Action item</th><th scope="col">Owner</th><th scope="col">Due</th>
        <th scope="col">Priority</th><th scope="col">Status</th><th scope="col"><span class="lr-sr">Actions</span></th>
      </tr></thead>
      <tbody>${items.map((a) => html`<${ItemRow} key=${a.id} a=${a} users=${users} reload=${reload} />`)}</tbody>
    </table></div>
    <${MoreButton} shown=${items.length} more=${Boolean(data.next_cursor) && limit < 1000}
      onMore=${() => setLimit(Math.min(1000, limit + 100))} />`}`;
}

function NewItem({ users, incident, onDone }) {
  const [f, setF] = useState({
    title: '', owner: session.user || '', due: inDays(7), incident, priority: 'P2', ticket_url: '',
  });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const titleRef = useRef(null);
  useEffect(() => titleRef.current && titleRef.current.focus(), []);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { title: f.title, owner: f.owner, due: f.due, incident: parseInt(f.incident, 10), priority: f.priority };
      if (f.ticket_url) body.ticket_url = f.ticket_url;
      const r = await api('POST', '/api/v1/action-items', body);
      toast(`Action item #${r.action_item.id} added`);
      onDone(r.action_item);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`<form id="ai-new" class="card lr-new" onSubmit=${submit} aria-label="New action item">
    <h2>New action item</h2>
    <label for="ai-title">Title</label>
    <input id="ai-title" ref=${titleRef} required maxlength="500" value=${f.title} onInput=${set('title')}
      placeholder="Alert on connection pool saturation" />
    <div class="lr-fields">
      <div><label for="ai-new-owner">Owner</label>
        <select id="ai-new-owner" required value=${f.owner} onChange=${set('owner')}>
          <${UserOptions} users=${users} none="Choose someone" />
        </select></div>
      <div><label for="ai-due">Due date</label>
        <input id="ai-due" type="date" required value=${f.due} onInput=${set('due')} /></div>
      <div><label for="ai-new-incident">Incident</label>
        <input id="ai-new-incident" class="lr-num" type="number" min="1" required value=${f.incident} onInput=${set('incident')} /></div>
      <div><label for="ai-priority">Priority</label>
        <select id="ai-priority" value=${f.priority} onChange=${set('priority')}>
          <option value="P1">P1</option><option value="P2">P2</option><option value="P3">P3</option>
        </select></div>
    </div>
    <label for="ai-ticket">Ticket URL <span class="muted small">(optional)</span></label>
    <input id="ai-ticket" type="url" class="lr-wide" value=${f.ticket_url} onInput=${set('ticket_url')} placeholder="https://" />
    <p class="small muted">Due is a date in the owner's own time zone: the item is overdue once that day has ended where they live.</p>
    <${ErrorBox} error=${error} />
    <div class="row">
      <button type="submit" class="primary" disabled=${busy}>Add action item</button>
      <button type="button" onClick=${() => onDone(null)}>Cancel</button>
    </div>
  </form>`;
}

function ItemRow({ a, users, reload }) {
  const [edit, setEdit] = useState(null);
  const closed = a.status === 'done' || a.status === 'wont_do';
  const patch = async (body, done) => {
    await api('PATCH', `/api/v1/action-items/${a.id}`, body);
    toast(done);
    await reload();
  };
  const name = `“${a.title}”`;
  return html`<tr class=${a.overdue ? 'lr-late' : ''}>
    <td data-label="Action item">
      <span class="lr-title">${a.title}</span>
      <div class="small muted lr-meta">
        <span>#${a.id}</span>
        <${Link} href=${`/incidents/${a.incident_id}`}>incident #${a.incident_id}</${Link}>
        <${Link} href=${`/incidents/${a.incident_id}/postmortem`}>postmortem</${Link}>
        ${a.service && html`<span>${a.service}</span>`}
        ${a.ticket_url && html`<a href=${a.ticket_url} rel="noopener noreferrer" target="_blank">ticket</a>`}
      </div>
    </td>
    <td data-label="Owner">${edit
      ? html`<select aria-label=${`Owner of ${name}`} value=${edit.owner} onChange=${(e) => setEdit({ ...edit, owner: e.target.value })}>
          <${UserOptions} users=${users.length ? users : [{ id: a.owner }]} />
        </select>`
      : a.owner}</td>
    <td data-label="Due">${edit
      ? html`<input type="date" aria-label=${`Due date of ${name}`} required value=${edit.due} onInput=${(e) => setEdit({ ...edit, due: e.target.value })} />`
      : html`<span class="nowrap">${a.due}</span> ${a.overdue && html`<${Overdue} />`}
          ${closed && a.closed_at && html`<div class="small muted">closed <${RelTime} at=${a.closed_at} /></div>`}`}</td>
    <td data-label="Priority">${a.priority}</td>
    <td data-label="Status"><${ItemStatus} status=${a.status} /></td>
    <td class="actions" data-label=""><div class="lr-acts">
      ${can('responder') && (edit
        ? html`<${ActionButton} class="primary" aria-label=${`Save changes to ${name}`}
              action=${async () => {
                const body = {};
                if (edit.owner !== a.owner) body.owner = edit.owner;
                if (edit.due !== a.due) body.due = edit.due;
                if (Object.keys(body).length) await patch(body, `Action item #${a.id} updated`);
                setEdit(null);
              }}>Save</${ActionButton}>
            <button type="button" onClick=${() => setEdit(null)}>Cancel</button>`
        : html`${closed
            ? html`<${ActionButton} aria-label=${`Reopen ${name}`} action=${() => patch({ status: 'open' }, `Action item #${a.id} reopened`)}>Reopen</${ActionButton}>`
            : html`<${ActionButton} class="primary" aria-label=${`Mark ${name} done`} action=${() => patch({ status: 'done' }, `Action item #${a.id} done`)}>Done</${ActionButton}>`}
            <button type="button" aria-label=${`Edit owner and due date of ${name}`} onClick=${() => setEdit({ owner: a.owner, due: a.due })}>Edit</button>`)}
    </div></td>
  </tr>`;
}
