// console_load.js - page load times of the console in headless Chromium (see
// bench_console.sh): each page from navigation to its content shown, warm, best of N.
'use strict';
const puppeteer = require('puppeteer-core');
const url = process.env.CONSOLE_URL;
const runs = Number(process.env.RUNS || 5);

const pages = [
  ['overview (50 streams)', '#/overview', () => document.querySelectorAll('#ov-streams tr').length > 50],
  ['streams list', '#/streams', () => document.querySelectorAll('#st-list tr').length > 50],
  ['lake root (10,000 objects below)', '#/lake', () => /objects here/.test(document.querySelector('#lk-list')?.textContent || '')],
  ['lake folder of 2,500 objects', '#/lake/2020%2F05%2F14%2F09%2F', () => /objects here/.test(document.querySelector('#lk-list')?.textContent || '')],
  ['catalog', '#/catalog', () => /stocks/.test(document.querySelector('#ct-list')?.textContent || '')],
  ['sql (editor ready)', '#/sql', () => !!document.querySelector('.CodeMirror')],
  ['stream stocks', '#/stream/stocks', () => !!document.querySelector('#sd-lineage svg')],
];

(async () => {
  const browser = await puppeteer.launch({executablePath: process.env.CHROMIUM, headless: true,
                                          args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage']});
  const page = await browser.newPage();
  page.setDefaultTimeout(120000);
  await page.setViewport({width: 1360, height: 900});
  for (const [name, hash, ready] of pages) {
    const times = [];
    for (let i = 0; i < runs; i++) {
      await page.goto('about:blank');
      const t0 = Date.now();
      await page.goto(url + hash, {waitUntil: 'domcontentloaded'});
      await page.waitForFunction(ready, {polling: 10});
      times.push(Date.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(`${name.padEnd(36)} best ${String(times[0]).padStart(5)} ms   median ${String(times[times.length >> 1]).padStart(5)} ms`);
  }
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
