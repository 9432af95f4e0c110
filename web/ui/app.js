// The web UI's shell: who is signed in, the navigation, the live-mode indicator, the tab title,
// and which page a path shows. Pages live in page-*.js, one module per area.
import {
  html, render, useState, useEffect, api, session, navigate, useLocation, Link, live,
  useLiveMode, useApi, Toasts, ApiError, can, ErrorBox, signedIn, signInPath,
} from './lib.js';
import { SignInPage, HelpPage } from './page-signin.js';
import { IncidentsPage, AlertsPage } from './page-incidents.js';
import { IncidentPage } from './page-incident.js';
import { OnCallPage, SchedulePage } from './page-oncall.js';
import { ServicesPage, NotificationsPage } from './page-services.js';
import { AuditPage, OrgPage, TokensPage } from './page-admin.js';
import { PostmortemsPage, PostmortemPage, ActionItemsPage, AnalyticsPage } from './page-learning.js';

// path pattern -> page; {name} segments become props.
const routes = [
  ['/incidents', IncidentsPage],
  ['/incidents/{id}', IncidentPage],
  ['/incidents/{id}/postmortem', PostmortemPage],
  ['/alerts', AlertsPage],
  ['/oncall', OnCallPage],
  ['/schedules/{id}', SchedulePage],
  ['/services', ServicesPage],
  ['/notifications', NotificationsPage],
  ['/postmortems', PostmortemsPage],
  ['/action-items', ActionItemsPage],
  ['/analytics', AnalyticsPage],
  ['/audit', AuditPage],
  ['/org', OrgPage],
  ['/tokens', TokensPage],
  ['/help', HelpPage],
];

function match(path) {
  const parts = path.split('/').filter(Boolean);
  for (const [pattern, page] of routes) {
    const pp = pattern.split('/').filter(Boolean);
    if (pp.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < pp.length; i++) {
      if (pp[i].startsWith('{')) params[pp[i].slice(1, -1)] = decodeURIComponent(parts[i]);
      else if (pp[i] !== parts[i]) ok = false;
    }
    if (ok) return { page, params };
  }
  return null;
}

const nav = [
  ['/incidents', 'Incidents'],
  ['/alerts', 'Alerts'],
  ['/oncall', 'On-call'],
  ['/services', 'Services'],
  ['/notifications', 'Notifications'],
  ['/postmortems', 'Postmortems'],
  ['/action-items', 'Action items'],
  ['/analytics', 'Analytics'],
];
const adminNav = [
  ['/audit', 'Audit log'],
  ['/org', 'Org'],
  ['/tokens', 'API tokens'],
];

const modeText = {
  live: ['Live', 'Changes appear as they happen.'],
  polling: ['Polling', 'The live connection is unavailable; the page checks for changes every few seconds.'],
  offline: ['Offline', 'houston cannot be reached: what you see may be out of date.'],
  connecting: ['Connecting', 'Connecting to the live feed…'],
};

function LiveIndicator() {
  const mode = useLiveMode();
  const [label, title] = modeText[mode];
  return html`<span class=${'live-mode mode-' + mode} role="status" title=${title} data-mode=${mode}>
    <span class="dot" aria-hidden="true"></span>${label}
  </span>`;
}

// The tab title counts the triggered incidents, so a background tab shows that something needs
// someone.
function TitleCounter() {
  const { data } = useApi('/api/v1/incidents?status=triggered&limit=200', {
    liveTypes: ['incident.'],
  });
  useEffect(() => {
    const n = data ? data.incidents.length : 0;
    const page = document.documentElement.dataset.page;
    document.title = (n ? `(${n}${data.next_cursor ? '+' : ''}) ` : '') + (page ? page + ' · ' : '') + 'houston';
  });
  return null;
}

function Shell({ children, path }) {
  const [menu, setMenu] = useState(false);
  const signOut = async () => {
    try {
      await api('DELETE', '/api/v1/session');
    } catch {
      // signed out already
    }
    session.user = null;
    location.assign('/signin');
  };
  const item = ([href, label]) => html`<li><${Link} href=${href}
      aria-current=${path === href || path.startsWith(href + '/') ? 'page' : undefined}
      onClick=${() => setMenu(false)}>${label}</${Link}></li>`;
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <${Link} class="brand" href="/incidents">houston</${Link}>
      <button type="button" class="menu-button" aria-expanded=${menu} aria-controls="nav"
        onClick=${() => setMenu(!menu)}>Menu</button>
      <nav id="nav" class=${menu ? 'open' : ''} aria-label="Main">
        <ul>
          ${nav.map(item)}
          ${can('admin') && adminNav.map(item)}
        </ul>
      </nav>
      <div class="who">
        <${LiveIndicator} />
        <span class="user" title=${`${session.method === 'token' ? 'token' : 'user'} ${session.user} (${session.role})`}>${session.user}</span>
        ${session.method === 'session' && html`<button type="button" class="link" onClick=${signOut}>Sign out</button>`}
      </div>
    </header>
    <main id="main" tabindex="-1">${children}</main>
    <${TitleCounter} />
    <${Toasts} />`;
}

function NotFound({ path }) {
  return html`<div class="page-header"><h1>Not found</h1></div>
    <p>There is no page at <code>${path}</code>. <${Link} href="/incidents">Go to the incidents</${Link}>.</p>`;
}

function App() {
  const { path } = useLocation();
  const [, setLoaded] = useState(false);
  const [error, setError] = useState(null);

  useEffect(() => {
    if (path === '/signin' || session.user) return;
    api('GET', '/api/v1/session').then(
      (s) => {
        signedIn(s);
        setLoaded(true);
      },
      (e) => {
        // Signed out: to the sign-in page, and back here afterwards.
        if (e instanceof ApiError && e.status === 401) navigate(signInPath(), { replace: true });
        else setError(e);
      },
    );
  }, [path, session.user]);

  if (path === '/signin') return html`<${SignInPage} />`;
  if (error) {
    return html`<main class="narrow"><h1>houston</h1><${ErrorBox} error=${error}
      onRetry=${() => location.reload()} /></main>`;
  }
  if (!session.user) return html`<p class="boot">Loading houston…</p>`;
  if (path === '/') {
    navigate('/incidents', { replace: true });
    return null;
  }
  const m = match(path);
  const Page = m ? m.page : NotFound;
  return html`<${Shell} path=${path}><${Page} key=${path} path=${path} ...${m ? m.params : {}} /></${Shell}>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the "Loading" placeholder of the HTML
render(html`<${App} />`, root);
