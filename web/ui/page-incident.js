// One incident, to run it from the browser: status and its actions (acknowledge, mitigate,
// resolve, reopen), severity, roles, responders, linked alerts, suspect changes, notes (pin), the
// timeline updating live, status updates per audience with a preview of each, merge and split.
// Opened from a page notification's link (?ack=1) it lands with Acknowledge focused.
import {
  html, useState, useEffect, useRef, api, useApi, useLiveChanges, Link, navigate, useLocation, RelTime,
  ErrorBox, Loading, ActionButton, StatusBadge, SevBadge, PageHeader, toast, toastError,
  can, session,
} from './lib.js';
import { useOrgLists } from './page-incidents.js';

const LIVE = ['incident.', 'timeline.', 'status_update.'];

function userName(users, id) {
  const u = users.find((x) => x.id === id);
  return u ? u.name : id;
}

export function IncidentPage({ id }) {
  const { query } = useLocation();
  const inc = useApi(`/api/v1/incidents/${id}`, { liveTypes: LIVE, liveId: id });
  const lists = useOrgLists();
  if (inc.error && !inc.data) {
    return html`<${PageHeader} title=${`Incident #${id}`} /><${ErrorBox} error=${inc.error} onRetry=${inc.reload} />`;
  }
  if (!inc.data) return html`<${PageHeader} title=${`Incident #${id}`} /><${Loading} />`;
  const i = inc.data.incident;
  const responder = can('responder');
  return html`
    <${PageHeader} title=${`#${i.id} ${i.title}`} />
    <div class="incident-head">
      <${StatusBadge} status=${i.status} /> <${SevBadge} sev=${i.sev} />
      <span class="muted">${(i.services || [i.service]).join(', ')} · started <${RelTime} at=${i.impact_started_at || i.created_at} />
      ${i.merged_into && html` · merged into <${Link} href=${`/incidents/${i.merged_into}`}>#${i.merged_into}</${Link}>`}</span>
    </div>
    <${ErrorBox} error=${inc.error} onRetry=${inc.reload} />
    ${responder && html`<${StatusActions} inc=${i} autoAck=${query.get('ack') !== null} onChanged=${inc.reload} />`}
    <div class="grid2">
      <div>
        ${i.summary && html`<p class="summary">${i.summary}</p>`}
        <${UpdateComposer} inc=${i} responder=${responder} />
        <${Timeline} id=${id} users=${lists.users} responder=${responder} />
      </div>
      <aside>
        <${Facts} inc=${i} lists=${lists} responder=${responder} onChanged=${inc.reload} />
        <${Roles} inc=${i} users=${lists.users} responder=${responder} onChanged=${inc.reload} />
        <${Responders} inc=${i} users=${lists.users} responder=${responder} onChanged=${inc.reload} />
        <${Alerts} inc=${i} alerts=${inc.data.alerts} responder=${responder} />
        <${Suspects} inc=${i} responder=${responder} />
        ${responder && html`<${Merge} inc=${i} />`}
        <p><${Link} href=${`/incidents/${i.id}/postmortem`}>Postmortem</${Link}></p>
      </aside>
    </div>`;
}

function StatusActions({ inc, autoAck, onChanged }) {
  const ackRef = useRef(null);
  useEffect(() => {
    if (autoAck && ackRef.current) {
      const b = ackRef.current.base || ackRef.current;
      if (b && b.focus) b.focus();
    }
  }, [autoAck, inc.status]);
  const go = (action) => () => api('POST', `/api/v1/incidents/${inc.id}/${action}`, {}).then(onChanged);
  const s = inc.status;
  return html`<div class="status-actions" role="group" aria-label="Incident status">
    ${s === 'triggered' && html`<${AckButton} refTo=${ackRef} action=${go('acknowledge')} />`}
    ${(s === 'triggered' || s === 'acknowledged') && html`<${ActionButton} class="big" action=${go('mitigate')} done="Mitigated">Mitigate</${ActionButton}>`}
    ${s !== 'resolved' && html`<${ActionButton} class="big" action=${go('resolve')} done="Resolved">Resolve</${ActionButton}>`}
    ${s === 'resolved' && html`<${ActionButton} class="big" action=${go('reopen')} done="Reopened">Reopen</${ActionButton}>`}
  </div>`;
}

// Acknowledge, focusable from outside (a notification link lands on it).
function AckButton({ refTo, action }) {
  const [busy, setBusy] = useState(false);
  return html`<button type="button" class="primary big" ref=${refTo} disabled=${busy} aria-busy=${busy}
    onClick=${async () => {
      setBusy(true);
      try {
        await action();
        toast('Acknowledged: paging has stopped');
      } catch (e) {
        toastError(e);
      } finally {
        setBusy(false);
      }
    }}>Acknowledge</button>`;
}

function Facts({ inc, lists, responder, onChanged }) {
  const [sev, setSev] = useState(inc.sev || '');
  useEffect(() => setSev(inc.sev || ''), [inc.sev]);
  const times = [
    ['Created', inc.created_at], ['Acknowledged', inc.acknowledged_at],
    ['Mitigated', inc.mitigated_at], ['Resolved', inc.resolved_at],
  ].filter(([, t]) => t);
  return html`<section aria-labelledby="facts-h" class="card">
    <h2 id="facts-h">Details</h2>
    <dl class="facts">
      <dt>Severity</dt>
      <dd>${responder
        ? html`<span class="row"><label class="skip" for="sev-select">Severity</label>
            <select id="sev-select" value=${sev} onChange=${(e) => setSev(e.target.value)}>
              ${!inc.sev && html`<option value="">None</option>`}
              ${lists.sevs.map((s) => html`<option value=${s.id}>${s.id}</option>`)}
            </select>
            ${sev && sev !== (inc.sev || '') && html`<${ActionButton} action=${() => api('PATCH', `/api/v1/incidents/${inc.id}`, { sev }).then(onChanged)} done=${`Severity set to ${sev}`}>Set severity</${ActionButton}>`}</span>`
        : html`<${SevBadge} sev=${inc.sev} />`}</dd>
      <dt>Service</dt><dd>${(inc.services || [inc.service]).join(', ')}</dd>
      <dt>Alerts</dt><dd>${inc.alert_count}</dd>
      ${inc.declared_by && html`<dt>Declared by</dt><dd>${inc.declared_by}</dd>`}
      ${times.map(([k, t]) => html`<dt>${k}</dt><dd><${RelTime} at=${t} /></dd>`)}
      ${inc.update_due_at && html`<dt>Next update due</dt><dd><${RelTime} at=${inc.update_due_at} /></dd>`}
    </dl>
  </section>`;
}

function Roles({ inc, users, responder, onChanged }) {
  const roles = useApi('/api/v1/incident-roles', { liveTypes: ['org.'] });
  const [role, setRole] = useState('commander');
  const [user, setUser] = useState(session.method === 'session' ? session.user : '');
  const defs = roles.data ? roles.data.roles : [];
  return html`<section aria-labelledby="roles-h" class="card">
    <h2 id="roles-h">Roles</h2>
    <${ErrorBox} error=${roles.error} />
    <dl class="facts">
      ${defs.map((d) => html`<dt title=${d.description}>${d.name}</dt>
        <dd>${inc.roles[d.id] ? userName(users, inc.roles[d.id]) : html`<span class="muted">unassigned</span>`}</dd>`)}
    </dl>
    ${responder && html`<form class="row assign" aria-label="Assign a role" onSubmit=${(e) => e.preventDefault()}>
      <div><label for="role-role">Role</label>
        <select id="role-role" value=${role} onChange=${(e) => setRole(e.target.value)}>
          ${defs.map((d) => html`<option value=${d.id}>${d.name}</option>`)}
        </select></div>
      <div><label for="role-user">Person</label>
        <select id="role-user" value=${user} onChange=${(e) => setUser(e.target.value)}>
          <option value="">Choose…</option>
          ${users.map((u) => html`<option value=${u.id}>${u.name}</option>`)}
        </select></div>
      <${ActionButton} disabled=${!user} done="Role assigned"
        action=${() => api('POST', `/api/v1/incidents/${inc.id}/roles`, { role, user }).then(onChanged)}>Assign</${ActionButton}>
    </form>`}
  </section>`;
}

function Responders({ inc, users, responder, onChanged }) {
  const [user, setUser] = useState('');
  return html`<section aria-labelledby="resp-h" class="card">
    <h2 id="resp-h">Responders</h2>
    ${inc.responders.length === 0 && html`<p class="muted">Nobody has joined yet.</p>`}
    <ul class="plain">
      ${inc.responders.map((r) => html`<li>${userName(users, r)}
        ${responder && html` <${ActionButton} class="link" aria-label=${`Remove responder ${userName(users, r)}`}
          action=${() => api('DELETE', `/api/v1/incidents/${inc.id}/responders/${encodeURIComponent(r)}`).then(onChanged)}>remove</${ActionButton}>`}</li>`)}
    </ul>
    ${responder && html`<div class="row">
      <div><label for="resp-user">Add responder</label>
        <select id="resp-user" value=${user} onChange=${(e) => setUser(e.target.value)}>
          <option value="">Choose…</option>
          ${users.filter((u) => !inc.responders.includes(u.id)).map((u) => html`<option value=${u.id}>${u.name}</option>`)}
        </select></div>
      <${ActionButton} disabled=${!user} done="Responder added"
        action=${() => api('POST', `/api/v1/incidents/${inc.id}/responders`, { user }).then(() => { setUser(''); onChanged(); })}>Add</${ActionButton}>
    </div>`}
  </section>`;
}

function Alerts({ inc, alerts, responder }) {
  const [picked, setPicked] = useState(new Set());
  const split = async () => {
    const r = await api('POST', `/api/v1/incidents/${inc.id}/split`, { alerts: [...picked] });
    const to = r.incident ? r.incident.id : null;
    setPicked(new Set());
    toast(to ? `Split into incident #${to}` : 'Split');
    if (to) navigate(`/incidents/${to}`);
  };
  return html`<section aria-labelledby="alerts-h" class="card">
    <h2 id="alerts-h">Linked alerts (${alerts.length})</h2>
    ${alerts.length === 0 && html`<p class="muted">No alerts: this incident was declared by hand.</p>`}
    <ul class="plain alerts">
      ${alerts.map((a) => html`<li key=${a.id}>
        ${responder && alerts.length > 1 && html`<input type="checkbox" aria-label=${`Pick alert ${a.id} to split off`}
          checked=${picked.has(a.id)} onChange=${() => { const s = new Set(picked); s.has(a.id) ? s.delete(a.id) : s.add(a.id); setPicked(s); }} /> `}
        <${StatusBadge} status=${a.status} /> ${a.summary}
        <span class="muted small"> · ${a.source}${a.event_count > 1 ? ` · ×${a.event_count}` : ''} · <${RelTime} at=${a.last_event_at || a.created_at} /></span>
      </li>`)}
    </ul>
    ${picked.size > 0 && html`<${ActionButton} action=${split}>Split ${picked.size} into a new incident</${ActionButton}>`}
  </section>`;
}

