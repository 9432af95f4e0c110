// What every page shares: rendering (Preact + htm), the API client (session cookie + CSRF
// header), the live change feed (WebSocket, falling back to long polling), routing, and the small
// components every page uses (relative times, errors in words, empty states, toasts).
import { h, render } from './preact.js';
import { useState, useEffect, useRef, useCallback } from './hooks.js';
import htm from './htm.js';

export const html = htm.bind(h);
export { h, render, useState, useEffect, useRef, useCallback };

// ---------------------------------------------------------------------------------------------
// Routing: real paths (/incidents/42), the History API, links that do not reload.

const routeListeners = new Set();

export function currentPath() {
  return location.pathname + location.search;
}

export function navigate(to, { replace = false } = {}) {
  if (to === currentPath()) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  routeListeners.forEach((fn) => fn());
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => routeListeners.forEach((fn) => fn()));

export function useLocation() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const fn = () => setTick((t) => t + 1);
    routeListeners.add(fn);
    return () => routeListeners.delete(fn);
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

export function Link({ href, children, ...rest }) {
  const onClick = (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) {
      return;
    }
    e.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${onClick} ...${rest}>${children}</a>`;
}

// Sets a query parameter of the current page (null removes it) without adding history.
export function setQuery(name, value) {
  const q = new URLSearchParams(location.search);
  if (value === null || value === undefined || value === '') q.delete(name);
  else q.set(name, value);
  const s = q.toString();
  navigate(location.pathname + (s ? '?' + s : ''), { replace: true });
}

// ---------------------------------------------------------------------------------------------
// The session and the API.

export const session = { user: null, role: null, csrf: null, method: null, name: null, teams: [] };

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || [];
  }
  // The whole error in words: the message and what was wrong where.
  get text() {
    return this.details.length ? `${this.message}: ${this.details.join('; ')}` : this.message;
  }
}

// Remembers who signed in (the answer of POST or GET /api/v1/session) and starts the live feed.
export function signedIn(s) {
  Object.assign(session, {
    user: s.user || s.token,
    role: s.role,
    csrf: s.csrf_token || null,
    method: s.method,
    name: s.name || s.user || s.token,
    teams: s.teams || [],
  });
  live.start();
}

export function signInPath() {
  const next = currentPath();
  return next.startsWith('/signin') ? '/signin' : '/signin?next=' + encodeURIComponent(next);
}

// Calls the API. Resolves to the parsed JSON answer; rejects with an ApiError saying what went
// wrong in words (the server's message, or why the server could not be reached).
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin' };
  if (method !== 'GET' && method !== 'HEAD') {
    if (session.csrf) headers['X-CSRF-Token'] = session.csrf;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'unreachable', `houston did not answer (${e.message}); check the network`);
  }
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: said below
  }
  if (!r.ok) {
    const err = json && json.error;
    const e = err
      ? new ApiError(r.status, err.code, err.message, err.details)
      : new ApiError(r.status, 'http', `${method} ${path} answered ${r.status} ${r.statusText}`);
    if (r.status === 401 && !path.startsWith('/api/v1/session')) {
      session.user = null;
      navigate(signInPath(), { replace: true });
    }
    throw e;
  }
  return json;
}

// ---------------------------------------------------------------------------------------------
// The live change feed: one WebSocket per tab on /api/v1/live carrying small invalidations
// ({seq, type, id} or {type, count}); when the socket cannot be had, long polls of the same URL.
// Subscribers get each batch and re-fetch what they show.

class LiveFeed {
  constructor() {
    this.mode = 'connecting'; // 'live' | 'polling' | 'offline' | 'connecting'
    this.seq = null;
    this.subscribers = new Set();
    this.modeListeners = new Set();
    this.failures = 0;
    this.started = false;
    this.pollAbort = null;
  }

  start() {
    if (this.started) return;
    this.started = true;
    this.connect();
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.mode === 'offline') this.connect();
    });
  }

  setMode(mode) {
    if (this.mode === mode) return;
    this.mode = mode;
    this.modeListeners.forEach((fn) => fn(mode));
  }

  emit(events) {
    if (!events.length) return;
    this.subscribers.forEach((fn) => {
      try {
        fn(events);
      } catch (e) {
        console.error(e);
      }
    });
  }

  // A message or a poll's page: remember where we are, tell the subscribers.
  take(events) {
    const out = [];
    for (const ev of events) {
      if (ev.seq !== undefined && (this.seq === null || ev.seq > this.seq)) this.seq = ev.seq;
      out.push(ev);
    }
    this.emit(out);
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.forcePolling || !('WebSocket' in window)) return this.poll();
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const since = this.seq === null ? '' : `?since=${this.seq}`;
    let opened = false;
    let ws;
    try {
      ws = new WebSocket(`${proto}//${location.host}/api/v1/live${since}`);
    } catch {
      return this.poll();
    }
    this.ws = ws;
    let openedAt = 0;
    ws.onopen = () => {
      opened = true;
      openedAt = Date.now();
      this.failures = 0;
      this.setMode('live');
      // Without a sequence number the stream starts from now: whatever changed between the
      // page's first load and now would be missed, so everything loads again once.
      if (this.seq === null) this.emit([{ type: 'resync' }]);
    };
    ws.onmessage = (m) => {
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch {
        return;
      }
      this.take(Array.isArray(msg) ? msg : [msg]);
    };
    ws.onclose = () => {
      this.ws = null;
      // A socket that closes as soon as it opens, twice running, is one a proxy or firewall cuts
      // off: treated like one that never opened.
      if (opened && Date.now() - openedAt < 5000) this.shortLived = (this.shortLived || 0) + 1;
      else if (opened) this.shortLived = 0;
      if (opened && this.shortLived < 2) {
        // A socket that worked and dropped: everything may have changed meanwhile.
        this.emit([{ type: 'resync' }]);
        this.retryTimer = setTimeout(() => this.connect(), 1000);
        this.setMode('connecting');
      } else {
        // The socket cannot be had here (a proxy without Upgrade, a firewall): poll instead, and
        // try the socket again now and then.
        this.shortLived = 0;
        this.failures++;
        this.poll();
      }
    };
  }

  async poll() {
    this.setMode('polling');
    const startedAt = Date.now();
    const retrySocketAfter = Math.min(60000, 5000 * 2 ** Math.min(this.failures, 4));
    while (this.mode === 'polling' || this.mode === 'offline') {
      if (!this.forcePolling && Date.now() - startedAt > retrySocketAfter) return this.connect();
      if (document.hidden) {
        await sleep(2000);
        continue;
      }
      const since = this.seq === null ? '' : `since=${this.seq}&`;
      try {
        const r = await fetch(`/api/v1/live?${since}wait=25`, { credentials: 'same-origin' });
        if (r.status === 401) {
          navigate(signInPath(), { replace: true });
          return;
        }
        if (!r.ok) throw new Error(`live feed answered ${r.status}`);
        const page = await r.json();
        const wasOffline = this.mode === 'offline';
        // The first poll without a sequence number only says where the feed stands: what
        // changed before it (since the page loaded) is loaded again, as after a resync.
        const first = this.seq === null;
        this.setMode('polling');
        if (page.resync || wasOffline || first) this.emit([{ type: 'resync' }]);
        if (page.changes && page.changes.length) this.take(page.changes);
        if (page.next !== undefined) this.seq = page.next;
      } catch {
        this.setMode('offline');
        await sleep(3000);
      }
    }
  }

  subscribe(fn) {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}

