// The incidents and alerts lists: live (new ones appear without a reload), filtered, with
// acknowledge and resolve per row and for a selection; the list holds still while rows are
// selected. And declaring an incident.
import {
  html, useState, useEffect, useRef, api, useApi, Link, navigate, useLocation, setQuery,
  RelTime, ErrorBox, Empty, Loading, ActionButton, StatusBadge, SevBadge, PageHeader, toast,
  can, qs, session,
} from './lib.js';

const OPEN = ['triggered', 'acknowledged', 'mitigated'];

// Severities, services and users, loaded once per page for filters and forms.
export function useOrgLists() {
  const sevs = useApi('/api/v1/severities', { liveTypes: ['org.'] });
  const services = useApi('/api/v1/services', { liveTypes: ['org.'] });
  const users = useApi('/api/v1/users', { liveTypes: ['org.'] });
  return {
    sevs: sevs.data ? sevs.data.severities : [],
    services: services.data ? services.data.services : [],
    users: users.data ? users.data.users : [],
  };
}

function Select({ id, label, value, onChange, options, all = 'All' }) {
  return html`<div>
    <label for=${id}>${label}</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)}>
      ${all !== null && html`<option value="">${all}</option>`}
      ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
    </select>
  </div>`;
}

function Scope({ value, onChange }) {
  const opts = [['', 'All'], ['mine', 'Mine'], ['teams', 'My teams']];
  return html`<div>
    <label id="scope-label">Whose</label>
    <div class="seg" role="group" aria-labelledby="scope-label">
      ${opts.map(
        ([v, text]) => html`<button type="button" aria-pressed=${value === v} onClick=${() => onChange(v)}>${text}</button>`,
      )}
    </div>
  </div>`;
}

// Incidents in scope: "mine" holds a role or is a responder; "teams" touches a service owned by
// one of my teams.
function inScope(inc, scope, myServices) {
  if (scope === 'mine') {
    return Object.values(inc.roles || {}).includes(session.user) ||
      (inc.responders || []).includes(session.user);
  }
  if (scope === 'teams') return (inc.services || [inc.service]).some((s) => myServices.has(s));
  return true;
}

// Runs `fn` for each id, all at once; says how many worked and why the others did not.
async function bulk(ids, what, fn) {
  const results = await Promise.allSettled(ids.map(fn));
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length) {
    const why = failed[0].reason && (failed[0].reason.text || failed[0].reason.message);
    toast(`${what}: ${ids.length - failed.length} of ${ids.length} done; ${failed.length} failed (${why})`, 'error');
  } else {
    toast(`${what}: ${ids.length} done`);
  }
}

