// An independent verifier of houston's outbound webhook signatures, written with Node's own
// `crypto` (no npm packages) from the wire format in src/notify/README.md, not from houston's
// code. Used as a webhook receiver by tests/e2e/webhook_verify_test.py.
//
//   node webhook_verify.mjs '{"secrets": {"/path": "secret"}, "tolerance_s": 300,
//                             "clock_offset_s": 0}'
//
// Listens on 127.0.0.1 (a free port), prints {"port": N} as its first stdout line, then one JSON
// line per request: {"path", "ok", "reason", "id", "headers", "body_b64"}. A request is accepted
// (204) only when
//   - X-Houston-Signature is "v1=" + hex HMAC-SHA256(secret, raw body), and
//   - webhook-signature holds "v1," + base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.
//     <raw body>") (key: the base64-decoded part of a "whsec_" secret, else the secret's bytes),
//   - webhook-timestamp is within tolerance_s of this receiver's clock (shifted by
//     clock_offset_s, to stand for a receiver that gets the request later), and
//   - webhook-id was not accepted before (a replay inside the window);
// otherwise it answers 401 with the reason. MACs are compared with crypto.timingSafeEqual.
import crypto from 'node:crypto';
import http from 'node:http';

const config = JSON.parse(process.argv[2] || '{}');
const secrets = config.secrets || {};
const toleranceS = config.tolerance_s ?? 300;
const clockOffsetS = config.clock_offset_s ?? 0;
const seenIds = new Set();

function sameBytes(a, b) {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function standardKey(secret) {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64')
                                     : Buffer.from(secret, 'utf8');
}

// Returns "" when `req` (with its raw `body`) is authentic and fresh, else why not.
function verify(path, headers, body) {
  const secret = secrets[path];
  if (secret === undefined) return 'no secret configured for this path';

  const houston = headers['x-houston-signature'] || '';
  if (!houston.startsWith('v1=')) return 'X-Houston-Signature missing or not v1=';
  const wantHouston = crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest();
  if (!sameBytes(Buffer.from(houston.slice(3), 'hex'), wantHouston)) {
    return 'X-Houston-Signature does not match the body';
  }

  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const sigs = headers['webhook-signature'];
  if (!id || !ts || !sigs) return 'webhook-id, webhook-timestamp or webhook-signature missing';
  if (!/^[0-9]{1,12}$/.test(ts)) return 'webhook-timestamp is not a number of seconds';
  const signed = Buffer.concat([Buffer.from(`${id}.${ts}.`, 'utf8'), body]);
  const want = crypto.createHmac('sha256', standardKey(secret)).update(signed).digest();
  let matched = false;
  for (const entry of sigs.split(' ')) {
    const [version, b64] = entry.split(',', 2);
    if (version === 'v1' && b64 && sameBytes(Buffer.from(b64, 'base64'), want)) matched = true;
  }
  if (!matched) return 'webhook-signature does not match';
  // Only a signed timestamp is believed, so this check comes after the signature's.
  const now = Math.floor(Date.now() / 1000) + clockOffsetS;
  if (Math.abs(now - Number(ts)) > toleranceS) {
    return `webhook-timestamp ${ts} is outside the ${toleranceS} s tolerance (now ${now})`;
  }
  if (seenIds.has(id)) return `webhook-id ${id} was accepted before (replay)`;
  seenIds.add(id);
  return '';
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const reason = verify(req.url, req.headers, body);
    // The request as received, so that the test can replay it.
    process.stdout.write(JSON.stringify({path: req.url, ok: reason === '', reason,
                                         id: req.headers['webhook-id'] || null,
                                         headers: req.headers,
                                         body_b64: body.toString('base64')}) + '\n');
    res.statusCode = reason === '' ? 204 : 401;
    res.end(reason);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({port: server.address().port}) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