export const live = new LiveFeed();
// Tests (and a curious responder) may force the fallback: /incidents?live=poll.
if (new URLSearchParams(location.search).get('live') === 'poll') live.forcePolling = true;

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export function useLiveMode() {
  const [mode, setMode] = useState(live.mode);
  useEffect(() => {
    live.modeListeners.add(setMode);
    setMode(live.mode);
    return () => live.modeListeners.delete(setMode);
  }, []);
  return mode;
}

// Calls `fn` when the feed says something of these types changed (any id, or the given one), or
// on a resync. `types` are feed type prefixes: 'incident.' matches every incident change.
export function useLiveChanges(types, fn, id) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(
    () =>
      live.subscribe((events) => {
        const hit = events.some(
          (ev) =>
            ev.type === 'resync' ||
            (types.some((t) => ev.type.startsWith(t)) &&
              (id === undefined || ev.id === undefined || String(ev.id) === String(id))),
        );
        if (hit) ref.current();
      }),
    [types.join(','), id],
  );
}

// Loads `path` from the API, again when it changes and when the feed reports a change of one of
// `liveTypes` (optionally only for `liveId`). A reload keeps the shown data until the new one
// arrives; `paused` holds live reloads back (a selection in progress) and runs one at release.
export function useApi(path, { liveTypes = [], liveId, paused = false } = {}) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [stale, setStale] = useState(false);
  const seq = useRef(0);
  const pending = useRef(false);
  const load = useCallback(() => {
    if (!path) return Promise.resolve();
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    return api('GET', path).then(
      (data) => {
        if (mine === seq.current) setState({ data, error: null, loading: false });
      },
      (error) => {
        if (mine === seq.current) setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
  }, [path]);
  useEffect(() => {
    setState({ data: null, error: null, loading: true });
    load();
  }, [load]);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  useLiveChanges(
    liveTypes,
    () => {
      if (pausedRef.current) {
        pending.current = true;
        setStale(true);
      } else {
        load();
      }
    },
    liveId,
  );
  useEffect(() => {
    if (!paused && pending.current) {
      pending.current = false;
      setStale(false);
      load();
    }
  }, [paused]);
  // stale: changes arrived while paused, not loaded yet.
  return { ...state, stale, reload: load };
}

// ---------------------------------------------------------------------------------------------
// Times: relative ("3 min ago"), with the absolute time on hover, in the viewer's zone.

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
const abs = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long' });

export function relative(date, now = Date.now()) {
  const s = Math.round((date.getTime() - now) / 1000);
  const a = Math.abs(s);
  if (a < 45) return s <= 0 ? 'just now' : 'in a few seconds';
  if (a < 45 * 60) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 22 * 3600) return rtf.format(Math.round(s / 3600), 'hour');
  if (a < 26 * 86400) return rtf.format(Math.round(s / 86400), 'day');
  if (a < 320 * 86400) return rtf.format(Math.round(s / (30 * 86400)), 'month');
  return rtf.format(Math.round(s / (365 * 86400)), 'year');
}

