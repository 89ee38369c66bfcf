"""Meta's official Python SDK (facebook-business) against the convctl emulator, unmodified.

The only change from talking to Meta is the API base: `FacebookSession.GRAPH`, the SDK's
documented class attribute "the graph url without an ending forward-slash", points at the
emulator. Everything else -- access_token and appsecret_proof in the query string, trailing
slashes, form bodies, batch requests at the graph root, Conversions API events as JSON strings
-- is what the SDK sends on its own.

Usage: sdk_conformance.py BASE_URL TOKEN APP_SECRET CAP
(run by tests/python/run.sh, which starts `convctl emulator --token TOKEN --app-secret
APP_SECRET --cap CAP`). Exits non-zero on the first failed check.
"""

import json
import sys
import time
import urllib.request

from facebook_business.api import FacebookAdsApi, FacebookSession
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.customconversion import CustomConversion
from facebook_business.adobjects.customconversionstatsresult import CustomConversionStatsResult
from facebook_business.adobjects.serverside.action_source import ActionSource
from facebook_business.adobjects.serverside.custom_data import CustomData
from facebook_business.adobjects.serverside.event import Event
from facebook_business.adobjects.serverside.event_request import EventRequest
from facebook_business.adobjects.serverside.user_data import UserData
from facebook_business.exceptions import FacebookRequestError

BASE, TOKEN, SECRET, CAP = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ACCOUNT = "act_1234567890"
PIXEL = "998877665544"
RULE = {"and": [{"event": {"eq": "Purchase"}}, {"value": {"gt": 100}}]}
CHECKS = 0


def check(condition, what):
    global CHECKS
    if not condition:
        raise SystemExit("FAILED: " + what)
    CHECKS += 1


def expect_error(call, code, subcode=None, what=""):
    try:
        call()
    except FacebookRequestError as e:
        check(e.api_error_code() == code, f"{what}: code {e.api_error_code()} != {code}: {e.body()}")
        if subcode is not None:
            check(e.api_error_subcode() == subcode, f"{what}: subcode {e.api_error_subcode()} != {subcode}")
        check(bool(e.get_message()) and bool(e.api_error_message()), f"{what}: has a message")
        return e
    raise SystemExit(f"FAILED: {what}: no FacebookRequestError")


def emulator_json(route, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{BASE}/_emulator/{route}", data=data,
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request) as r:
        return json.load(r)


FacebookSession.GRAPH = BASE
api = FacebookAdsApi.init(app_secret=SECRET, access_token=TOKEN, api_version="v26.0", crash_log=False)
account = AdAccount(ACCOUNT)

# Create (the SDK JSON-encodes the rule dict into the form body).
created = account.create_custom_conversion(params={
    CustomConversion.Field.name: "High value purchase",
    CustomConversion.Field.rule: json.dumps(RULE),
    CustomConversion.Field.event_source_id: PIXEL,
    CustomConversion.Field.custom_event_type: CustomConversion.CustomEventType.purchase,
    CustomConversion.Field.default_conversion_value: 12,
    CustomConversion.Field.description: "Purchases over 100",
})
cc_id = created[CustomConversion.Field.id]
check(isinstance(cc_id, str) and cc_id.isdigit(), f"id is a numeric string: {cc_id!r}")

for i in range(20):
    account.create_custom_conversion(params={"name": f"page {i:02}", "rule": json.dumps({"url": {"i_contains": f"/p{i}"}}),
                                             "event_source_id": PIXEL})

# List with fields through the SDK's cursor (limit 7: several pages, summary=true).
fields = [CustomConversion.Field.name, CustomConversion.Field.rule, CustomConversion.Field.custom_event_type,
          CustomConversion.Field.data_sources, CustomConversion.Field.creation_time,
          CustomConversion.Field.default_conversion_value, CustomConversion.Field.is_archived]
cursor = account.get_custom_conversions(fields=fields, params={"limit": 7})
listed = list(cursor)
check(len(listed) == 21, f"listed {len(listed)} of 21 through paging")
check(cursor.total() == 21, f"summary total_count: {cursor.total()}")
first = next(c for c in listed if c["id"] == cc_id)
check(isinstance(first["rule"], str), "rule is a JSON string")
check(json.loads(first["rule"]) == RULE, f"rule means the same: {first['rule']}")
check(first["custom_event_type"] == "PURCHASE", "custom_event_type")
check(first["data_sources"][0]["id"] == PIXEL, "data_sources carries the pixel")
check(first["default_conversion_value"] == 12, "default_conversion_value")
check(first["is_archived"] is False, "is_archived")

