// Admin pages: the audit log (who did what, filterable, page by page), the org as applied (every
// object with the YAML it came from, secrets masked) and API tokens (create shows the secret
// once; revoke). Each page asks the API, which says in words when the admin role is missing.
import {
  html, useState, useEffect, useRef, api, useApi, Link, useLocation, setQuery, RelTime, ErrorBox,
  Empty, Loading, PageHeader, toast, toastError, qs,
} from './lib.js';
import { CopyButton } from './page-services.js';

// An API error of the admin pages: a 403 explained (the server's words say which role is
// needed and which one the caller has), anything else as it is.
function AdminError({ error, onRetry, what }) {
  if (!error) return null;
  if (error.status === 403) {
    return html`<div class="notice needs-admin" role="alert">
      <p><strong>${what} needs the admin role.</strong> ${error.text}.</p>
      <p class="muted small">Admins are the people with <code>role: admin</code> in org.yaml, and admin
        API tokens. Ask one of them if you need this.</p>
    </div>`;
  }
  return html`<${ErrorBox} error=${error} onRetry=${onRetry} />`;
}

// ---------------------------------------------------------------------------------------------
// API tokens.

const ROLES = [
  ['viewer', 'Viewer (reads only)'],
  ['responder', 'Responder (also acts on incidents)'],
  ['admin', 'Admin (everything, tokens too)'],
];

export function TokensPage() {
  const { data, error, loading, reload } = useApi('/api/v1/tokens');
  const [created, setCreated] = useState(null); // {token, secret}: shown until dismissed
  const [showRevoked, setShowRevoked] = useState(false);
  const tokens = data ? data.tokens : [];
  const active = tokens.filter((t) => !t.revoked);
  const revoked = tokens.filter((t) => t.revoked);
  const shown = showRevoked ? [...active, ...revoked] : active;
  const forbidden = error && error.status === 403;
  return html`
    <${PageHeader} title="API tokens" />
    <${AdminError} error=${error} onRetry=${reload} what="Managing API tokens" />
    ${!forbidden && html`
      <p class="muted">Tokens let scripts, CI and the <code>houston</code> command line use the API
        (<code>${'Authorization: Bearer <token>'}</code>). houston keeps only a hash of each: a token
        is shown once, when it is created.</p>
      ${created
        ? html`<${NewToken} created=${created} onDone=${() => setCreated(null)} />`
        : html`<${CreateToken} onCreated=${(c) => { setCreated(c); reload(); }} />`}
      ${!data && loading && html`<${Loading} />`}
      ${data && tokens.length === 0 && html`<${Empty} title="No API tokens yet.">
        <p>Create one above for each script or tool that calls the API, with the smallest role it needs.</p></${Empty}>`}
      ${tokens.length > 0 && html`
        <h2>Tokens</h2>
        ${revoked.length > 0 && html`<label class="inline small"><input type="checkbox" checked=${showRevoked}
          onChange=${(e) => setShowRevoked(e.target.checked)} /> Show ${revoked.length} revoked</label>`}
        ${shown.length === 0 && html`<p class="muted">Every token is revoked.</p>`}
        ${shown.length > 0 && html`<div class="table-wrap"><table class="tokens" aria-label="API tokens">
          <thead><tr><th>Name</th><th>Role</th><th class="hide-narrow">Starts with</th><th>Created</th>
            <th><span class="skip">Actions</span></th></tr></thead>
          <tbody>${shown.map((t) => html`<${TokenRow} key=${t.id} t=${t} onChanged=${reload} />`)}</tbody>
        </table></div>`}`}`}`;
}