export function absolute(date) {
  return abs.format(date);
}

const clockListeners = new Set();
setInterval(() => clockListeners.forEach((fn) => fn()), 30000);

export function RelTime({ at }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const fn = () => setTick((t) => t + 1);
    clockListeners.add(fn);
    return () => clockListeners.delete(fn);
  }, []);
  if (!at) return html`<span class="muted">—</span>`;
  const d = new Date(at);
  return html`<time datetime=${d.toISOString()} title=${absolute(d)}>${relative(d)}</time>`;
}

// ---------------------------------------------------------------------------------------------
// Small components.

export function ErrorBox({ error, onRetry }) {
  if (!error) return null;
  const text = error instanceof ApiError ? error.text : String(error.message || error);
  return html`<div class="error" role="alert">
    <strong>${error.status ? `Error ${error.status}` : 'Error'}:</strong> ${text}
    ${onRetry && html` <button type="button" class="link" onClick=${onRetry}>Try again</button>`}
  </div>`;
}

export function Empty({ title, children }) {
  return html`<div class="empty"><p class="empty-title">${title}</p>${children}</div>`;
}

export function Loading() {
  return html`<p class="muted" role="status">Loading…</p>`;
}

// Toasts: what an action did, or why it failed, in words.
const toastListeners = new Set();
let toastId = 0;

export function toast(text, kind = 'info') {
  const t = { id: ++toastId, text, kind };
  toastListeners.forEach((fn) => fn(t));
}

export function toastError(e) {
  toast(e instanceof ApiError ? e.text : String(e.message || e), 'error');
}

export function Toasts() {
  const [items, setItems] = useState([]);
  useEffect(() => {
    const fn = (t) => {
      setItems((xs) => [...xs.slice(-3), t]);
      setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== t.id)), t.kind === 'error' ? 12000 : 4000);
    };
    toastListeners.add(fn);
    return () => toastListeners.delete(fn);
  }, []);
  return html`<div class="toasts" aria-live="polite">
    ${items.map(
      (t) => html`<div class=${'toast ' + t.kind} role=${t.kind === 'error' ? 'alert' : 'status'} key=${t.id}>
        ${t.text}
        <button type="button" class="link" aria-label="Dismiss" onClick=${() => setItems((xs) => xs.filter((x) => x.id !== t.id))}>×</button>
      </div>`,
    )}
  </div>`;
}

// A button that runs an async action: disabled while it runs, errors shown as a toast.
export function ActionButton({ action, children, class: cls = '', done, disabled, ...rest }) {
  const [busy, setBusy] = useState(false);
  const onClick = async (e) => {
    e.preventDefault();
    setBusy(true);
    try {
      await action();
      if (done) toast(done);
    } catch (err) {
      toastError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<button type="button" class=${cls} ...${rest} disabled=${busy || disabled} aria-busy=${busy} onClick=${onClick}>${children}</button>`;
}

export function StatusBadge({ status }) {
  return html`<span class=${'badge st-' + status}>${status}</span>`;
}

export function SevBadge({ sev }) {
  if (!sev) return null;
  return html`<span class=${'badge sev sev-' + String(sev).toLowerCase()}>${sev}</span>`;
}

export function PageHeader({ title, children }) {
  useEffect(() => {
    document.documentElement.dataset.page = title;
  }, [title]);
  return html`<div class="page-header"><h1>${title}</h1><div class="page-actions">${children}</div></div>`;
}

// Whether the signed-in person may do what needs `role` (viewer < responder < admin).
export function can(role) {
  const order = { viewer: 0, responder: 1, admin: 2 };
  return (order[session.role] ?? -1) >= order[role];
}

// A query string from an object, leaving out empty values.
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? '?' + s : '';
}