# Read, update (name/description/value), refused update of another field.
node = CustomConversion(cc_id).api_get(fields=[CustomConversion.Field.name, CustomConversion.Field.description])
check(node["name"] == "High value purchase", "read the node")
CustomConversion(cc_id).api_update(params={"name": "Renamed", "default_conversion_value": 20})
node = CustomConversion(cc_id).api_get(fields=["name", "default_conversion_value"])
check(node["name"] == "Renamed" and node["default_conversion_value"] == 20, "update applied")
expect_error(lambda: CustomConversion(cc_id).api_update(params={"rule": json.dumps({"url": {"eq": "x"}})}), 100,
             what="update of rule is refused")

# Errors surface as FacebookRequestError with code and subcode.
expect_error(lambda: account.create_custom_conversion(params={"name": "no rule"}), 100, what="missing rule")
expect_error(lambda: CustomConversion("1").api_get(fields=["name"]), 100, 33, what="unknown id")
bad_api = FacebookAdsApi(FacebookSession(access_token="not-a-token", app_secret=SECRET), api_version="v26.0")
expect_error(lambda: AdAccount(ACCOUNT, api=bad_api).get_custom_conversions(fields=["name"]).load_next_page(),
             190, what="bad token")
wrong_secret = FacebookAdsApi(FacebookSession(access_token=TOKEN, app_secret="wrong"), api_version="v26.0")
e = expect_error(lambda: AdAccount(ACCOUNT, api=wrong_secret).get_custom_conversions(fields=["name"]).load_next_page(),
                 100, what="wrong appsecret_proof")
check("appsecret_proof" in e.api_error_message(), "proof message")
# The version calendar, judged on the day run.sh gives the emulator (2026-12-06): v25.0 (the
# SDK 25.x line) is served until its published expiry, 2027-02-23; v24.0 expired 2026-11-10.
previous = FacebookAdsApi(FacebookSession(access_token=TOKEN, app_secret=SECRET), api_version="v25.0")
check(AdAccount(ACCOUNT, api=previous).get_custom_conversions(fields=["name"]).load_next_page() is not None,
      "v25.0 served")
old = FacebookAdsApi(FacebookSession(access_token=TOKEN, app_secret=SECRET), api_version="v24.0")
expect_error(lambda: AdAccount(ACCOUNT, api=old).get_custom_conversions(fields=["name"]).load_next_page(),
             2635, what="retired version")

# Delete, then the id is gone.
victim = listed[-1]["id"]
CustomConversion(victim).api_delete()
expect_error(lambda: CustomConversion(victim).api_get(fields=["name"]), 100, 33, what="deleted id")

# Batch: creates, a read and a failing request in one call to the graph root.
batch = api.new_batch()
results, failures = [], []
for i in range(3):
    account.create_custom_conversion(
        params={"name": f"batched {i}", "rule": json.dumps({"url": {"i_contains": f"/b{i}"}})},
        batch=batch, success=lambda r: results.append(r.json()), failure=lambda r: failures.append(r))
CustomConversion(cc_id).api_get(fields=["name"], batch=batch, success=lambda r: results.append(r.json()),
                                failure=lambda r: failures.append(r))
CustomConversion("2").api_get(fields=["name"], batch=batch, success=lambda r: results.append(r.json()),
                              failure=lambda r: failures.append(r))
check(batch.execute() is None, "batch fully executed")
check(len(results) == 4 and all("id" in r for r in results), f"batch results: {results}")
check(results[3]["name"] == "Renamed", "batched read")
check(len(failures) == 1, f"one failed batch request: {failures}")
err = failures[0].error()
check(isinstance(err, FacebookRequestError) and err.api_error_code() == 100 and err.api_error_subcode() == 33,
      "batched failure is a FacebookRequestError 100/33")

# The 100-per-account cap (here --cap): code 100, subcode 1760005, "limit" in the message.
count = len(list(account.get_custom_conversions(fields=["id"], params={"limit": 100})))
for i in range(CAP - count):
    account.create_custom_conversion(params={"name": f"fill {i}", "rule": json.dumps({"url": {"i_contains": f"fill-{i}"}})})
e = expect_error(lambda: account.create_custom_conversion(params={"name": "over", "rule": json.dumps(RULE)}), 100, 1760005,
                 what="cap reached")