export function IncidentsPage() {
  const { query } = useLocation();
  const status = query.get('status') || 'open';
  const sev = query.get('sev') || '';
  const service = query.get('service') || '';
  const scope = query.get('scope') || '';
  const [selected, setSelected] = useState(new Set());
  const [declaring, setDeclaring] = useState(query.get('declare') === '1');
  const lists = useOrgLists();
  const paused = selected.size > 0;
  const path = '/api/v1/incidents' + qs({
    open: status === 'open' ? 'true' : '',
    status: status === 'open' || status === 'all' ? '' : status,
    sev,
    service,
    limit: 500,
  });
  const { data, error, loading, reload, stale } = useApi(path, { liveTypes: ['incident.'], paused });
  const myServices = new Set(
    lists.services.filter((s) => (session.teams || []).includes(s.team)).map((s) => s.id),
  );
  const rows = data ? data.incidents.filter((i) => inScope(i, scope, myServices)) : [];

  // Rows that left the list leave the selection.
  useEffect(() => {
    if (!data) return;
    const ids = new Set(rows.map((r) => r.id));
    const kept = [...selected].filter((id) => ids.has(id));
    if (kept.length !== selected.size) setSelected(new Set(kept));
  }, [data]);

  const toggle = (id) => {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setSelected(s);
  };
  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const toggleAll = () => setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.id)));
  const act = (action, ids) =>
    bulk(ids, action === 'acknowledge' ? 'Acknowledge' : 'Resolve', (id) =>
      api('POST', `/api/v1/incidents/${id}/${action}`, {}),
    ).then(() => {
      setSelected(new Set());
      reload();
    });
  const responder = can('responder');

  return html`
    <${PageHeader} title="Incidents">
      ${responder && html`<button type="button" class="primary" onClick=${() => setDeclaring(!declaring)}
        aria-expanded=${declaring}>Declare incident</button>`}
    </${PageHeader}>
    ${declaring && html`<${DeclareForm} lists=${lists} onClose=${() => setDeclaring(false)} />`}
    <div class="filters" role="search" aria-label="Filter incidents">
      <${Select} id="f-status" label="Status" value=${status} all=${null}
        onChange=${(v) => setQuery('status', v === 'open' ? null : v)}
        options=${[['open', 'Open'], ['triggered', 'Triggered'], ['acknowledged', 'Acknowledged'],
          ['mitigated', 'Mitigated'], ['resolved', 'Resolved'], ['all', 'All']]} />
      <${Select} id="f-sev" label="Severity" value=${sev} onChange=${(v) => setQuery('sev', v)}
        options=${lists.sevs.map((s) => [s.id, s.id])} />
      <${Select} id="f-service" label="Service" value=${service}
        onChange=${(v) => setQuery('service', v)}
        options=${lists.services.map((s) => [s.id, s.name])} />
      <${Scope} value=${scope} onChange=${(v) => setQuery('scope', v)} />
    </div>
    ${paused && html`<div class="bulkbar" role="region" aria-label="Selection">
      <strong>${selected.size} selected</strong>
      ${responder && html`
        <${ActionButton} action=${() => act('acknowledge', [...selected])}>Acknowledge selected</${ActionButton}>
        <${ActionButton} action=${() => act('resolve', [...selected])}>Resolve selected</${ActionButton}>`}
      <button type="button" class="link" onClick=${() => setSelected(new Set())}>Clear selection</button>
      <span class="muted small" role="status">${stale
        ? 'Incidents have changed: the list catches up when the selection is cleared.'
        : 'The list holds still while rows are selected.'}</span>
    </div>`}
    <${ErrorBox} error=${error} onRetry=${reload} />
    ${!data && loading && html`<${Loading} />`}
    ${data && rows.length === 0 && html`<${NoIncidents} status=${status} filtered=${Boolean(sev || service || scope)} />`}
    ${rows.length > 0 && html`<div class="table-wrap"><table class="incidents" aria-label="Incidents">
      <thead><tr>
        <th><input type="checkbox" aria-label="Select all incidents shown" checked=${allSelected} onChange=${toggleAll} /></th>
        <th>Incident</th><th>Status</th><th class="hide-narrow">Service</th>
        <th class="hide-narrow">Commander</th><th>Started</th><th><span class="skip">Actions</span></th>
      </tr></thead>
      <tbody>
        ${rows.map((inc) => html`<${IncidentRow} inc=${inc} key=${inc.id} selected=${selected.has(inc.id)}
          onToggle=${() => toggle(inc.id)} onChanged=${reload} responder=${responder} />`)}
      </tbody>
    </table></div>
    ${data.next_cursor && html`<p class="muted small">Showing the newest ${data.incidents.length}; narrow the filters to see older ones.</p>`}`}`;
}

function NoIncidents({ status, filtered }) {
  if (filtered || (status !== 'open' && status !== 'triggered')) {
    return html`<${Empty} title="No incidents match these filters."><p>Clear a filter above to see more.</p></${Empty}>`;
  }
  const base = location.origin;
  return html`<${Empty} title="No open incidents. All quiet.">
    <p>Incidents open when alerts arrive. To send alerts here, point your monitoring at houston:</p>
    <ul>
      <li>Alertmanager: a receiver with <code>webhook_configs: [{url: "${base}/integrations/alertmanager/KEY"}]</code></li>
      <li>PagerDuty Events API v2 senders (Grafana, Sentry, Datadog): events URL <code>${base}/v2/enqueue</code></li>
    </ul>
    <p>Each service's integration keys are on <${Link} href="/services">Services</${Link}>; more on <${Link} href="/help">Help</${Link}>.${' '}
    Or declare an incident by hand with <strong>Declare incident</strong>.</p>
  </${Empty}>`;
}

