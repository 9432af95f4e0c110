// Signing in (and where a signed-out browser lands), and the help page: pointing monitoring and
// the command line at this server.
import { html, useState, useRef, useEffect, api, navigate, signedIn, ErrorBox, PageHeader } from './lib.js';

// Only paths of this UI: a sign-in link must not send the browser elsewhere after signing in.
function safeNext(next) {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/signin')
    ? next
    : '/incidents';
}

export function SignInPage() {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const userRef = useRef(null);
  const next = safeNext(new URLSearchParams(location.search).get('next'));
  useEffect(() => {
    document.title = 'Sign in · houston';
    userRef.current && userRef.current.focus();
  }, []);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await api('POST', '/api/v1/session', { user, password });
      signedIn(s);
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`<main class="narrow" id="main">
    <h1>Sign in to houston</h1>
    <form onSubmit=${submit} aria-label="Sign in">
      <label for="user">User</label>
      <input id="user" ref=${userRef} name="user" autocomplete="username" required
        value=${user} onInput=${(e) => setUser(e.target.value)} />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required
        value=${password} onInput=${(e) => setPassword(e.target.value)} />
      <${ErrorBox} error=${error} />
      <p><button class="primary big" type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button></p>
    </form>
    <p class="muted small">Your user is your id in the org (org.yaml). An admin sets a password with${' '}
      <code>houston user set-password</code>. The public status page is at <a href="/status">/status</a>.</p>
  </main>`;
}

export function HelpPage() {
  const base = location.origin;
  return html`<${PageHeader} title="Help" />
    <h2>Send alerts here</h2>
    <p>Each integration key belongs to a service (see <a href="/services">Services</a>; admins see the keys).</p>
    <ul>
      <li>PagerDuty Events API v2 senders (Grafana, Sentry, Datadog, @pagerduty/pdjs): use <code>${base}/v2/enqueue</code>${' '}
        as the events URL; the routing key is the integration key.</li>
      <li>Prometheus Alertmanager: a receiver with <code>webhook_configs: [{url: "${base}/integrations/alertmanager/KEY"}]</code>,${' '}
        or <code>pagerduty_configs: [{routing_key: KEY, url: "${base}/v2/enqueue"}]</code>.</li>
      <li>Grafana: <code>${base}/integrations/grafana/KEY</code>; any JSON: <code>${base}/integrations/generic/KEY</code>;${' '}
        heartbeats: <code>${base}/integrations/heartbeat/KEY</code>; deploys and changes: <code>${base}/v2/change/enqueue</code>.</li>
    </ul>
    <h2>The command line</h2>
    <pre>${`export HOUSTON_URL=${base} HOUSTON_TOKEN=<token>\nhouston incident list`}</pre>
    <h2>Here</h2>
    <ul>
      <li><a href="/status">/status</a>: the public status page (<a href="/status.json">JSON</a>,${' '}
        <a href="/status/feed.atom">Atom</a>, <a href="/status/feed.rss">RSS</a>)</li>
      <li><a href="/healthz">/healthz</a> and <a href="/readyz">/readyz</a>: probes; <a href="/metrics">/metrics</a>: Prometheus metrics</li>
      <li><a href="/api/v1">/api/v1</a>: the REST API (<code>${'Authorization: Bearer <token>'}</code>)</li>
    </ul>
    <p class="muted">In the houston source tree: README.md, docs/config.md (every key of org.yaml), docs/ui.md.</p>`;
}
