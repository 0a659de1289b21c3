// browser.js - drives the console in headless Chromium (puppeteer-core, the system
// browser): loads each page, runs the classic hourly-high query from the editor, checks
// the rows shown against the command line's answer, draws the chart, takes screenshots.
//
//   CONSOLE_URL, CHROMIUM, SHOTS (folder for console-*.png), EXPECTED (CSV of the
//   hourly-high answer from `finstream query`), NODE_PATH (where puppeteer-core is)
'use strict';
const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');

const url = process.env.CONSOLE_URL;
const shots = process.env.SHOTS;
const timeout = 60000;

function fail(msg) { console.error('FAIL: ' + msg); process.exit(1); }
function parseCsv(text) {
  return text.trim().split('\n').map(line => line.slice(1, -1).split('","'));
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'],
  });
  const errors = [];
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(timeout);
    await page.setViewport({width: 1360, height: 900});
    page.on('pageerror', e => errors.push(e.message));
    page.on('console', m => { if (m.type() === 'error') errors.push(m.text() + ' ' + (m.location().url || '')); });
    const shot = async name => {
      if (!shots) return;
      await page.screenshot({path: path.join(shots, `console-${name}.png`), fullPage: false});
    };
    const t0 = Date.now();
    await page.goto(url + '#/overview', {waitUntil: 'load'});
    await page.waitForFunction(() => /stocks/.test(document.querySelector('#ov-streams')?.textContent || ''));
    await page.waitForFunction(() => /live/.test(document.querySelector('#live')?.textContent || ''));
    console.log(`overview: shown in ${Date.now() - t0} ms`);
    const ov = await page.$eval('main', m => m.textContent);
    if (!/lake/.test(ov) || !/classic/.test(ov)) fail('overview lacks the delivery or the collector: ' + ov.slice(0, 400));
    await shot('overview');

    await page.goto(url + '#/stream/stocks', {waitUntil: 'load'});
    await page.waitForSelector('#sd-lineage svg');
    await page.waitForFunction(() => document.querySelectorAll('#sd-tail tr').length > 0);
    const shards = await page.$$eval('#sd-shards tr', r => r.length - 1);
    if (shards !== 2) fail(`stream page shows ${shards} shards, expected 2`);
    // split the first shard from the page: three open shards, a drawn lineage
    await page.click('[data-split="shardId-000000000000"]');
    await page.waitForFunction(() => document.querySelectorAll('#sd-shards tr').length - 1 === 4);
    const lineage = await page.$$eval('#sd-lineage svg line', l => l.length);
    if (lineage !== 2) fail(`lineage draws ${lineage} edges after a split, expected 2`);
    await shot('stream');

    await page.goto(url + '#/lake', {waitUntil: 'load'});
    await page.waitForFunction(() => /folders/.test(document.querySelector('#lk-list')?.textContent || ''));
    // walk down to the first object and preview it
    for (let i = 0; i < 6; i++) {
      const obj = await page.$('[data-key]');
      if (obj) break;
      const links = await page.$$('#lk-list a[href^="#/lake/"]');
      if (!links.length) fail('lake: no folder to open');
      const before = await page.$eval('#lk-crumbs', e => e.textContent);
      await links[0].click();
      await page.waitForFunction(b => document.querySelector('#lk-crumbs')?.textContent !== b &&
                                      /objects here/.test(document.querySelector('#lk-list')?.textContent || ''), {}, before);
    }
    await page.click('[data-key]');
    await page.waitForFunction(() => /records/.test(document.querySelector('#lk-preview')?.textContent || ''));
    const prev = await page.$eval('#lk-preview', e => e.textContent);
    if (!/3,900 records/.test(prev) || !/FB/.test(prev)) fail('lake preview: ' + prev.slice(0, 300));
    await shot('lake');

    await page.goto(url + '#/catalog/finance.stocks', {waitUntil: 'load'});
    await page.waitForFunction(() => /CREATE EXTERNAL TABLE/.test(document.querySelector('#ct-table')?.textContent || ''));
    await shot('catalog');

    // the SQL page: the classic query from the editor
    await page.goto(url + '#/sql', {waitUntil: 'load'});
    await page.waitForSelector('.CodeMirror');
    await page.click('#sq-classic');
    const sql = await page.evaluate(() => document.querySelector('.CodeMirror').CodeMirror.getValue());
    if (!/row_number\(\) OVER/.test(sql)) fail('editor does not hold the hourly-high query');
    const tq = Date.now();
    await page.click('#sq-run');
    await page.waitForFunction(() => /SUCCEEDED|FAILED/.test(document.querySelector('#sq-status')?.textContent || ''));
    const status = await page.$eval('#sq-status', e => e.textContent);
    if (!/SUCCEEDED/.test(status)) fail('query: ' + status + ' ' + await page.$eval('#sq-error', e => e.textContent));
    console.log(`sql: hourly high answered and shown in ${Date.now() - tq} ms (${status.trim()})`);
    const shown = await page.$$eval('#sq-table tbody tr', rows => rows.map(r => [...r.children].map(td => td.textContent)));
    const header = await page.$$eval('#sq-table thead th', th => th.map(t => t.textContent.replace(/ [▲▼]$/, '')));
    const expected = parseCsv(fs.readFileSync(process.env.EXPECTED, 'utf8'));
    if (JSON.stringify(header) !== JSON.stringify(expected[0])) fail(`columns ${header} != ${expected[0]}`);
    const want = expected.slice(1);
    if (shown.length !== Math.min(100, want.length)) fail(`${shown.length} rows shown, expected ${want.length}`);
    for (let i = 0; i < shown.length; i++)
      if (JSON.stringify(shown[i]) !== JSON.stringify(want[i])) fail(`row ${i}: ${shown[i]} != ${want[i]}`);
    const rowsLabel = await page.$eval('#sq-rows', e => e.textContent);
    if (rowsLabel !== `${want.length} rows`) fail('row count label: ' + rowsLabel);
    // sort by high, descending, on the server
    await page.click('#sq-table th[data-col="2"]');
    await page.waitForFunction(() => /▲/.test(document.querySelector('#sq-table thead')?.textContent || ''));
    await page.click('#sq-table th[data-col="2"]');
    await page.waitForFunction(() => /▼/.test(document.querySelector('#sq-table thead')?.textContent || ''));
    const top = await page.$eval('#sq-table tbody tr td:nth-child(3)', e => Number(e.textContent));
    const max = Math.max(...want.map(r => Number(r[2])));
    if (top !== max) fail(`sorted by high descending, first is ${top}, expected ${max}`);
    // chart: high over the hour, one line per ticker
    await page.select('#ch-type', 'line');
    await page.select('#ch-x', '1');
    await page.select('#ch-group', '0');
    await page.click('#ch-draw');
    await page.waitForSelector('#sq-chart .uplot canvas');
    const legend = await page.$$eval('#sq-chart .u-legend .u-series', s => s.length);
    const tickers = new Set(want.map(r => r[0])).size;
    if (legend !== tickers + 1) fail(`chart legend has ${legend - 1} series, expected ${tickers}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('sql');
    await page.evaluate(() => document.querySelector('#sq-chart').scrollIntoView());
    await shot('chart');

    // a query that is canceled
    await page.evaluate(() => document.querySelector('.CodeMirror').CodeMirror.setValue(
      'SELECT count(*) FROM range(100000000000) a, range(1000) b WHERE a.range * b.range = 7'));
    await page.click('#sq-run');
    await page.waitForFunction(() => !document.querySelector('#sq-cancel').disabled);
    await page.click('#sq-cancel');
    await page.waitForFunction(() => /CANCELLED/.test(document.querySelector('#sq-status')?.textContent || ''), {timeout: 30000});

    await page.goto(url + '#/reports', {waitUntil: 'load'});
    await page.waitForSelector('#rp-range .uplot canvas');
    await page.waitForFunction(() => document.querySelectorAll('#rp-series .uplot').length === 2);
    // hover the FB series chart: the legend shows the values under the cursor
    await page.evaluate(() => document.querySelector('#rp-series .uplot').scrollIntoView());
    const box = await (await page.$('#rp-series .uplot .u-over')).boundingBox();
    await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, {steps: 5});
    await page.waitForFunction(() => /high\s*\d/.test(document.querySelector('#rp-series .u-legend')?.textContent || ''),
                               {timeout: 10000}).catch(async () => {
      fail('hovering the chart shows no value: ' + await page.$eval('#rp-series .u-legend', e => e.textContent));
    });
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('reports');
    if (errors.length) fail('page errors: ' + errors.join('; '));
    console.log('browser: every page loaded and checked');
  } finally {
    await browser.close();
  }
})().catch(e => fail(e.stack || String(e)));
