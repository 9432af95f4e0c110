// Drives the official npm `opsgenie-sdk` (0.5.1, pinned in package.json) against houston's
// Opsgenie-compatible API, for tests/e2e/opsgenie_sdk_test.py.
//
// Usage: node opsgenie_sdk_send.js <base URL> <api key> <steps.json>
// Each step is {"op": ..., ...}; one JSON line is printed per step:
//   {"op", "ok": bool, "result": <the SDK's result>, "error": <the SDK's error>}.
// Ops: create {data}; acknowledge|unacknowledge|close|addNote {identifier, data};
//      get {identifier}; getRequestStatus {requestId}; ping {name};
//      pollRequestStatus {requestId}: getRequestStatus until data.success (as Opsgenie's own
//      samples do, for at most 50 tries 100 ms apart); the result has "tries".
// The SDK's own retries (5 attempts, 5 s apart, on 5xx and network errors) are left on: a test
// that needed one would show it in its time.
"use strict";

const fs = require("fs");
const opsgenie = require("opsgenie-sdk");

const [base, apiKey, stepsFile] = process.argv.slice(2);
opsgenie.configure({host: base, api_key: apiKey});
const steps = JSON.parse(fs.readFileSync(stepsFile, "utf8"));

function call(step) {
  return new Promise((resolve) => {
    const done = (error, result) => resolve({op: step.op, ok: !error, result, error});
    const a = opsgenie.alertV2;
    switch (step.op) {
      case "create":
        return a.create(step.data, done);
      case "acknowledge":
      case "unacknowledge":
      case "close":
      case "addNote":
        return a[step.op](step.identifier, step.data || {}, done);
      case "get":
        return a.get(step.identifier, done);
      case "getRequestStatus":
        return a.getRequestStatus(step.requestId, done);
      case "ping":
        // The two-argument form (the four-argument one passes its arguments one place off),
        // with an identifier object: given a plain string, the SDK drops the "/ping".
        return opsgenie.heartbeat.ping({identifier: step.name}, done);
      default:
        return resolve({op: step.op, ok: false, error: `unknown op ${step.op}`});
    }
  });
}

async function poll(step) {
  for (let tries = 1; ; ++tries) {
    const r = await call({op: "getRequestStatus", requestId: step.requestId});
    if ((r.ok && r.result.data && r.result.data.success) || tries >= 50) {
      return {...r, op: step.op, tries};
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

(async () => {
  for (const step of steps) {
    const r = step.op === "pollRequestStatus" ? await poll(step) : await call(step);
    process.stdout.write(JSON.stringify(r) + "\n");
  }
})();