function Suspects({ inc, responder }) {
  const s = useApi(`/api/v1/incidents/${inc.id}/suspects`, { liveTypes: ['incident.'], liveId: inc.id });
  const list = s.data ? s.data.suspects : [];
  return html`<section aria-labelledby="suspects-h" class="card">
    <h2 id="suspects-h">Suspect changes</h2>
    <${ErrorBox} error=${s.error} />
    ${s.data && list.length === 0 && html`<p class="muted">No changes on these services or their dependencies in the ${s.data.lookback_hours} h before impact. Send deploys to <code>/v2/change/enqueue</code> to see them here.</p>`}
    <ul class="plain">
      ${list.map((c) => html`<li>
        <strong>${c.summary}</strong> <span class="muted small">${c.service}${c.source ? ' · ' + c.source : ''} · <${RelTime} at=${c.timestamp || c.at} />${c.reason ? ' · ' + c.reason : ''}</span>
        ${c.linked ? html` <span class="badge">linked</span>` : responder && c.id && html` <${ActionButton} class="link"
          action=${() => api('POST', `/api/v1/incidents/${inc.id}/changes`, { change_id: c.id }).then(s.reload)} done="Change linked">link</${ActionButton}>`}
      </li>`)}
    </ul>
  </section>`;
}

function Merge({ inc }) {
  const [into, setInto] = useState('');
  if (inc.status === 'resolved' || inc.merged_into) return null;
  return html`<section aria-labelledby="merge-h" class="card">
    <h2 id="merge-h">Merge</h2>
    <div class="row">
      <div><label for="merge-into">Merge into incident #</label>
        <input id="merge-into" inputmode="numeric" size="8" value=${into} onInput=${(e) => setInto(e.target.value.trim())} /></div>
      <${ActionButton} disabled=${!/^[0-9]+$/.test(into)} done=${`Merged into #${into}`}
        action=${() => api('POST', `/api/v1/incidents/${inc.id}/merge`, { into: Number(into) }).then(() => navigate(`/incidents/${into}`))}>Merge</${ActionButton}>
    </div>
    <p class="muted small">Its alerts and timeline move to the other incident; this one is closed as merged.</p>
  </section>`;
}

// ---------------------------------------------------------------------------------------------
// Status updates: one form, a preview of what each audience will get, then publish.

const PHASES = ['investigating', 'identified', 'monitoring', 'resolved'];

function UpdateComposer({ inc, responder }) {
  const updates = useApi(`/api/v1/incidents/${inc.id}/updates`, { liveTypes: ['status_update.', 'incident.'], liveId: inc.id });
  const [open, setOpen] = useState(false);
  const [fields, setFields] = useState({ message: '', impact: '', customer_effect: '', eta: '', support_guidance: '', public_message: '', phase: '' });
  const [preview, setPreview] = useState(null);
  const [tab, setTab] = useState('public');
  const [error, setError] = useState(null);
  const set = (k) => (e) => setFields({ ...fields, [k]: e.target.value });
  const body = (dry) => {
    const b = {};
    for (const [k, v] of Object.entries(fields)) if (v) b[k] = v;
    if (dry) b.dry_run = true;
    return b;
  };
  // The preview follows the text, a moment after typing stops.
  useEffect(() => {
    if (!open) return undefined;
    const t = setTimeout(() => {
      const b = body(true);
      if (Object.keys(b).length === 1) {
        setPreview(null);
        setError(null);
        return;
      }
      api('POST', `/api/v1/incidents/${inc.id}/updates`, b).then(
        (r) => {
          setPreview(r.update.renderings);
          setError(null);
        },
        (e) => setError(e),
      );
    }, 350);
    return () => clearTimeout(t);
  }, [open, JSON.stringify(fields)]);
  const publish = async () => {
    await api('POST', `/api/v1/incidents/${inc.id}/updates`, body(false));
    toast('Status update published');
    setFields({ message: '', impact: '', customer_effect: '', eta: '', support_guidance: '', public_message: '', phase: '' });
    setPreview(null);
    setOpen(false);
    updates.reload();
  };
  const list = updates.data ? updates.data.updates : [];
  const shown = preview && (preview.find((r) => r.audience === tab) || preview[0]);
  return html`<section aria-labelledby="updates-h">
    <div class="page-header"><h2 id="updates-h">Status updates</h2>
      ${responder && !open && html`<button type="button" onClick=${() => setOpen(true)}>Write an update</button>`}</div>
    ${open && html`<form class="card composer" aria-label="Write a status update" onSubmit=${(e) => e.preventDefault()}>
      <div class="row">
        <div><label for="u-phase">Phase</label>
          <select id="u-phase" value=${fields.phase} onChange=${set('phase')}>
            <option value="">Unchanged</option>
            ${PHASES.map((p) => html`<option value=${p}>${p}</option>`)}
          </select></div>
        <div><label for="u-eta">ETA</label><input id="u-eta" value=${fields.eta} onInput=${set('eta')} placeholder="within the hour" /></div>
      </div>
      <label for="u-message">What responders know (engineers)</label>
      <textarea id="u-message" value=${fields.message} onInput=${set('message')}></textarea>
      <label for="u-impact">Impact (executives)</label>
      <input id="u-impact" value=${fields.impact} onInput=${set('impact')} />
      <label for="u-effect">What customers notice</label>
      <input id="u-effect" value=${fields.customer_effect} onInput=${set('customer_effect')} />
      <label for="u-support">What support tells customers</label>
      <input id="u-support" value=${fields.support_guidance} onInput=${set('support_guidance')} />
      <label for="u-public">Public status page message</label>
      <textarea id="u-public" value=${fields.public_message} onInput=${set('public_message')}></textarea>
      <${ErrorBox} error=${error} />
      ${preview && html`<div class="audiences">
        <div class="tabs" role="tablist" aria-label="Preview per audience">
          ${preview.map((r) => html`<button type="button" role="tab" aria-selected=${shown.audience === r.audience}
            onClick=${() => setTab(r.audience)}>${r.audience}</button>`)}
        </div>
        <div role="tabpanel" aria-label=${`Preview for ${shown.audience}`} class="preview">
          <strong>${shown.subject}</strong>
${shown.text}</div>
      </div>`}
      <div class="row">
        <${ActionButton} class="primary" action=${publish} disabled=${!preview}>Publish to every audience</${ActionButton}>
        <button type="button" onClick=${() => setOpen(false)}>Cancel</button>
      </div>
    </form>`}
    <${ErrorBox} error=${updates.error} />
    ${updates.data && list.length === 0 && !open && html`<p class="muted">No status updates yet.${responder ? ' Write one: each audience (executives, engineers, support, the public status page) gets its own wording.' : ''}</p>`}
    <ol class="updates plain">
      ${list.slice().reverse().map((u) => html`<li key=${u.id} class="card">
        <div class="tl-meta"><${RelTime} at=${u.at} /> · ${u.author} · ${u.phase}</div>
        ${(u.fields && (u.fields.message || u.fields.public_message)) || (u.renderings && u.renderings[0] && u.renderings[0].text)}
      </li>`)}
    </ol>
  </section>`;
}

// ---------------------------------------------------------------------------------------------
// Timeline.

function describe(e, users, roleNames) {
  const d = e.details || {};
  const who = (id) => userName(users, id);
  switch (e.action) {
    case 'incident.triggered': return d.declared ? `declared${d.sev ? ' as ' + d.sev : ''}` : 'triggered';
    case 'incident.note': return d.text;
    case 'incident.escalated': return `paged ${(d.reached || []).map((r) => who(r.user) + (r.via ? ` (${r.via})` : '')).join(', ') || 'nobody'} (step ${(d.step ?? 0) + 1})`;
    case 'incident.role_assigned': return `${who(d.user)} is ${roleNames[d.role] || d.role}`;
    case 'incident.role_unassigned': return `${roleNames[d.role] || d.role} unassigned`;
    case 'incident.responder_added': return `${who(d.user)} joined`;
    case 'incident.responder_removed': return `${who(d.user)} left`;
    case 'notification.failed': return `notification to ${who(d.user) || d.target} by ${d.channel} failed: ${d.last_error}`;
    case 'notification.delivered': return `notified ${who(d.user) || d.target} by ${d.channel}`;
    case 'incident.pinned': return 'pinned an entry';
    case 'incident.unpinned': return 'unpinned an entry';
    case 'incident.change_linked': return `linked change: ${d.summary || d.change_id}`;
    default: {
      const what = e.action.replace(/^incident\./, '').replace(/_/g, ' ');
      const extra = Object.entries(d)
        .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
        .slice(0, 3)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
      return extra ? `${what} (${extra})` : what;
    }
  }
}

function Timeline({ id, users, responder }) {
  const [pinnedOnly, setPinnedOnly] = useState(false);
  const tl = useApi(`/api/v1/incidents/${id}/timeline${pinnedOnly ? '?pinned=true' : ''}`, {
    liveTypes: ['incident.', 'timeline.'],
    liveId: id,
  });
  // A notification's feed entry names the notification, not its incident: any of them may be
  // this incident's page failing, so the timeline looks again, at most every 5 s.
  const noticeTimer = useRef(null);
  const lastNotice = useRef(0);
  useLiveChanges(['notification.'], () => {
    if (noticeTimer.current) return;
    const wait = Math.max(0, lastNotice.current + 5000 - Date.now());
    noticeTimer.current = setTimeout(() => {
      noticeTimer.current = null;
      lastNotice.current = Date.now();
      tl.reload();
    }, wait);
  });
  useEffect(() => () => clearTimeout(noticeTimer.current), []);
  const roles = useApi('/api/v1/incident-roles', { liveTypes: ['org.'] });
  const roleNames = Object.fromEntries((roles.data ? roles.data.roles : []).map((r) => [r.id, r.name]));
  const [note, setNote] = useState('');
  const [pin, setPin] = useState(false);
  const add = async () => {
    await api('POST', `/api/v1/incidents/${id}/notes`, { text: note, pinned: pin });
    setNote('');
    setPin(false);
    tl.reload();
  };
  const entries = tl.data ? tl.data.timeline.slice().reverse() : [];
  return html`<section aria-labelledby="timeline-h">
    <div class="page-header"><h2 id="timeline-h">Timeline</h2>
      <label class="inline"><input type="checkbox" checked=${pinnedOnly} onChange=${(e) => setPinnedOnly(e.target.checked)} /> Pinned only</label></div>
    ${responder && html`<form class="card note-form" aria-label="Add a note" onSubmit=${(e) => { e.preventDefault(); }}>
      <label for="note-text">Note</label>
      <textarea id="note-text" value=${note} onInput=${(e) => setNote(e.target.value)} placeholder="What you saw, tried or decided"></textarea>
      <div class="row">
        <label class="inline"><input type="checkbox" checked=${pin} onChange=${(e) => setPin(e.target.checked)} /> Pin it</label>
        <${ActionButton} class="primary" disabled=${!note.trim()} action=${add}>Add note</${ActionButton}>
      </div>
    </form>`}
    <${ErrorBox} error=${tl.error} onRetry=${tl.reload} />
    ${!tl.data && html`<${Loading} />`}
    ${tl.data && entries.length === 0 && html`<p class="muted">${pinnedOnly ? 'Nothing is pinned yet.' : 'Nothing yet.'}</p>`}
    <ol class="timeline" aria-label="Timeline, newest first">
      ${entries.map((e, n) => html`<li key=${e.id ?? 'n' + n} class=${e.pinned ? 'pinned' : ''}>
        <div class="tl-meta"><${RelTime} at=${e.at} /> · ${e.actor}${e.pinned ? ' · pinned' : ''}</div>
        <div class=${e.action === 'incident.note' ? 'tl-note' : ''}>${describe(e, users, roleNames)}</div>
        ${responder && e.id && html`<${ActionButton} class="link small" aria-label=${(e.pinned ? 'Unpin' : 'Pin') + ' entry ' + e.id}
          action=${() => api(e.pinned ? 'DELETE' : 'POST', `/api/v1/incidents/${id}/timeline/${e.id}/pin`, e.pinned ? undefined : {}).then(tl.reload)}>${e.pinned ? 'unpin' : 'pin'}</${ActionButton}>`}
      </li>`)}
    </ol>
  </section>`;
}