function CreateToken({ onCreated }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState('viewer');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api('POST', '/api/v1/tokens', { name: name.trim(), role });
      setName('');
      onCreated(r);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="card token-form" onSubmit=${submit} aria-label="Create an API token">
    <h2>Create a token</h2>
    <div class="row">
      <div class="grow">
        <label for="t-name">Name</label>
        <input id="t-name" required maxlength="100" value=${name} placeholder="grafana-alerting"
          aria-describedby="t-name-help" onInput=${(e) => setName(e.target.value)} />
        <div id="t-name-help" class="muted small">Who or what uses it, to recognise it later.</div>
      </div>
      <div>
        <label for="t-role">Role</label>
        <select id="t-role" value=${role} onChange=${(e) => setRole(e.target.value)}>
          ${ROLES.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
        </select>
      </div>
    </div>
    <${ErrorBox} error=${error} />
    <p><button type="submit" class="primary" disabled=${busy}>${busy ? 'Creating…' : 'Create token'}</button></p>
  </form>`;
}

// The new token's secret: shown this once, with a way to copy it.
function NewToken({ created, onDone }) {
  const ref = useRef(null);
  const box = useRef(null);
  useEffect(() => box.current && box.current.focus(), []);
  const { token, secret } = created;
  return html`<section class="card new-token" role="region" aria-labelledby="new-token-h" tabindex="-1" ref=${box}>
    <h2 id="new-token-h">Token “${token.name}” created (${token.role})</h2>
    <p class="once"><strong>Copy it now: it is shown only once.</strong> houston stores only its hash and
      cannot show it again; if it is lost, revoke it and create another.</p>
    <div class="secret-line">
      <code ref=${ref} class="token-secret" aria-label="The new token">${secret}</code>
      <${CopyButton} text=${secret} label="Copy the new token" target=${ref} />
    </div>
    <p class="muted small">Use it as <code>${'Authorization: Bearer <token>'}</code>, or${' '}
      <code>${'export HOUSTON_TOKEN=<token>'}</code> for the command line.</p>
    <button type="button" onClick=${onDone}>Done, I have copied it</button>
  </section>`;
}

function TokenRow({ t, onChanged }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const revoke = async () => {
    setBusy(true);
    try {
      await api('DELETE', `/api/v1/tokens/${t.id}`);
      toast(`Token “${t.name}” revoked: it no longer works`);
      setConfirming(false);
      onChanged();
    } catch (err) {
      toastError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<tr class=${t.revoked ? 'revoked' : ''} data-token=${t.id}>
    <td><strong>${t.name}</strong>${t.revoked && html` <span class="badge st-dead">revoked <${RelTime} at=${t.revoked_at} /></span>`}</td>
    <td>${t.role}</td>
    <td class="hide-narrow"><code>${t.prefix ? t.prefix + '…' : '—'}</code></td>
    <td class="nowrap"><${RelTime} at=${t.created_at} /></td>
    <td class="actions">
      ${!t.revoked && !confirming && html`<button type="button" class="danger"
        aria-label=${`Revoke token ${t.name}`} onClick=${() => setConfirming(true)}>Revoke</button>`}
      ${!t.revoked && confirming && html`<div class="confirm" role="group" aria-label=${`Confirm revoking ${t.name}`}>
        <span class="small">Revoke “${t.name}”? Whatever uses it stops working at once.</span>
        <button type="button" class="danger" disabled=${busy} onClick=${revoke}>Yes, revoke</button>
        <button type="button" onClick=${() => setConfirming(false)}>Cancel</button>
      </div>`}
    </td>
  </tr>`;
}

// ---------------------------------------------------------------------------------------------
// The audit log.

const RESOURCE_TYPES = [
  ['', 'Everything'],
  ['incident', 'Incidents'],
  ['alert', 'Alerts'],
  ['schedule', 'Schedules (overrides, swaps, covers)'],
  ['org', 'Org (applied org.yaml)'],
  ['token', 'API tokens'],
  ['user', 'People (sign-ins, passwords, sessions)'],
  ['postmortem', 'Postmortems'],
  ['action_item', 'Action items'],
];

const AUDIT_LIVE = ['incident.', 'alert.', 'override.', 'org.', 'postmortem.', 'action_item.'];

// Who did it: a person's or token's id; the command line on the server names nobody.
function actorName(r) {
  if (r.actor.id) return r.actor.id;
  if (r.method === 'cli') return 'houston CLI';
  return r.actor.type;
}

function objectLink(r) {
  const label = `${r.resource_type} ${r.resource_id}`;
  if (r.resource_type === 'incident') return html`<${Link} href=${`/incidents/${r.resource_id}`}>${label}</${Link}>`;
  if (r.resource_type === 'schedule') return html`<${Link} href=${`/schedules/${encodeURIComponent(r.resource_id)}`}>${label}</${Link}>`;
  if (r.resource_type === 'postmortem') return html`<${Link} href=${`/incidents/${r.resource_id}/postmortem`}>${label}</${Link}>`;
  if (r.resource_type === 'org') return html`<${Link} href="/org">org</${Link}> <span class="muted small">${r.resource_id}</span>`;
  if (r.resource_type === 'token') return html`<${Link} href="/tokens">${label}</${Link}>`;
  return label;
}

// The details object in a line: "name: ci, role: admin"; the whole JSON on demand.
function Details({ details }) {
  const entries = Object.entries(details || {});
  if (!entries.length) return html`<span class="muted">—</span>`;
  const short = entries
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
  if (short.length <= 120) return html`<span class="small">${short}</span>`;
  return html`<details class="small"><summary>${short.slice(0, 100)}…</summary>
    <pre>${JSON.stringify(details, null, 2)}</pre></details>`;
}

export function AuditPage() {
  const { query } = useLocation();
  const type = query.get('resource_type') || '';
  const id = query.get('resource_id') || '';
  const cursor = query.get('cursor') || '';
  const [idInput, setIdInput] = useState(id);
  useEffect(() => setIdInput(id), [id]);
  const path = '/api/v1/audit' + qs({ resource_type: type, resource_id: id, cursor, limit: 100 });
  const { data, error, loading, reload } = useApi(path, { liveTypes: AUDIT_LIVE, paused: Boolean(cursor) });
  const rows = data ? data.audit : [];
  const forbidden = error && error.status === 403;
  const set = (name, value) => {
    setQuery('cursor', null);
    setQuery(name, value);
  };
  return html`
    <${PageHeader} title="Audit log">
      <button type="button" onClick=${reload}>Refresh</button>
    </${PageHeader}>
    <${AdminError} error=${error} onRetry=${reload} what="The audit log" />
    ${!forbidden && html`
      <div class="filters" role="search" aria-label="Filter the audit log">
        <div>
          <label for="a-type">Object type</label>
          <select id="a-type" value=${type} onChange=${(e) => set('resource_type', e.target.value)}>
            ${RESOURCE_TYPES.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
          </select>
        </div>
        <form class="a-id" onSubmit=${(e) => { e.preventDefault(); set('resource_id', idInput.trim()); }}>
          <label for="a-id">Object id</label>
          <div class="row">
            <input id="a-id" size="14" value=${idInput} placeholder="e.g. 42 or alice"
              onInput=${(e) => setIdInput(e.target.value)} />
            <button type="submit">Show</button>
            ${id && html`<button type="button" class="link" onClick=${() => set('resource_id', null)}>Any id</button>`}
          </div>
        </form>
      </div>
      ${!data && loading && html`<${Loading} />`}
      ${data && rows.length === 0 && html`<${Empty} title=${type || id ? 'Nothing matches these filters.' : 'The audit log is empty.'}>
        <p>${type || id ? 'Choose “Everything” and clear the id to see every entry.' : 'Every change (alerts, incidents, overrides, tokens, applied org.yaml, sign-ins) is recorded here as it happens.'}</p>
      </${Empty}>`}
      ${rows.length > 0 && html`<div class="table-wrap"><table class="audit" aria-label="Audit log">
        <thead><tr><th>When</th><th>Who</th><th>Action</th><th>Object</th><th class="hide-narrow">Details</th></tr></thead>
        <tbody>${rows.map((r) => html`<tr key=${r.id} data-audit=${r.id}>
          <td class="nowrap"><${RelTime} at=${r.at} /></td>
          <td>${actorName(r)}<div class="muted small">${r.actor.type}${r.method && r.method !== r.actor.type ? ` · ${r.method}` : ''}</div></td>
          <td><code>${r.action}</code></td>
          <td>${objectLink(r)}</td>
          <td class="hide-narrow"><${Details} details=${r.details} /></td>
        </tr>`)}</tbody>
      </table></div>`}
      ${data && (cursor || data.next_cursor) && html`<nav class="pager" aria-label="Pages of the audit log">
        ${cursor && html`<button type="button" onClick=${() => setQuery('cursor', null)}>Newest</button>`}
        ${data.next_cursor && html`<button type="button" onClick=${() => setQuery('cursor', data.next_cursor)}>Older</button>`}
        ${cursor && html`<span class="muted small">Older pages do not update live.</span>`}
      </nav>`}`}`;
}

// ---------------------------------------------------------------------------------------------
// The org as applied.

const SECTION_NAMES = {
  settings: 'Settings',
  severities: 'Severities',
  users: 'Users',
  teams: 'Teams',
  schedules: 'Schedules',
  escalation_policies: 'Escalation policies',
  services: 'Services',
  maintenance_windows: 'Maintenance windows',
  silences: 'Silences',
  status_page: 'Status page',
  incident_roles: 'Incident roles',
  incident_rules: 'Incident rules',
  audiences: 'Audiences',
  webhooks: 'Webhooks',
  postmortems: 'Postmortems',
  action_items: 'Action items',
};

export function OrgPage() {
  const { query } = useLocation();
  const find = query.get('q') || '';
  const { data, error, loading, reload } = useApi('/api/v1/org', { liveTypes: ['org.'] });
  const [expanded, setExpanded] = useState(false);
  const forbidden = error && error.status === 403;
  const needle = find.trim().toLowerCase();
  const sections = data
    ? data.sections
      .map((s) => ({ ...s, objects: s.objects.filter((o) => !needle || o.id.toLowerCase().includes(needle)) }))
      .filter((s) => s.objects.length > 0)
    : [];
  return html`
    <${PageHeader} title="Org as applied" />
    <${AdminError} error=${error} onRetry=${reload} what="The org page" />
    ${!data && loading && html`<${Loading} />`}
    ${data && !data.applied && html`<${Empty} title="No org has been applied yet.">
      <p>Write org.yaml (docs/config.md has every key) and apply it: <code>houston apply -f org.yaml</code>,
      or start the server with <code>houston serve --config org.yaml</code>.</p></${Empty}>`}
    ${data && data.applied && html`
      <dl class="facts org-facts">
        <dt>Source</dt><dd><code>${data.source_name || '—'}</code></dd>
        <dt>Applied</dt><dd><${RelTime} at=${data.applied_at} /></dd>
        ${data.last_change && html`<dt>Last change</dt><dd><${RelTime} at=${data.last_change.at} /> by${' '}
          ${data.last_change.actor.id || data.last_change.actor.type} <span class="muted small">(${data.last_change.actor.type}, ${data.last_change.method})</span>
          ${' '}<${Link} href="/audit?resource_type=org">history</${Link}></dd>`}
      </dl>
      <p class="muted small">Read-only: change the org by editing the file and applying it again
        (<code>houston apply -f FILE</code>, or <code>SIGHUP</code> to a server started with <code>--config</code>).</p>
      ${data.masked.length > 0 && html`<p class="notice small">${data.masked.length} secret${data.masked.length === 1 ? ' is' : 's are'} shown as${' '}
        <code>"***"</code> (secrets, passwords, tokens, header values, passwords in URLs):${' '}
        <span class="muted">${data.masked.join(', ')}</span></p>`}
      <div class="filters" role="search" aria-label="Find in the org">
        <div>
          <label for="org-find">Find an object</label>
          <input id="org-find" type="search" value=${find} placeholder="id, e.g. checkout"
            onInput=${(e) => setQuery('q', e.target.value)} />
        </div>
        <button type="button" onClick=${() => setExpanded(!expanded)} aria-pressed=${expanded}>${expanded ? 'Collapse all' : 'Expand all'}</button>
      </div>
      ${sections.length === 0 && html`<${Empty} title="No object matches."><p>Clear the search to see every object.</p></${Empty}>`}
      ${sections.map((s) => html`<section class="org-section" key=${s.name} aria-labelledby=${`org-${s.name}`}>
        <h2 id=${`org-${s.name}`}>${SECTION_NAMES[s.name] || s.name} <span class="muted small">${s.objects.length}</span></h2>
        ${s.objects.map((o) => html`<details class="org-object" key=${`${o.id}-${expanded}`} open=${expanded || (needle && o.id.toLowerCase() === needle)}>
          <summary><code>${o.id}</code></summary>
          <pre class="yaml">${o.yaml}</pre>
        </details>`)}
      </section>`)}
      <h2>The whole document</h2>
      <details class="org-object" key=${`whole-${expanded}`} open=${expanded}>
        <summary>${data.yaml_reformatted ? 'org.yaml as applied (re-emitted: comments are not shown)' : 'org.yaml as applied, comments included'}</summary>
        <pre class="yaml">${data.yaml}</pre>
      </details>`}`;
}
