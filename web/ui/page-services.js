// Services (owner team, tier, integrations with their keys for admins, the last event, open
// incidents, recent changes, runbook, dependencies) and notifications (deliveries per incident and
// per person; the failed, dead-lettered and retried ones with their error, so a broken contact
// method is noticed before the night it matters).
import {
  html, useState, useEffect, useRef, api, useApi, Link, useLocation, setQuery, RelTime, ErrorBox,
  Empty, Loading, PageHeader, StatusBadge, toast, can, qs,
} from './lib.js';

// ---------------------------------------------------------------------------------------------
// Shared by the services and admin pages.

// Copies `text` to the clipboard; where the browser refuses (no permission, not a secure
// context), selects `select` (an element) so that Ctrl+C copies it, and says so.
export async function copyText(text, select) {
  try {
    if (!navigator.clipboard) throw new Error('no clipboard');
    await navigator.clipboard.writeText(text);
    toast('Copied to the clipboard');
  } catch {
    if (select) {
      const range = document.createRange();
      range.selectNodeContents(select);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
    toast('The browser did not allow copying: the text is selected, press Ctrl+C (⌘C) to copy it');
  }
}

export function CopyButton({ text, label, target }) {
  return html`<button type="button" class="copy" aria-label=${label}
    onClick=${() => copyText(text, target && target.current)}>Copy</button>`;
}

// A secret (an integration key): shown as code with a copy button.
function Secret({ value, label }) {
  const ref = useRef(null);
  return html`<span class="secret"><code ref=${ref}>${value}</code>
    <${CopyButton} text=${value} label=${label} target=${ref} /></span>`;
}

// ---------------------------------------------------------------------------------------------
// Services.

const TYPE_NAMES = {
  events_v2: 'Events API v2',
  alertmanager: 'Alertmanager',
  grafana: 'Grafana',
  generic: 'Generic JSON',
  heartbeat: 'Heartbeat',
  opsgenie: 'Opsgenie API',
  prometheus: 'Prometheus',
};

// Where a sender posts with this key.
function intakeUrl(type, key) {
  const base = location.origin;
  if (type === 'events_v2') return `${base}/v2/enqueue (routing_key ${key})`;
  if (type === 'opsgenie') return `${base}/v2/alerts (Authorization: GenieKey ${key})`;
  if (type === 'prometheus') return `path_prefix: /integrations/prometheus/${key}`;
  return `${base}/integrations/${type}/${key}`;
}

export function ServicesPage() {
  const { query } = useLocation();
  const team = query.get('team') || '';
  const find = query.get('q') || '';
  // Not on every alert: a storm of them would reload every open services page.
  const services = useApi('/api/v1/services', { liveTypes: ['org.', 'incident.'] });
  const changes = useApi('/api/v1/changes?limit=200');
  const admin = can('admin');
  const all = services.data ? services.data.services : [];
  const teams = [...new Map(all.filter((s) => s.team).map((s) => [s.team, s.team_name || s.team]))];
  const needle = find.trim().toLowerCase();
  const shown = all.filter(
    (s) =>
      (!team || s.team === team) &&
      (!needle || s.id.toLowerCase().includes(needle) || (s.name || '').toLowerCase().includes(needle)),
  );
  const names = Object.fromEntries(all.map((s) => [s.id, s.name || s.id]));
  const usedBy = {};
  for (const s of all) for (const d of s.depends_on || []) (usedBy[d] = usedBy[d] || []).push(s.id);
  const recent = {};
  for (const c of changes.data ? changes.data.changes : []) {
    (recent[c.service] = recent[c.service] || []).push(c);
  }
  return html`
    <${PageHeader} title="Services">
      ${services.data && html`<span class="muted small">${all.length} in the org</span>`}
    </${PageHeader}>
    ${all.length > 0 && html`<div class="filters" role="search" aria-label="Filter services">
      <div>
        <label for="svc-find">Find</label>
        <input id="svc-find" type="search" value=${find} placeholder="Name or id"
          onInput=${(e) => setQuery('q', e.target.value)} />
      </div>
      <div>
        <label for="svc-team">Team</label>
        <select id="svc-team" value=${team} onChange=${(e) => setQuery('team', e.target.value)}>
          <option value="">All teams</option>
          ${teams.map(([id, name]) => html`<option value=${id}>${name}</option>`)}
        </select>
      </div>
    </div>`}
    ${!admin && all.length > 0 && html`<p class="muted small">Integration keys are shown to admins only.</p>`}
    <${ErrorBox} error=${services.error} onRetry=${services.reload} />
    <${ErrorBox} error=${changes.error} onRetry=${changes.reload} />
    ${!services.data && services.loading && html`<${Loading} />`}
    ${services.data && all.length === 0 && html`<${Empty} title="No services yet.">
      <p>Services come from the org: add them under <code>services:</code> in org.yaml (each with
      its team, tier, runbook and integrations) and apply it with <code>houston apply -f org.yaml</code>.</p>
    </${Empty}>`}
    ${all.length > 0 && shown.length === 0 && html`<${Empty} title="No service matches these filters.">
      <p>Clear the search or choose another team.</p></${Empty}>`}
    <div class="cards services">
      ${shown.map((s) => html`<${ServiceCard} key=${s.id} s=${s} names=${names} admin=${admin}
        usedBy=${usedBy[s.id] || []} recent=${recent[s.id] || []} />`)}
    </div>`;
}

function ServiceCard({ s, names, admin, usedBy, recent }) {
  const [more, setMore] = useState(false);
  const headingId = `svc-${s.id}`;
  const depLink = (id) => html`<a href=${`#svc-${id}`}>${names[id] || id}</a>`;
  const open = s.open_incidents || 0;
  return html`<article class="card service" aria-labelledby=${headingId}>
    <h2 id=${headingId} tabindex="-1">${s.name || s.id}
      ${s.tier != null && html` <span class="badge tier" title="1 is the most critical">Tier ${s.tier}</span>`}</h2>
    <p class="muted small svc-id"><code>${s.id}</code>${s.description && ` · ${s.description}`}</p>
    <dl class="facts">
      <dt>Team</dt><dd>${s.team ? (s.team_name || s.team) : html`<span class="muted">none</span>`}</dd>
      <dt>Open incidents</dt>
      <dd>${open > 0
        ? html`<${Link} href=${`/incidents?service=${encodeURIComponent(s.id)}`} class="open-count">${open}${s.open_incidents_capped ? '+' : ''} open</${Link}>`
        : html`<${Link} href=${`/incidents?service=${encodeURIComponent(s.id)}&status=all`} class="muted">none open</${Link}>`}</dd>
      <dt>Last event</dt><dd>${s.last_event_at ? html`<${RelTime} at=${s.last_event_at} />` : html`<span class="muted">no alerts yet</span>`}</dd>
      <dt>Runbook</dt>
      <dd>${s.runbook_url
        ? html`<a href=${s.runbook_url} rel="noopener noreferrer" target="_blank"
            aria-label=${`Runbook for ${s.name || s.id}`}>Runbook</a>`
        : html`<span class="muted">none: add <code>runbook_url</code></span>`}</dd>
      <dt>Escalation</dt><dd><code>${s.escalation_policy}</code></dd>
      ${(s.depends_on || []).length > 0 && html`<dt>Depends on</dt><dd>${joinNodes(s.depends_on.map(depLink))}</dd>`}
      ${usedBy.length > 0 && html`<dt>Used by</dt><dd>${joinNodes(usedBy.map(depLink))}</dd>`}
    </dl>
    <h3>Integrations</h3>
    ${(s.integrations || []).length === 0
      ? html`<p class="muted small">None: alerts cannot reach this service. Add one under its <code>integrations:</code>.</p>`
      : html`<ul class="integrations">
        ${s.integrations.map((i) => html`<li>
          <span class="badge">${TYPE_NAMES[i.type] || i.type}</span>
          ${i.name && i.name !== i.type && html` ${i.name}`}
          ${i.type === 'heartbeat' && html` <span class="muted small">last beat ${i.last_beat_at ? html`<${RelTime} at=${i.last_beat_at} />` : 'never'}</span>`}
          ${admin && i.key && html`<div class="small">Key <${Secret} value=${i.key}
            label=${`Copy the ${TYPE_NAMES[i.type] || i.type} key of ${s.name || s.id}`} />
            <div class="muted intake-url">${intakeUrl(i.type, i.key)}</div></div>`}
        </li>`)}
      </ul>`}
    <h3>Recent changes</h3>
    ${more
      ? html`<${ServiceChanges} service=${s.id} />`
      : html`<${ChangeList} changes=${recent.slice(0, 3)} />
        <button type="button" class="link small" onClick=${() => setMore(true)}
          aria-label=${`More changes of ${s.name || s.id}`}>More changes</button>`}
  </article>`;
}

function joinNodes(nodes) {
  const out = [];
  nodes.forEach((n, i) => {
    if (i) out.push(', ');
    out.push(n);
  });
  return out;
}

function ServiceChanges({ service }) {
  const { data, error, reload } = useApi(`/api/v1/changes${qs({ service, limit: 10 })}`);
  if (error) return html`<${ErrorBox} error=${error} onRetry=${reload} />`;
  if (!data) return html`<${Loading} />`;
  return html`<${ChangeList} changes=${data.changes} />`;
}

function ChangeList({ changes }) {
  if (!changes.length) {
    return html`<p class="muted small">No recent changes. Deploys and config changes sent to${' '}
      <code>/v2/change/enqueue</code> show here and as suspects on incidents.</p>`;
  }
  return html`<ul class="changes">
    ${changes.map((c) => html`<li key=${c.id}>
      <${RelTime} at=${c.timestamp} /> · ${c.summary}
      ${c.source && html` <span class="muted small">(${c.source})</span>`}
      ${(c.links || []).slice(0, 1).map((l) => html` <a href=${l.href} rel="noopener noreferrer" target="_blank">${l.text || 'link'}</a>`)}
    </li>`)}
  </ul>`;
}

// ---------------------------------------------------------------------------------------------
// Notifications.

const STATES = [
  ['', 'All'],
  ['problems', 'Problems'],
  ['pending', 'Pending'],
  ['sending', 'Sending'],
  ['sent', 'Sent'],
  ['failed', 'Failed'],
  ['dead', 'Dead (gave up)'],
  ['unknown', 'Unknown'],
  ['cancelled', 'Cancelled'],
];

const STATE_HELP = {
  pending: 'waiting for its time (a notification rule delay) or the rate limit',
  sending: 'being sent now',
  sent: 'delivered to the contact method',
  failed: 'refused for good (a bad address, URL or credentials): fix the contact method',
  dead: 'gave up after the last retry',
  unknown: 'timed out after the request was sent: it may not have arrived',
  cancelled: 'not sent: the incident was acknowledged or resolved first',
  retrying: 'the last attempt failed; it will be tried again',
};

// The state shown: a pending notification whose last attempt failed is being retried.
function shownState(n) {
  if ((n.state === 'pending' || n.state === 'sending') && n.last_error) return 'retrying';
  return n.state;
}

function isProblem(n) {
  return ['failed', 'dead', 'unknown', 'retrying'].includes(shownState(n));
}

// Who a delivery went to, in words.
function destination(n, users) {
  if (n.user) {
    const u = users[n.user];
    return { who: u ? u.name || u.id : n.user, how: n.contact_method };
  }
  if (n.contact_method.startsWith('webhook:')) {
    return { who: 'Webhook', how: n.contact_method.slice('webhook:'.length) };
  }
  if (n.contact_method.startsWith('audience:')) {
    return { who: 'Status update', how: n.contact_method.slice('audience:'.length) };
  }
  return { who: n.target || '—', how: n.contact_method };
}

const KIND_NAMES = { page: 'Page', update: 'Status update', webhook: 'Webhook event' };

export function NotificationsPage() {
  const { query } = useLocation();
  const user = query.get('user') || '';
  const incident = query.get('incident') || '';
  const state = query.get('state') || '';
  const cursor = query.get('cursor') || '';
  const [incidentInput, setIncidentInput] = useState(incident);
  useEffect(() => setIncidentInput(incident), [incident]);
  const usersApi = useApi('/api/v1/users', { liveTypes: ['org.'] });
  const users = Object.fromEntries((usersApi.data ? usersApi.data.users : []).map((u) => [u.id, u]));
  const path = '/api/v1/notifications' + qs({
    user,
    incident,
    state: state === 'problems' ? '' : state,
    problems: state === 'problems' ? 'true' : '',
    cursor,
    limit: 100,
  });
  const list = useApi(path, { liveTypes: ['notification.', 'incident.'], paused: Boolean(cursor) });
  // What is broken now: the recent problems, per contact method.
  const problems = useApi('/api/v1/notifications?problems=true&limit=200', {
    liveTypes: ['notification.', 'incident.'],
  });
  const rows = list.data ? list.data.notifications : [];
  const filtered = Boolean(user || incident || state);
  const applyIncident = (e) => {
    e.preventDefault();
    setQuery('cursor', null);
    setQuery('incident', incidentInput.trim());
  };
  const set = (name, value) => {
    setQuery('cursor', null);
    setQuery(name, value);
  };
  return html`
    <${PageHeader} title="Notifications">
      <button type="button" onClick=${() => { list.reload(); problems.reload(); }}>Refresh</button>
    </${PageHeader}>
    <${Broken} data=${problems.data} error=${problems.error} users=${users}
      onShow=${(u) => { setQuery('cursor', null); setQuery('incident', null); setQuery('user', u || null); setQuery('state', 'problems'); }} />
    <div class="filters" role="search" aria-label="Filter notifications">
      <div>
        <label for="n-user">Person</label>
        <select id="n-user" value=${user} onChange=${(e) => set('user', e.target.value)}>
          <option value="">Everyone</option>
          ${Object.values(users).map((u) => html`<option value=${u.id}>${u.name || u.id}</option>`)}
        </select>
      </div>
      <form onSubmit=${applyIncident} class="n-incident">
        <label for="n-incident">Incident</label>
        <div class="row">
          <input id="n-incident" inputmode="numeric" pattern="[0-9]*" size="6" placeholder="number"
            value=${incidentInput} onInput=${(e) => setIncidentInput(e.target.value)} />
          <button type="submit">Show</button>
          ${incident && html`<button type="button" class="link" onClick=${() => set('incident', null)}>Any incident</button>`}
        </div>
      </form>
      <div>
        <label for="n-state">Status</label>
        <select id="n-state" value=${state} onChange=${(e) => set('state', e.target.value)}>
          ${STATES.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
        </select>
      </div>
    </div>
    <${ErrorBox} error=${list.error} onRetry=${list.reload} />
    ${!list.data && list.loading && html`<${Loading} />`}
    ${list.data && rows.length === 0 && (filtered
      ? html`<${Empty} title="No notifications match these filters."><p>Choose “Everyone”, any incident and “All” to see every delivery.</p></${Empty}>`
      : html`<${Empty} title="No notifications yet.">
          <p>Pages go out when an incident opens on a service whose escalation policy reaches someone,
          through their contact methods and notification rules in org.yaml. Status updates and webhook
          events show here too.</p></${Empty}>`)}
    ${rows.length > 0 && html`<div class="table-wrap"><table class="notifications" aria-label="Notifications">
      <thead><tr>
        <th>To</th><th>Status</th><th class="hide-narrow">Incident</th><th class="hide-narrow">What</th>
        <th>When</th><th class="hide-narrow">Error</th>
      </tr></thead>
      <tbody>${rows.map((n) => html`<${NotificationRow} key=${n.id} n=${n} users=${users} />`)}</tbody>
    </table></div>`}
    ${list.data && (cursor || list.data.next_cursor) && html`<nav class="pager" aria-label="Pages of notifications">
      ${cursor && html`<button type="button" onClick=${() => setQuery('cursor', null)}>Newest</button>`}
      ${list.data.next_cursor && html`<button type="button" onClick=${() => setQuery('cursor', list.data.next_cursor)}>Older</button>`}
      ${cursor && html`<span class="muted small">Older pages do not update live.</span>`}
    </nav>`}`;
}

function NotificationRow({ n, users }) {
  const st = shownState(n);
  const d = destination(n, users);
  return html`<tr class=${isProblem(n) ? 'problem' : ''} data-notification=${n.id}>
    <td><strong>${d.who}</strong><div class="muted small">${d.how} · ${n.channel}</div>
      <div class="muted small show-narrow">${n.incident_id ? html`<${Link} href=${`/incidents/${n.incident_id}`}>#${n.incident_id}</${Link}> · ` : ''}${KIND_NAMES[n.kind] || n.kind || ''}</div>
      ${n.last_error && html`<div class="small show-narrow n-error-narrow"><span class="error-text">${n.last_error}</span></div>`}</td>
    <td><span class=${'badge st-' + st} title=${STATE_HELP[st] || ''}>${st}</span>
      ${n.attempts > 1 && html`<div class="muted small">${n.attempts} attempts</div>`}</td>
    <td class="hide-narrow">${n.incident_id ? html`<${Link} href=${`/incidents/${n.incident_id}`}>#${n.incident_id}</${Link}>` : '—'}</td>
    <td class="hide-narrow">${KIND_NAMES[n.kind] || n.kind || '—'}${n.kind === 'page' && n.step != null && html`<div class="muted small">step ${n.step + 1}${n.loop ? `, repeat ${n.loop}` : ''}</div>`}</td>
    <td class="nowrap">${n.sent_at ? html`sent <${RelTime} at=${n.sent_at} />` : html`<${RelTime} at=${n.created_at} />`}
      ${st === 'pending' && n.not_before && new Date(n.not_before) > Date.now() && html`<div class="muted small">due <${RelTime} at=${n.not_before} /></div>`}
      ${st === 'retrying' && html`<div class="muted small">next try <${RelTime} at=${n.not_before} /></div>`}</td>
    <td class="n-error hide-narrow">${n.last_error ? html`<span class="error-text">${n.last_error}</span>` : html`<span class="muted">—</span>`}</td>
  </tr>`;
}

const BROKEN_WINDOW_DAYS = 7;

// The contact methods whose deliveries failed in the last days, newest problem first.
function Broken({ data, error, users, onShow }) {
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!data) return null;
  const groups = new Map();
  const since = Date.now() - BROKEN_WINDOW_DAYS * 86400000;
  for (const n of data.notifications) {
    if (new Date(n.created_at).getTime() < since) continue;
    const key = `${n.user}\u0000${n.contact_method}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { n, count: 1 });
  }
  if (groups.size === 0) {
    return html`<p class="notice ok-notice" role="status">No failed deliveries in the last ${BROKEN_WINDOW_DAYS} days: every contact method that was used worked.</p>`;
  }
  return html`<section class="broken" aria-labelledby="broken-h">
    <h2 id="broken-h">Failing contact methods</h2>
    <p class="muted small">Deliveries of the last ${BROKEN_WINDOW_DAYS} days that failed, gave up or are being retried. Fix the contact
      method in org.yaml (or the receiver it points at) before it is needed at night.</p>
    <ul>
      ${[...groups.values()].map(({ n, count }) => {
        const d = destination(n, users);
        return html`<li>
          <strong>${d.who}</strong> · ${d.how} (${n.channel}): <span class="error-text">${n.last_error || shownState(n)}</span>
          <span class="muted small"> · ${count} ${count === 1 ? 'delivery' : 'deliveries'}, latest <${RelTime} at=${n.created_at} /></span>
          ${' '}<button type="button" class="link small" onClick=${() => onShow(n.user)}
            aria-label=${`Show the failing deliveries to ${d.who}`}>Show</button>
        </li>`;
      })}
    </ul>
  </section>`;
}