function IncidentRow({ inc, selected, onToggle, onChanged, responder }) {
  const open = OPEN.includes(inc.status);
  return html`<tr class=${selected ? 'selected' : ''} data-incident=${inc.id}>
    <td><input type="checkbox" aria-label=${`Select incident #${inc.id}`} checked=${selected} onChange=${onToggle} /></td>
    <td>
      <${Link} href=${`/incidents/${inc.id}`}>#${inc.id} ${inc.title}</${Link}>
      ${' '}<${SevBadge} sev=${inc.sev} />
      ${inc.alert_count > 1 && html` <span class="muted small">${inc.alert_count} alerts</span>`}
    </td>
    <td><${StatusBadge} status=${inc.status} /></td>
    <td class="hide-narrow">${inc.service}</td>
    <td class="hide-narrow">${inc.commander || html`<span class="muted">none</span>`}</td>
    <td class="nowrap"><${RelTime} at=${inc.created_at} /></td>
    <td class="actions">
      ${responder && inc.status === 'triggered' && html`<${ActionButton} class="primary"
        aria-label=${`Acknowledge incident #${inc.id}`}
        action=${() => api('POST', `/api/v1/incidents/${inc.id}/acknowledge`, {}).then(onChanged)}>Acknowledge</${ActionButton}>`}
      ${responder && open && html` <${ActionButton} aria-label=${`Resolve incident #${inc.id}`}
        action=${() => api('POST', `/api/v1/incidents/${inc.id}/resolve`, {}).then(onChanged)}>Resolve</${ActionButton}>`}
    </td>
  </tr>`;
}

export function DeclareForm({ lists, onClose }) {
  const [title, setTitle] = useState('');
  const [sev, setSev] = useState('');
  const [service, setService] = useState('');
  const [summary, setSummary] = useState('');
  const [commander, setCommander] = useState(session.method === 'session' ? session.user : '');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const first = useRef(null);
  useEffect(() => first.current && first.current.focus(), []);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { title, summary };
    if (sev) body.sev = sev;
    if (service) body.service = service;
    if (commander) body.commander = commander;
    try {
      const r = await api('POST', '/api/v1/incidents', body);
      toast(`Declared incident #${r.incident.id}`);
      navigate(`/incidents/${r.incident.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`<form class="card declare" onSubmit=${submit} aria-label="Declare an incident">
    <h2>Declare an incident</h2>
    <label for="d-title">Title</label>
    <input id="d-title" ref=${first} required value=${title} onInput=${(e) => setTitle(e.target.value)}
      placeholder="Checkout fails for card payments" size="50" />
    <div class="row">
      <div><label for="d-sev">Severity</label>
        <select id="d-sev" required value=${sev} onChange=${(e) => setSev(e.target.value)}>
          <option value="">Choose…</option>
          ${lists.sevs.map((s) => html`<option value=${s.id} title=${s.description}>${s.id}: ${s.description}</option>`)}
        </select></div>
      <div><label for="d-service">Service</label>
        <select id="d-service" value=${service} onChange=${(e) => setService(e.target.value)}>
          <option value="">Choose…</option>
          ${lists.services.map((s) => html`<option value=${s.id}>${s.name}</option>`)}
        </select></div>
      <div><label for="d-commander">Commander</label>
        <select id="d-commander" value=${commander} onChange=${(e) => setCommander(e.target.value)}>
          <option value="">Nobody yet</option>
          ${lists.users.map((u) => html`<option value=${u.id}>${u.name}</option>`)}
        </select></div>
    </div>
    <label for="d-summary">What is happening</label>
    <textarea id="d-summary" value=${summary} onInput=${(e) => setSummary(e.target.value)}></textarea>
    <${ErrorBox} error=${error} />
    <div class="row">
      <button type="submit" class="primary" disabled=${busy}>Declare</button>
      <button type="button" onClick=${onClose}>Cancel</button>
    </div>
  </form>`;
}

// ---------------------------------------------------------------------------------------------
// Alerts.

export function AlertsPage() {
  const { query } = useLocation();
  const status = query.get('status') || 'triggered';
  const service = query.get('service') || '';
  const [selected, setSelected] = useState(new Set());
  const lists = useOrgLists();
  const path = '/api/v1/alerts' + qs({ status: status === 'all' ? '' : status, service, limit: 500 });
  const { data, error, loading, reload } = useApi(path, {
    liveTypes: ['alert.'],
    paused: selected.size > 0,
  });
  const rows = data ? data.alerts : [];
  const responder = can('responder');
  const toggle = (id) => {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setSelected(s);
  };
  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const act = (action) =>
    bulk([...selected], action === 'acknowledge' ? 'Acknowledge' : 'Resolve', (id) =>
      api('POST', `/api/v1/alerts/${id}/${action}`, {}),
    ).then(() => {
      setSelected(new Set());
      reload();
    });
  return html`
    <${PageHeader} title="Alerts" />
    <div class="filters" role="search" aria-label="Filter alerts">
      <${Select} id="a-status" label="Status" value=${status} all=${null}
        onChange=${(v) => setQuery('status', v === 'triggered' ? null : v)}
        options=${[['triggered', 'Triggered'], ['acknowledged', 'Acknowledged'], ['resolved', 'Resolved'], ['all', 'All']]} />
      <${Select} id="a-service" label="Service" value=${service} onChange=${(v) => setQuery('service', v)}
        options=${lists.services.map((s) => [s.id, s.name])} />
    </div>
    ${selected.size > 0 && html`<div class="bulkbar" role="region" aria-label="Selection">
      <strong>${selected.size} selected</strong>
      ${responder && html`<${ActionButton} action=${() => act('acknowledge')}>Acknowledge selected</${ActionButton}>
        <${ActionButton} action=${() => act('resolve')}>Resolve selected</${ActionButton}>`}
      <button type="button" class="link" onClick=${() => setSelected(new Set())}>Clear selection</button>
      <span class="muted small">The list holds still while rows are selected.</span>
    </div>`}
    <${ErrorBox} error=${error} onRetry=${reload} />
    ${!data && loading && html`<${Loading} />`}
    ${data && rows.length === 0 && html`<${Empty} title=${status === 'triggered' ? 'No triggered alerts.' : 'No alerts match these filters.'}>
      <p>Alerts arrive from your monitoring; <${Link} href="/help">Help</${Link}> shows the URLs to point it at.</p></${Empty}>`}
    ${rows.length > 0 && html`<div class="table-wrap"><table aria-label="Alerts">
      <thead><tr>
        <th><input type="checkbox" aria-label="Select all alerts shown" checked=${allSelected}
          onChange=${() => setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.id)))} /></th>
        <th>Alert</th><th>Status</th><th class="hide-narrow">Service</th><th class="hide-narrow">Incident</th>
        <th>Last event</th><th><span class="skip">Actions</span></th>
      </tr></thead>
      <tbody>${rows.map((a) => html`<tr key=${a.id} class=${selected.has(a.id) ? 'selected' : ''}>
        <td><input type="checkbox" aria-label=${`Select alert ${a.id}`} checked=${selected.has(a.id)} onChange=${() => toggle(a.id)} /></td>
        <td>${a.summary} <span class="badge">${a.severity}</span>
          ${a.event_count > 1 && html` <span class="muted small">×${a.event_count}</span>`}
          <div class="muted small">${a.source}${a.dedup_key ? ' · ' + a.dedup_key : ''}</div></td>
        <td><${StatusBadge} status=${a.status} /></td>
        <td class="hide-narrow">${a.service}</td>
        <td class="hide-narrow">${a.incident_id ? html`<${Link} href=${`/incidents/${a.incident_id}`}>#${a.incident_id}</${Link}>` : '—'}</td>
        <td class="nowrap"><${RelTime} at=${a.last_event_at || a.created_at} /></td>
        <td class="actions">
          ${responder && a.status === 'triggered' && html`<${ActionButton} aria-label=${`Acknowledge alert ${a.id}`}
            action=${() => api('POST', `/api/v1/alerts/${a.id}/acknowledge`, {}).then(reload)}>Acknowledge</${ActionButton}>`}
          ${responder && a.status !== 'resolved' && html` <${ActionButton} aria-label=${`Resolve alert ${a.id}`}
            action=${() => api('POST', `/api/v1/alerts/${a.id}/resolve`, {}).then(reload)}>Resolve</${ActionButton}>`}
        </td>
      </tr>`)}</tbody>
    </table></div>`}`;
}
