// Meta's official Node.js SDK (facebook-nodejs-business-sdk) against the convctl emulator, unmodified.
//
// The only changes from talking to Meta are the SDK's static getters `FacebookAdsApi.GRAPH` (the
// host) and `FacebookAdsApi.VERSION`, which `init` offers no option for: they are redefined with
// Object.defineProperty. Everything else -- access_token in the query string of every request, JSON
// bodies, an object's own `id` sent back in update bodies and delete queries, `GET /vNN.N/?ids=...`,
// batches whose bodies are not URL-encoded, Conversions API events as JSON objects -- is what the
// SDK sends on its own. crash_log is off (it would post crash reports to Meta).
//
// Usage: node sdk_conformance.js BASE_URL TOKEN (run by tests/node/run.sh, which starts
// `convctl emulator --token TOKEN`). Exits non-zero on the first failed check.
'use strict';

const http = require('http');
const bizSdk = require('facebook-nodejs-business-sdk');
const {FacebookAdsApi, FacebookAdsApiBatch, AdAccount, CustomConversion} = bizSdk;
const {EventRequest, ServerEvent, UserData, CustomData} = bizSdk;

const [BASE, TOKEN] = process.argv.slice(2);
const ACCOUNT = 'act_1234567890';
const PIXEL = '998877665544';
const RULE = {and: [{event: {eq: 'Purchase'}}, {value: {gt: 100}}]};
let CHECKS = 0;

function check(condition, what) {
  if (!condition) {
    console.error('FAILED: ' + what);
    process.exit(1);
  }
  CHECKS += 1;
}

async function expectError(call, code, subcode, what) {
  try {
    await call();
  } catch (e) {
    check(e.name === 'FacebookRequestError', `${what}: a FacebookRequestError, not ${e.name}: ${e.message}`);
    const body = e.response || {};
    check(body.code === code, `${what}: code ${body.code} != ${code}: ${JSON.stringify(body)}`);
    if (subcode !== null) {
      check(body.error_subcode === subcode, `${what}: subcode ${body.error_subcode} != ${subcode}`);
    }
    check(Boolean(e.message), `${what}: has a message`);
    return e;
  }
  check(false, `${what}: no error`);
}

function emulatorJson(route) {
  return new Promise((resolve, reject) => {
    http.get(`${BASE}/_emulator/${route}`, res => {
      let text = '';
      res.on('data', chunk => (text += chunk));
      res.on('end', () => resolve(JSON.parse(text)));
    }).on('error', reject);
  });
}

function emulatorPost(route, body) {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(`${BASE}/_emulator/${route}`,
      {method: 'POST', headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)}}, res => {
        let answer = '';
        res.on('data', chunk => (answer += chunk));
        res.on('end', () => resolve(JSON.parse(answer)));
      });
    req.on('error', reject);
    req.end(text);
  });
}

Object.defineProperty(FacebookAdsApi, 'GRAPH', {get: () => BASE});
Object.defineProperty(FacebookAdsApi, 'VERSION', {get: () => 'v26.0'});

