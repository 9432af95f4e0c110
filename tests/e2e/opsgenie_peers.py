"""What the Opsgenie-compatible API's end-to-end tests share (opsgenie_alertmanager_test.py,
opsgenie_test.py): the org, with opsgenie integrations whose keys look like Opsgenie's (UUIDs),
and a paging path to a webhook collector."""

import base64

OG_KEY = "5d1d3e0e-8a3c-4a8e-9b55-0f3a2f7f6c11"        # service checkout, custom priorities
OG_KEY_PAYMENTS = "og-payments-key-0002"              # service payments
OG_KEY_LIMITED = "og-limited-key-0003"                # 1 request/s
EVENTS_KEY = "0123456789abcdef0123456789abcdef"       # a PagerDuty key: not an Opsgenie one
HB_NIGHTLY = "hb-checkout-nightly"                    # heartbeat "nightly-backup" on checkout
HB_PAYMENTS_NIGHTLY = "hb-payments-nightly"           # the same name on payments
HB_SEARCH_ONLY = "hb-search-reindex"                  # a name found on one service only


def opsgenie_org(hook_url):
    """Alice is paged through a webhook at `hook_url` (a WebhookCollector URL)."""
    return f"""# houston e2e org for the Opsgenie-compatible API (tests/e2e/opsgenie_peers.py)
users:
  - id: alice
    name: Alice Example
    email: alice@example.com
    timezone: UTC
    contact_methods:
      - {{id: alice-hook, type: webhook, url: "{hook_url}"}}
    notification_rules:
      - {{contact_method: alice-hook, delay_minutes: 0}}
teams:
  - {{id: ops, name: Ops, members: [alice]}}
escalation_policies:
  - id: ops-ep
    name: Ops escalation
    steps:
      - {{delay_minutes: 0, targets: [{{user: alice}}]}}
services:
  - id: checkout
    name: Checkout API
    team: ops
    escalation_policy: ops-ep
    integrations:
      - type: opsgenie
        key: "{OG_KEY}"
        name: Opsgenie senders
        priorities: {{P1: critical, P2: critical, P5: warning}}
      - {{type: events_v2, key: "{EVENTS_KEY}"}}
      - {{type: heartbeat, key: "{HB_NIGHTLY}", name: nightly-backup, interval_minutes: 60}}
  - id: payments
    name: Payments API
    team: ops
    escalation_policy: ops-ep
    integrations:
      - {{type: opsgenie, key: "{OG_KEY_PAYMENTS}"}}
      - {{type: heartbeat, key: "{HB_PAYMENTS_NIGHTLY}", name: nightly-backup, interval_minutes: 60}}
  - id: search
    name: Search
    team: ops
    escalation_policy: ops-ep
    integrations:
      - {{type: heartbeat, key: "{HB_SEARCH_ONLY}", name: reindex, interval_minutes: 60}}
  - id: limited
    name: Rate-limited
    team: ops
    escalation_policy: ops-ep
    integrations:
      - {{type: opsgenie, key: "{OG_KEY_LIMITED}", rate_limit_per_second: 1}}
"""


def genie(key=OG_KEY):
    return {"Authorization": f"GenieKey {key}"}


def basic(key, user=""):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()}
