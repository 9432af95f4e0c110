// Sends PagerDuty events to houston through the official @pagerduty/pdjs client.
// Usage: node pdjs_send.mjs <server host:port> <steps.json>
//   steps.json: [{"call": "event" | "change", "data": {...event body...}}, ...]
// Prints one JSON line per step: {"status": <HTTP status>, "ok": bool, "data": <parsed body>}
// or {"error": "<message>", "code": "<error code>"} when pdjs throws (e.g. TLS failure).
// pdjs only speaks HTTPS and builds the URL as https://<server>/v2/enqueue (or
// /v2/change/enqueue for change()); `server` is its documented override of
// events.pagerduty.com. TLS is verified: trust houston's certificate with NODE_EXTRA_CA_CERTS.
import { readFileSync } from 'node:fs';
import pdjs from '@pagerduty/pdjs';

const [server, stepsFile] = process.argv.slice(2);
if (!server || !stepsFile) {
  console.error('usage: node pdjs_send.mjs <host:port> <steps.json>');
  process.exit(2);
}
const steps = JSON.parse(readFileSync(stepsFile, 'utf8'));

for (const step of steps) {
  const fn = step.call === 'change' ? pdjs.change : pdjs.event;
  try {
    const res = await fn({ server, data: step.data, requestTimeout: 15000 });
    console.log(JSON.stringify({ status: res.status, ok: res.ok, data: res.data }));
  } catch (e) {
    const cause = e && e.cause ? e.cause : e;
    console.log(JSON.stringify({
      error: String(e && e.message ? e.message : e),
      code: String((e && e.code) || (cause && cause.code) || ''),
    }));
  }
}
// pdjs leaves its request-timeout timer running when a request fails (e.g. a TLS error),
// which would keep node alive for requestTimeout ms: exit explicitly once done.
process.exit(0);