async function main() {
  const api = FacebookAdsApi.init(TOKEN, 'en_US', false);
  const account = new AdAccount(ACCOUNT);

  // Create: the SDK posts JSON, with the account's own id ("id": "act_...") in the body.
  const created = await account.createCustomConversion([], {
    name: 'High value purchase',
    rule: JSON.stringify(RULE),
    event_source_id: PIXEL,
    custom_event_type: 'PURCHASE',
    default_conversion_value: 12,
    description: 'Purchases over 100',
  });
  const ccId = created.id;
  check(typeof ccId === 'string' && /^[0-9]+$/.test(ccId), `id is a numeric string: ${ccId}`);
  for (let i = 0; i < 20; i++) {
    await account.createCustomConversion([], {
      name: `page ${String(i).padStart(2, '0')}`,
      rule: JSON.stringify({url: {i_contains: `/p${i}`}}),
      event_source_id: PIXEL,
    });
  }

  // List through the SDK's cursor: limit 7, several pages followed by their `next` URLs.
  const fields = ['name', 'rule', 'custom_event_type', 'data_sources', 'default_conversion_value', 'is_archived'];
  let cursor = await account.getCustomConversions(fields, {limit: 7});
  const listed = [...cursor];
  let pages = 1;
  while (cursor.hasNext()) {
    cursor = await cursor.next();
    listed.push(...cursor);
    pages += 1;
  }
  check(listed.length === 21, `listed ${listed.length} of 21 through paging`);
  check(pages >= 3, `several pages: ${pages}`);
  const first = listed.find(c => c.id === ccId);
  check(first && typeof first.rule === 'string', 'rule is a JSON string');
  check(JSON.stringify(JSON.parse(first.rule)) === JSON.stringify(RULE) ||
        JSON.parse(first.rule).and.length === 2, `rule means the same: ${first.rule}`);
  check(first.custom_event_type === 'PURCHASE', 'custom_event_type');
  check(first.data_sources[0].id === PIXEL, 'data_sources carries the pixel');
  check(first.default_conversion_value === 12, 'default_conversion_value');
  check(first.is_archived === false, 'is_archived');

  // Read a node.
  const node = await new CustomConversion(ccId).get(['name', 'description']);
  check(node.name === 'High value purchase' && node.description === 'Purchases over 100', 'read the node');

  // Update a fresh object (`update(fields, params)`): the SDK sends {"name": ..., "id": "<the same
  // id>"}.
  const updated = await new CustomConversion(ccId).update([], {name: 'Renamed', default_conversion_value: 20});
  check(updated && updated.success === true, `update with the object's own id: ${JSON.stringify(updated)}`);
  const again = await new CustomConversion(ccId).get(['name', 'default_conversion_value']);
  check(again.name === 'Renamed' && again.default_conversion_value === 20, 'update applied');
  await expectError(() => new CustomConversion(ccId).update([], {rule: JSON.stringify({url: {eq: 'x'}})}), 100, null,
    'update of rule is refused');

  // Multi-object read: GET /v26.0/?ids=a,b&fields=name (answer keyed by id).
  const second = listed.find(c => c.id !== ccId).id;
  const byIds = await CustomConversion.getByIds([ccId, second], ['name']);
  check(byIds.length === 2, `getByIds gave ${byIds.length} objects`);
  // The SDK builds each object from the whole entry (`new That(data)`): the entry is its `id`.
  const names = byIds.map(o => (o.id && o.id.name) || o.name).sort();
  check(names.includes('Renamed'), `getByIds names: ${JSON.stringify(names)}`);
  const raw = await api.call('GET', [''], {ids: `${ccId},${second}`, fields: 'name'});
  check(raw[ccId] && raw[ccId].id === ccId && raw[ccId].name === 'Renamed' && raw[second], `keyed by id: ${JSON.stringify(raw)}`);

  // Errors surface as FacebookRequestError with code and subcode.
  await expectError(() => account.createCustomConversion([], {name: 'no rule'}), 100, null, 'missing rule');
  await expectError(() => new CustomConversion('1').get(['name']), 100, 33, 'unknown id');
  const badApi = new FacebookAdsApi('not-a-token', 'en_US', false);
  await expectError(() => new AdAccount(ACCOUNT, {}, null, badApi).getCustomConversions(['name']), 190, null, 'bad token');

  // Delete a fresh object: the SDK sends DELETE /<id>?id=<id>.
  const victim = listed[listed.length - 1].id;
  const deleted = await new CustomConversion(victim).delete([]);
  check(deleted && deleted.success === true, `delete with ?id=: ${JSON.stringify(deleted)}`);
  await expectError(() => new CustomConversion(victim).get(['name']), 100, 33, 'deleted id');

  // Batch at the graph root: `batch` a JSON array in a JSON body, entry bodies `key=value&...`.
  const batch = new FacebookAdsApiBatch(api);
  const results = [];
  const failures = [];
  for (let i = 0; i < 3; i++) {
    batch.add('POST', `${ACCOUNT}/customconversions`, {name: `batched ${i}`, rule: JSON.stringify({url: {i_contains: `/b${i}`}})},
      null, r => results.push(r), r => failures.push(r));
  }
  batch.add('GET', ccId, {fields: 'name'}, null, r => results.push(r), r => failures.push(r));
  batch.add('GET', '2', {fields: 'name'}, null, r => results.push(r), r => failures.push(r));
  const left = await batch.execute();
  check(left === null, 'batch fully executed (no entry left to retry)');
  check(results.length === 4, `batch results: ${results.length}`);
  check(results.slice(0, 3).every(r => /^[0-9]+$/.test(r.body.id)), 'batched creates have ids');
  check(results[3].body.name === 'Renamed', 'batched read');
  check(failures.length === 1 && failures[0].body.error.code === 100 && failures[0].error.name === 'FacebookRequestError',
    'one failed batch request: a FacebookRequestError 100');

  // Conversions API: events as JSON objects in a JSON body; the matching conversion fires.
  const now = Math.floor(Date.now() / 1000);
  const event = new ServerEvent()
    .setEventName('Purchase')
    .setEventTime(now - 60)
    .setEventSourceUrl('https://shop.example/thankyou.html')
    .setActionSource('website')
    .setEventId('order-1')
    .setUserData(new UserData().setEmail('joe@example.com').setClientUserAgent('Mozilla/5.0'))
    .setCustomData(new CustomData().setValue(150.0).setCurrency('usd'));
  const response = await new EventRequest(TOKEN, PIXEL).setEvents([event]).setTestEventCode('TEST123').execute();
  check(response.events_received === 1, `events_received: ${JSON.stringify(response)}`);
  const fired = await new CustomConversion(ccId).get(['last_fired_time']);
  check(typeof fired.last_fired_time === 'string' && fired.last_fired_time.endsWith('+0000'), `fired: ${fired.last_fired_time}`);

  // The stats edge through the SDK's own getStats: a conversion seeded with 28 days of counts
  // (some days without events) reads back as CustomConversionStatsResult objects, one per day with
  // events, oldest first, over two pages (25 a page) that the cursor follows.
  const daily = {};
  const day0 = Date.UTC(2026, 10, 9) / 1000;
  for (let i = 0; i < 28; i++) {
    const day = new Date((day0 + i * 86400) * 1000).toISOString().slice(0, 10);
    daily[day] = i % 13 === 4 ? 0 : (i * 7) % 13 + 1;
  }
  const withEvents = Object.entries(daily).filter(([, n]) => n > 0);
  const seeded = await emulatorPost('conversions', [{
    account: ACCOUNT, name: 'Daily counts', custom_event_type: 'PURCHASE', event_source_id: PIXEL,
    rule: {event: {eq: 'Purchase'}}, daily_counts: daily,
  }]);
  const countedId = seeded.ids[0];
  const statFields = Object.values(bizSdk.CustomConversionStatsResult.Fields);
  let page = await new CustomConversion(countedId).getStats(statFields, {
    aggregation: bizSdk.CustomConversionStatsResult.Aggregation.count,
    start_time: day0,
    end_time: day0 + 28 * 86400,
  });
  const read = [...page];
  let statPages = 1;
  while (page.hasNext()) {
    page = await page.next();
    read.push(...page);
    statPages += 1;
  }
  check(statPages === 2, `stats over two pages: ${statPages}`);
  check(read.every(r => r instanceof bizSdk.CustomConversionStatsResult), 'stats are CustomConversionStatsResult objects');
  check(read.length === withEvents.length, `one result per day with events: ${read.length} != ${withEvents.length}`);
  read.forEach((r, i) => {
    const [day, n] = withEvents[i];
    check(r.aggregation === 'count', `aggregation: ${JSON.stringify(r._data)}`);
    check(r.timestamp === `${day}T00:00:00+0000`, `timestamp ${r.timestamp} is the day's start, ${day}`);
    check(Array.isArray(r.data) && r.data.length === 1 && r.data[0].count === n,
      `${day}: ${JSON.stringify(r.data)} != [{"count": ${n}}]`);
  });
  const lastWeek = await new CustomConversion(countedId).getStats([], {
    aggregation: 'count', start_time: `${withEvents[withEvents.length - 7][0]}T00:00:00+0000`, end_time: day0 + 28 * 86400,
  });
  check(lastWeek.length === 7 && !lastWeek.hasNext(), `start_time as a datetime: ${lastWeek.length} days`);
  await expectError(() => new CustomConversion(countedId).getStats([], {aggregation: 'count', start_time: day0 + 86400, end_time: day0}),
    100, null, 'stats: start_time after end_time');

  const stats = await emulatorJson('stats');
  check(stats.auth.query > 0 && stats.auth.header === 0, `the SDK sends the token in the query: ${JSON.stringify(stats.auth)}`);
  check(stats.batches === 1, 'one batch');
  console.log(`node SDK conformance: ${CHECKS} checks passed against ${BASE} (${stats.requests} requests, ${stats.writes} writes)`);
}

main().catch(e => {
  console.error('FAILED: ' + (e && e.stack ? e.stack : e));
  if (e && e.response) console.error(JSON.stringify(e.response));
  process.exit(1);
});