check("limit" in e.api_error_message(), "cap message mentions the limit")

# Conversions API: events go as JSON strings inside `data`; matching conversions fire.
now = int(time.time())
events = [Event(event_name="Purchase", event_time=now - 60, event_source_url="https://shop.example/thankyou.html",
                action_source=ActionSource.WEBSITE, event_id="order-1",
                user_data=UserData(email="joe@example.com", client_user_agent="Mozilla/5.0"),
                custom_data=CustomData(value=150.0, currency="usd"))]
response = EventRequest(events=events, pixel_id=PIXEL, test_event_code="TEST123").execute()
check(response.events_received == 1, f"events_received: {response}")
node = CustomConversion(cc_id).api_get(fields=["first_fired_time", "last_fired_time"])
check("last_fired_time" in node and node["last_fired_time"].endswith("+0000"), f"fired: {node}")
# The stats edge: the matched event, as CustomConversionStatsResult objects (aggregation,
# timestamp, data), through the SDK's own get_stats.
results = list(CustomConversion(cc_id).get_stats(params={"aggregation": "count", "start_time": now - 86400,
                                                         "end_time": now + 86400}))
check(len(results) == 1 and type(results[0]).__name__ == "CustomConversionStatsResult", f"stats: {results}")
check(results[0]["aggregation"] == "count" and results[0]["timestamp"].endswith("+0000"), f"stats: {results}")
check(sum(item["count"] for item in results[0]["data"]) == 1, f"one matched event: {results}")
# A conversion seeded with 28 days of counts (some days without events) reads back through
# get_stats as one CustomConversionStatsResult per day with events, oldest first, over two pages
# (25 a page) that the SDK's cursor follows.
STATS_ROUTE = "GET /{id}/stats"
day0 = 1_794_182_400  # 2026-11-09T00:00:00Z
daily = {time.strftime("%Y-%m-%d", time.gmtime(day0 + i * 86400)): 0 if i % 13 == 4 else (i * 7) % 13 + 1
         for i in range(28)}
with_events = [(day, n) for day, n in sorted(daily.items()) if n > 0]
counted_id = emulator_json("conversions", [{
    "account": "act_555", "name": "Daily counts", "custom_event_type": "PURCHASE", "event_source_id": PIXEL,
    "rule": {"event": {"eq": "Purchase"}}, "daily_counts": daily}])["ids"][0]
calls_before = emulator_json("stats")["by_route"].get(STATS_ROUTE, 0)
read = list(CustomConversion(counted_id).get_stats(
    fields=[CustomConversionStatsResult.Field.aggregation, CustomConversionStatsResult.Field.data,
            CustomConversionStatsResult.Field.timestamp],
    params={"aggregation": CustomConversionStatsResult.Aggregation.count, "start_time": day0,
            "end_time": day0 + 28 * 86400}))
calls = emulator_json("stats")["by_route"].get(STATS_ROUTE, 0) - calls_before
check(calls == 2, f"stats over two pages: {calls} requests")
check(all(isinstance(r, CustomConversionStatsResult) for r in read), "stats are CustomConversionStatsResult objects")
check(len(read) == len(with_events), f"one result per day with events: {len(read)} != {len(with_events)}")
for r, (day, n) in zip(read, with_events):
    check(r[CustomConversionStatsResult.Field.aggregation] == "count", f"aggregation: {r}")
    check(r[CustomConversionStatsResult.Field.timestamp] == f"{day}T00:00:00+0000", f"timestamp of {day}: {r}")
    check(r[CustomConversionStatsResult.Field.data] == [{"count": n}], f"{day}: {r} has not [{{'count': {n}}}]")
stale = [Event(event_name="Purchase", event_time=now - 8 * 86400, action_source=ActionSource.WEBSITE,
               event_source_url="https://x", user_data=UserData(email="a@b.c", client_user_agent="ua"))]
expect_error(lambda: EventRequest(events=stale, pixel_id=PIXEL).execute(), 100, 2804003, what="event too old")

stats = emulator_json("stats")
check(stats["auth"]["query"] > 0 and stats["auth"]["header"] == 0, f"the SDK sends the token in the query: {stats}")
check(stats["batches"] == 1, "one batch")
print(f"python SDK conformance: {CHECKS} checks passed against {BASE} "
      f"({stats['requests']} requests, {stats['writes']} writes)")
