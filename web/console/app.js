/* app.js - the finstream console's page: a small hash-routed application over the JSON
 * API (docs/console.md). No framework: each page is a function that renders into <main>
 * and returns a cleanup function. CodeMirror and uPlot are optional: without them the
 * editor is a plain text area and charts say how to get them. */
'use strict';

const $ = (sel, root) => (root || document).querySelector(sel);
const main = $('#main');
let csrf = '';
let session = null;
let cleanup = null;
let overviewHandlers = [];

const HOURLY_HIGH_SQL =
`SELECT name, substring(ts, 12, 2) AS hour, high, ts
FROM (
  SELECT name, ts, high,
         row_number() OVER (PARTITION BY name, substring(ts, 12, 2)
                            ORDER BY high DESC) AS rn
  FROM finance.stocks
)
WHERE rn = 1
ORDER BY name, hour`;

/* ---- helpers ---- */

function esc(s) {
  return String(s == null ? '' : s).replace(/[&<>"']/g,
    c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
}
function h(html) { const t = document.createElement('template'); t.innerHTML = html.trim(); return t.content.firstChild; }
function num(n, d) {
  if (n == null || isNaN(n)) return '';
  return Number(n).toLocaleString('en-US', {maximumFractionDigits: d == null ? 0 : d});
}
function bytes(n) {
  if (n == null) return '';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0; n = Number(n);
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}
function ago(iso) {
  if (!iso) return '<span class="muted">never</span>';
  const s = (Date.now() - Date.parse(iso)) / 1000;
  const t = s < 60 ? Math.max(0, Math.round(s)) + ' s' : s < 3600 ? Math.round(s / 60) + ' min'
          : s < 86400 ? (s / 3600).toFixed(1) + ' h' : (s / 86400).toFixed(1) + ' d';
  return `<span title="${esc(iso)}">${t} ago</span>`;
}
function dur(ms) {
  if (!ms) return '0 s';
  return ms < 1000 ? ms + ' ms' : ms < 120000 ? (ms / 1000).toFixed(1) + ' s' : (ms / 60000).toFixed(1) + ' min';
}

async function api(path, opts) {
  opts = opts || {};
  const init = {method: opts.method || 'GET', headers: {}, credentials: 'same-origin'};
  if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body);
    init.headers['Content-Type'] = 'application/json';
  }
  if (init.method !== 'GET') init.headers['X-CSRF-Token'] = csrf;
  const r = await fetch(path, init);
  let v = null;
  try { v = await r.json(); } catch (e) { v = {error: 'http', message: r.status + ' ' + r.statusText}; }
  if (r.status === 401 && v && v.error === 'login_required') { showLogin(); }
  if (!r.ok) { const e = new Error((v && v.message) || r.statusText); e.status = r.status; e.body = v; throw e; }
  return v;
}

function notice(msg) {
  const n = $('#notice');
  n.textContent = msg || '';
  n.hidden = !msg;
}

const haveCM = typeof window.CodeMirror === 'function';
const haveUPlot = typeof window.uPlot === 'function';
const MISSING_LIBS = 'The front-end libraries are not in this build: run scripts/web-assets.sh, then rebuild finstream.';

/* ---- charts (uPlot) ---- */

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777',
                 '#65a30d', '#ea580c', '#4f46e5'];

function chartBox(el, title) {
  el.innerHTML = '';
  if (!haveUPlot) { el.appendChild(h(`<p class="muted">${esc(MISSING_LIBS)}</p>`)); return null; }
  return el;
}

function lineChart(el, opts) {
  /* opts: {title, x: [...], xTime: bool, series: [{label, values}], height, xLabels} */
  if (!chartBox(el)) return null;
  const width = Math.max(300, el.clientWidth || 800);
  const series = [{label: opts.xLabel || (opts.xTime ? 'time' : 'x'), value: opts.xLabels ? (u, v) => v == null ? '' : (opts.xLabels[v] || '')
                   : opts.xTime ? (u, v) => v == null ? '' : new Date(v * 1000).toISOString().slice(0, 19).replace('T', ' ') : undefined}];
  opts.series.forEach((s, i) => series.push({label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5,
    fill: opts.bars ? PALETTE[i % PALETTE.length] + '99' : undefined,
    paths: opts.valuesOnly ? () => null : opts.bars ? uPlot.paths.bars({size: [0.6 / opts.series.length, 60], align: 0}) : undefined,
    points: {show: opts.bars || opts.valuesOnly ? false : opts.x.length < 60}}));
  const axes = [{values: opts.xLabels ? (u, vals) => vals.map(v => opts.xLabels[v] || '') : undefined,
                 space: opts.xLabels ? 30 : 60}, {}];
  if (opts.xLabels) axes[0].splits = () => opts.xLabels.map((_, i) => i);
  const cfg = {title: opts.title, width, height: opts.height || 320, series, axes,
               /* times are shown as given (exchange time, or UTC), whatever the browser's zone */
               tzDate: ts => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
               scales: {x: {time: !!opts.xTime}}, legend: {live: true}, cursor: {drag: {x: true, y: false}}};
  if (opts.xLabels) cfg.scales.x.range = () => [-0.6, opts.xLabels.length - 0.4];
  if (opts.xSpan) cfg.scales.x.range = (u, min, max) => [max - opts.xSpan, max];
  if (opts.hooks) cfg.hooks = opts.hooks;
  return new uPlot(cfg, [opts.x].concat(opts.series.map(s => s.values)), el);
}

/* ---- live overview (server-sent events) ---- */

let evsrc = null;
let lastOverview = null;
function startEvents() {
  if (evsrc) return;
  evsrc = new EventSource('/api/events');
  evsrc.addEventListener('overview', e => {
    lastOverview = JSON.parse(e.data);
    $('#live').classList.add('on');
    $('#live').textContent = 'live ' + lastOverview.time.slice(11, 19) + ' UTC';
    overviewHandlers.forEach(f => f(lastOverview));
  });
  evsrc.onerror = () => { $('#live').classList.remove('on'); $('#live').textContent = 'reconnecting'; };
}

/* ---- pages ---- */

const pages = {};

pages.overview = function () {
  main.innerHTML = `
    <h1>Overview <small id="ov-time"></small></h1>
    <div class="panel"><h2>Incoming records/s <small>all streams, last 2 minutes</small></h2><div id="ov-chart" class="chart"></div></div>
    <div class="panel"><h2>Streams</h2><div id="ov-streams"></div></div>
    <div class="panel"><h2>Delivery streams</h2><div id="ov-deliveries"></div></div>
    <div class="panel"><h2>Collectors</h2><div id="ov-collectors"></div></div>`;
  const hist = {t: [], r: []};
  let chart = null;
  function render(o) {
    $('#ov-time').textContent = 'as of ' + o.time;
    const s = o.streams;
    $('#ov-streams').innerHTML = !s.length ? '<p class="empty">No streams yet: <code>finstream stream create NAME</code> or <code>finstream run</code>.</p>' :
      `<table><tr><th>Stream</th><th class="num">Open shards</th><th class="num">Records/s</th><th class="num">Bytes/s</th><th>Last arrival</th><th>Consumers (iterator age)</th><th class="num">Retention</th></tr>
      ${s.map(x => `<tr><td><a href="#/stream/${encodeURIComponent(x.name)}">${esc(x.name)}</a></td>
        <td class="num">${x.open_shards}${x.shards !== x.open_shards ? ` <span class="muted">(${x.shards} in all)</span>` : ''}</td>
        <td class="num">${x.rate_capped ? '&ge; ' : ''}${num(x.records_per_s, 1)}</td>
        <td class="num">${bytes(x.bytes_per_s)}/s</td>
        <td>${ago(x.last_arrival)}</td>
        <td>${x.consumers.length ? x.consumers.map(c => `${esc(c.name)} <span class="pill ${c.iterator_age_ms > 60000 ? 'bad' : ''}">${dur(c.iterator_age_ms)}</span>`).join(' ') : '<span class="muted">none</span>'}</td>
        <td class="num">${x.retention_hours} h</td></tr>`).join('')}</table>`;
    const d = o.deliveries;
    $('#ov-deliveries').innerHTML = !d.length ? '<p class="empty">No delivery streams declared in finstream.ini.</p>' :
      `<table><tr><th>Delivery</th><th>Source</th><th>Format</th><th class="num">Records</th><th class="num">Objects</th><th class="num">Bytes</th><th class="num">Lag</th><th>Buffer</th><th>Last object</th><th class="num">Errors</th></tr>
      ${d.map(x => x.error ? `<tr><td>${esc(x.name)}</td><td colspan="9" class="error">${esc(x.error)}</td></tr>` :
        `<tr><td>${esc(x.name)}</td><td>${esc(x.source)}</td><td>${esc(x.format)}</td>
        <td class="num">${num(x.records)}</td><td class="num">${num(x.objects)}</td><td class="num">${bytes(x.bytes)}</td>
        <td class="num">${x.lag_capped ? '&ge; ' : ''}${num(x.lag_records)} rec, ${dur(x.lag_ms)}</td>
        <td><span class="bar" title="${(x.buffer_fill * 100).toFixed(0)}% of ${bytes(x.buffer_size)} or ${dur(x.buffer_interval_ms)}"><i style="width:${(x.buffer_fill * 100).toFixed(1)}%"></i></span></td>
        <td>${ago(x.last_flush)}</td>
        <td class="num">${x.error_records ? `<span class="pill bad">${num(x.error_records)}</span>` : '0'}</td></tr>`).join('')}</table>`;
    const c = o.collectors;
    $('#ov-collectors').innerHTML = !c.length ? '<p class="empty">No collectors declared in finstream.ini.</p>' :
      `<table><tr><th>Collector</th><th>Source</th><th>Tickers</th><th>Bars</th><th>Schedule</th><th>To</th><th>Last run</th></tr>
      ${c.map(x => `<tr><td>${esc(x.name)}</td><td>${esc(x.source)}</td><td title="${esc(x.tickers)}">${esc(x.tickers.length > 40 ? x.tickers.slice(0, 40) + '…' : x.tickers)}</td>
        <td>${esc(x.interval)}</td><td>${x.schedule === 'once' ? '<span class="muted">once</span>' : 'every ' + esc(x.schedule)}</td>
        <td>${esc(x.to)}</td><td>${ago(x.last_run)}</td></tr>`).join('')}</table>`;
    hist.t.push(o.time_ms / 1000);
    hist.r.push(s.reduce((a, x) => a + x.records_per_s, 0));
    while (hist.t.length > 120) { hist.t.shift(); hist.r.shift(); }
    if (!chart && haveUPlot) {
      chart = lineChart($('#ov-chart'), {x: hist.t, xTime: true, xSpan: 120, height: 160, series: [{label: 'records/s', values: hist.r}]});
    } else if (chart) {
      chart.setData([hist.t, hist.r]);
    } else {
      chartBox($('#ov-chart'));
    }
  }
  overviewHandlers.push(render);
  if (lastOverview) render(lastOverview);
  else api('/api/overview').then(render).catch(e => notice(e.message));
  return () => { overviewHandlers = overviewHandlers.filter(f => f !== render); if (chart) chart.destroy(); };
};

pages.streams = function () {
  main.innerHTML = `<h1>Streams</h1><div class="panel" id="st-list"><p class="muted">loading</p></div>`;
  function render(o) {
    $('#st-list').innerHTML = !o.streams.length ? '<p class="empty">No streams yet.</p>' :
      `<table><tr><th>Stream</th><th class="num">Open shards</th><th class="num">Records/s</th><th class="num">Bytes/s</th></tr>
      ${o.streams.map(x => `<tr><td><a href="#/stream/${encodeURIComponent(x.name)}">${esc(x.name)}</a></td><td class="num">${x.open_shards}</td>
        <td class="num">${num(x.records_per_s, 1)}</td><td class="num">${bytes(x.bytes_per_s)}/s</td></tr>`).join('')}</table>`;
  }
  overviewHandlers.push(render);
  if (lastOverview) render(lastOverview); else api('/api/overview').then(render).catch(e => notice(e.message));
  return () => { overviewHandlers = overviewHandlers.filter(f => f !== render); };
};

/* The lineage: one row per generation, each shard placed by its hash-key range. */
function drawLineage(shards, width) {
  const big = s => BigInt(s);
  const MAX = (BigInt(1) << BigInt(128)) - BigInt(1);
  const frac = v => Number((big(v) * BigInt(10000)) / MAX) / 10000;
  const byId = {};
  shards.forEach(s => { byId[s.id] = s; });
  const depth = s => !s.parent || !byId[s.parent] ? 0 : 1 + Math.max(depth(byId[s.parent]), s.adjacent_parent && byId[s.adjacent_parent] ? depth(byId[s.adjacent_parent]) : 0);
  shards.forEach(s => { s._d = depth(s); });
  const rows = 1 + Math.max(0, ...shards.map(s => s._d));
  const W = Math.max(400, width || 1000), RH = 64, H = rows * RH + 10;
  let svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="shard lineage">`;
  const box = s => ({x: 10 + frac(s.hash_start) * (W - 20), w: Math.max(30, (frac(s.hash_end) - frac(s.hash_start)) * (W - 20) - 6), y: 10 + s._d * RH});
  shards.forEach(s => {
    [s.parent, s.adjacent_parent].filter(p => p && byId[p]).forEach(p => {
      const a = box(byId[p]), b = box(s);
      svg += `<line x1="${a.x + a.w / 2}" y1="${a.y + 36}" x2="${b.x + b.w / 2}" y2="${b.y}" stroke="#94a3b8" stroke-width="1.5"/>`;
    });
  });
  shards.forEach(s => {
    const b = box(s);
    svg += `<g><rect x="${b.x}" y="${b.y}" width="${b.w}" height="36" rx="6" fill="${s.closed ? '#f1f5f9' : '#e8f0fe'}" stroke="${s.closed ? '#cbd5e1' : '#2563eb'}"/>
      <text x="${b.x + 8}" y="${b.y + 15}" fill="#1d2430">${esc(s.id.replace('shardId-', '#').replace(/#0+(\d)/, '#$1'))}</text>
      <text x="${b.x + 8}" y="${b.y + 29}" fill="#667085">${s.closed ? 'closed' : 'open'} · ${bytes(s.bytes)}</text></g>`;
  });
  return svg + '</svg>';
}

pages.stream = function (name) {
  main.innerHTML = `
    <h1>Stream ${esc(name)} <small id="sd-meta"></small></h1>
    <div class="panel"><h2>Shards <small>hash-key ranges, parents and children</small></h2>
      <div class="lineage" id="sd-lineage"></div>
      <div class="toolbar"><span class="grow"></span>
        <label>Scale to <input id="sd-target" type="number" min="1" max="1024" style="width:80px"> open shards</label>
        <button id="sd-scale" class="secondary">Scale</button></div>
      <div id="sd-shards"></div><p id="sd-error" class="error"></p></div>
    <div class="panel tail"><h2>Live tail <small id="sd-tailinfo"></small></h2>
      <div class="toolbar"><button id="sd-pause" class="secondary small">Pause</button></div>
      <div class="scroll"><table><thead><tr><th>Arrival</th><th>Shard</th><th>Sequence number</th><th>Key</th><th>Data</th></tr></thead><tbody id="sd-tail"></tbody></table></div></div>`;
  let stopped = false, paused = false, cursor = '', timer = null;
  async function load() {
    try {
      render(await api('/api/streams/' + encodeURIComponent(name)));
    } catch (e) { $('#sd-error').textContent = e.message; }
  }
  async function reshard(op, body) {
    $('#sd-error').textContent = '';
    try { render(await api(`/api/streams/${encodeURIComponent(name)}/${op}`, {method: 'POST', body})); }
    catch (e) { $('#sd-error').textContent = e.message; }
  }
  function render(d) {
    $('#sd-meta').textContent = `${d.open_shards} open shards · retention ${d.retention_hours} h · fsync ${d.fsync}`;
    $('#sd-target').value = d.open_shards;
    $('#sd-lineage').innerHTML = drawLineage(d.shards, $('#sd-lineage').clientWidth);
    const open = d.shards.filter(s => !s.closed).sort((a, b) => (BigInt(a.hash_start) < BigInt(b.hash_start) ? -1 : 1));
    const nextOpen = s => { const i = open.indexOf(s); return i >= 0 && i + 1 < open.length ? open[i + 1] : null; };
    $('#sd-shards').innerHTML = `<table><tr><th>Shard</th><th>State</th><th>Parent</th><th>Hash keys</th><th>Sequence numbers</th><th class="num">Segments</th><th class="num">Size</th><th></th></tr>
      ${d.shards.map(s => `<tr><td class="mono">${esc(s.id)}</td><td><span class="pill ${s.closed ? 'closed' : ''}">${s.closed ? 'closed' : 'open'}</span></td>
        <td class="mono">${esc(s.parent)}${s.adjacent_parent ? '<br>' + esc(s.adjacent_parent) : ''}</td>
        <td class="mono" title="${esc(s.hash_start)} .. ${esc(s.hash_end)}">${esc(s.hash_start.slice(0, 8))}${s.hash_start.length > 8 ? '…' : ''} .. ${esc(s.hash_end.slice(0, 8))}…</td>
        <td class="mono" title="${esc(s.starting_seq)} .. ${esc(s.ending_seq || 'open')}">…${esc(s.starting_seq.slice(-8))} .. ${s.ending_seq ? '…' + esc(s.ending_seq.slice(-8)) : 'open'}</td>
        <td class="num">${s.segments}</td><td class="num">${bytes(s.bytes)}</td>
        <td>${s.closed ? '' : `<button class="small" data-split="${esc(s.id)}">Split</button>
          ${nextOpen(s) ? `<button class="small secondary" data-merge="${esc(s.id)}" data-adj="${esc(nextOpen(s).id)}">Merge with next</button>` : ''}`}</td></tr>`).join('')}</table>`;
    main.querySelectorAll('[data-split]').forEach(b => b.addEventListener('click', () => reshard('split', {shard: b.dataset.split})));
    main.querySelectorAll('[data-merge]').forEach(b => b.addEventListener('click', () => reshard('merge', {shard: b.dataset.merge, adjacent: b.dataset.adj})));
  }
  $('#sd-scale').addEventListener('click', () => reshard('scale', {target: Number($('#sd-target').value)}));
  $('#sd-pause').addEventListener('click', () => { paused = !paused; $('#sd-pause').textContent = paused ? 'Resume' : 'Pause'; });
  async function tail() {
    if (stopped) return;
    if (!paused) {
      try {
        const t = await api(`/api/streams/${encodeURIComponent(name)}/tail?limit=100${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`);
        cursor = t.cursor || cursor;
        const body = $('#sd-tail');
        if (body) {
          t.records.forEach(r => body.insertBefore(h(`<table><tr><td>${esc(r.arrival.slice(11, 19))}</td><td class="mono">${esc(r.shard.slice(-3))}</td>
            <td class="mono" title="${esc(r.seq)}">…${esc(r.seq.slice(-12))}</td><td>${esc(r.key || '')}</td><td class="data">${esc(r.data)}</td></tr></table>`).querySelector('tr'), body.firstChild));
          while (body.children.length > 200) body.removeChild(body.lastChild);
          $('#sd-tailinfo').textContent = `newest first · ${body.children.length} shown`;
        }
      } catch (e) { $('#sd-error').textContent = e.message; }
    }
    timer = setTimeout(tail, (session && session.refresh_ms) || 1000);
  }
  load();
  tail();
  const onOverview = () => { if (!stopped) load(); };
  let n = 0;
  const every5 = () => { if (++n % 5 === 0) onOverview(); };
  overviewHandlers.push(every5);
  return () => { stopped = true; clearTimeout(timer); overviewHandlers = overviewHandlers.filter(f => f !== every5); };
};

pages.lake = function (prefix) {
  prefix = prefix || '';
  main.innerHTML = `<h1>Lake <small class="crumbs" id="lk-crumbs"></small></h1>
    <div class="grid2"><div class="panel"><div id="lk-list"><p class="muted">loading</p></div></div>
    <div class="panel"><h2>Object <small id="lk-key">choose one</small></h2><div id="lk-preview"></div></div></div>`;
  const parts = prefix.split('/').filter(Boolean);
  $('#lk-crumbs').innerHTML = `<a href="#/lake">lake/</a>` + parts.map((p, i) =>
    `<a href="#/lake/${encodeURIComponent(parts.slice(0, i + 1).join('/') + '/')}">${esc(p)}/</a>`).join('');
  api('/api/lake?prefix=' + encodeURIComponent(prefix)).then(d => {
    const rows = d.folders.map(f => `<tr><td class="dir"><a href="#/lake/${encodeURIComponent(prefix + f.name + '/')}">${esc(f.name)}/</a></td>
        <td class="num">${num(f.objects)}</td><td class="num">${bytes(f.bytes)}</td><td>${ago(f.newest)}</td></tr>`).concat(
      d.objects.map(o => `<tr><td class="obj"><a href="#" data-key="${esc(prefix + o.name)}">${esc(o.name)}</a></td>
        <td class="num">1</td><td class="num">${bytes(o.size)}</td><td>${ago(o.modified)}</td></tr>`));
    $('#lk-list').innerHTML = `<p class="muted">${num(d.folders.length)} folders, ${num(d.total_objects)} objects here, ${bytes(d.bytes)} in all${d.total_objects > d.objects.length ? ` (first ${d.objects.length} shown)` : ''}</p>` +
      (rows.length ? `<div class="scroll"><table><tr><th>Name</th><th class="num">Objects</th><th class="num">Size</th><th>Newest</th></tr>${rows.join('')}</table></div>` : '<p class="empty">Nothing here yet.</p>');
    main.querySelectorAll('[data-key]').forEach(a => a.addEventListener('click', ev => { ev.preventDefault(); preview(a.dataset.key); }));
  }).catch(e => { $('#lk-list').innerHTML = `<p class="error">${esc(e.message)}</p>`; });
  async function preview(key) {
    $('#lk-key').textContent = key;
    const el = $('#lk-preview');
    el.innerHTML = '<p class="muted">loading</p>';
    try {
      const o = await api('/api/lake/object?limit=20&key=' + encodeURIComponent(key));
      let html = `<p><span class="pill">${esc(o.format)}${o.gzip ? ' · gzip' : ''}${o.framing ? ' · ' + esc(o.framing) : ''}</span>
        ${bytes(o.size)} · ${o.records != null ? num(o.records) + ' records · ' : ''}${ago(o.modified)}
        · <a href="/api/lake/raw?key=${encodeURIComponent(key)}">download</a></p>`;
      if (o.problem) html += `<p class="error">${esc(o.problem)}</p>`;
      if (o.schema) html += `<h2>Schema</h2><table><tr><th>Column</th><th>Type</th></tr>${o.schema.map(c => `<tr><td>${esc(c.name)}</td><td class="mono">${esc(c.type)}</td></tr>`).join('')}</table><h2 style="margin-top:12px">First rows</h2>`;
      if (o.rows && o.rows.length) {
        const cols = o.schema ? o.schema.map(c => c.name) : o.columns && o.columns.length ? o.columns : null;
        html += cols ? `<div class="scroll"><table><tr>${cols.map(c => `<th>${esc(c)}</th>`).join('')}</tr>
          ${o.rows.map(r => `<tr>${cols.map((c, i) => `<td>${esc(Array.isArray(r) ? r[i] : typeof r === 'object' && r ? (r[c] == null ? '' : r[c]) : r)}</td>`).join('')}</tr>`).join('')}</table></div>`
          : `<pre>${esc(o.rows.map(r => typeof r === 'string' ? r : JSON.stringify(r)).join('\n'))}</pre>`;
      }
      if (o.text != null) html += `<pre>${esc(o.text)}</pre>`;
      el.innerHTML = html;
    } catch (e) { el.innerHTML = `<p class="error">${esc(e.message)}</p>`; }
  }
};

pages.catalog = function (name) {
  if (name) {
    main.innerHTML = `<h1><a href="#/catalog">Catalog</a> / ${esc(name)}</h1><div id="ct-table"><p class="muted">loading</p></div>`;
    api('/api/catalog/' + encodeURIComponent(name)).then(t => {
      $('#ct-table').innerHTML = `
        <div class="panel"><span class="stat"><b>${esc(t.classification)}</b>format</span><span class="stat"><b>${num(t.partitions)}</b>partitions</span>
          <span class="stat"><b>${num(t.objects)}</b>objects</span><span class="stat"><b>${bytes(t.bytes)}</b>size</span>
          <p class="muted">location <span class="mono">${esc(t.location)}</span> · framing ${esc(t.framing || '')} · compression ${esc(t.compression || '')} · updated ${ago(t.updated)}</p>
          <button id="ct-query" class="small">Query in SQL</button></div>
        <div class="grid2"><div class="panel"><h2>Columns</h2><table><tr><th>Column</th><th>Type</th></tr>
          ${t.columns.map(c => `<tr><td>${esc(c.name)}</td><td class="mono">${esc(c.type)}</td></tr>`).join('')}
          ${t.partition_keys.map(c => `<tr><td>${esc(c.name)} <span class="pill">partition</span></td><td class="mono">${esc(c.type)}</td></tr>`).join('')}</table></div>
        <div class="panel"><h2>Partitions</h2><div class="scroll" style="max-height:300px"><table><tr>${t.partition_keys.map(k => `<th>${esc(k.name)}</th>`).join('')}<th>Path</th></tr>
          ${t.partition_list.map(p => `<tr>${p.values.map(v => `<td>${esc(v)}</td>`).join('')}<td class="mono">${esc(p.path)}</td></tr>`).join('')}</table></div></div></div>
        <div class="panel"><h2>Athena DDL</h2><pre>${esc(t.ddl)}</pre></div>`;
      $('#ct-query').addEventListener('click', () => { sqlDraft = `SELECT * FROM ${t.database}.${t.name} LIMIT 100`; location.hash = '#/sql'; });
    }).catch(e => { $('#ct-table').innerHTML = `<p class="error">${esc(e.message)}</p>`; });
    return;
  }
  main.innerHTML = `<h1>Catalog</h1><div id="ct-list"><p class="muted">loading</p></div>`;
  api('/api/catalog').then(c => {
    $('#ct-list').innerHTML = !c.databases.length ? '<div class="panel empty">The catalog is empty: run <code>finstream crawl</code>.</div>' :
      c.databases.map(db => `<div class="panel"><h2>Database ${esc(db.name)}</h2><table><tr><th>Table</th><th>Format</th><th>Columns</th><th class="num">Partitions</th><th class="num">Objects</th><th class="num">Size</th><th>Updated</th></tr>
        ${db.tables.map(t => `<tr><td><a href="#/catalog/${encodeURIComponent(t.database + '.' + t.name)}">${esc(t.name)}</a></td><td>${esc(t.classification)}</td>
          <td>${t.columns.map(c => esc(c.name)).join(', ')}</td><td class="num">${num(t.partitions)}</td><td class="num">${num(t.objects)}</td>
          <td class="num">${bytes(t.bytes)}</td><td>${ago(t.updated)}</td></tr>`).join('')}</table></div>`).join('');
  }).catch(e => { $('#ct-list').innerHTML = `<p class="error">${esc(e.message)}</p>`; });
};

let sqlDraft = null;
let editor = null;
let lastJob = null;

pages.sql = function () {
  main.innerHTML = `
    <div class="cols"><div>
      <div class="panel"><div id="sq-editor"></div>
        <div class="toolbar"><button id="sq-run" title="Ctrl-Enter">Run</button><button id="sq-cancel" class="secondary" disabled>Cancel</button>
          <button id="sq-classic" class="secondary">Hourly high</button>
          <span id="sq-status" class="grow muted"></span><a id="sq-csv" hidden>Download CSV</a></div>
        <p id="sq-error" class="error"></p></div>
      <div class="panel"><h2>Result <small id="sq-rows"></small></h2>
        <div class="scroll"><table id="sq-table"></table></div>
        <div class="toolbar"><button id="sq-prev" class="secondary small" disabled>&larr; Prev</button>
          <span id="sq-page" class="muted"></span><button id="sq-next" class="secondary small" disabled>Next &rarr;</button></div></div>
      <div class="panel"><h2>Chart</h2>
        <div class="toolbar"><select id="ch-type"><option value="line">Line over x</option><option value="bar">Bar by category</option></select>
          <label>x <select id="ch-x"></select></label><label>group by <select id="ch-group"><option value="">(none)</option></select></label>
          <span id="ch-y"></span><button id="ch-draw" class="secondary">Draw</button></div>
        <div id="sq-chart" class="chart"></div></div>
    </div>
    <div class="panel history"><h2>History</h2><ul id="sq-history"></ul></div></div>`;
  const host = $('#sq-editor');
  const initial = sqlDraft || (editor ? editor.getValue() : null) || localStorage.getItem('fin.sql') || HOURLY_HIGH_SQL;
  sqlDraft = null;
  if (haveCM) {
    editor = CodeMirror(host, {value: initial, mode: 'text/x-sql', lineNumbers: true, indentUnit: 2,
      extraKeys: {'Ctrl-Enter': run, 'Cmd-Enter': run, 'Ctrl-Space': 'autocomplete'}, hintOptions: {tables: {}, completeSingle: false}});
    editor.on('inputRead', (cm, ch) => { if (/[\w.]/.test(ch.text[0])) cm.showHint({completeSingle: false}); });
    api('/api/catalog').then(c => {
      const tables = {};
      c.databases.forEach(db => db.tables.forEach(t => {
        const cols = t.columns.map(x => x.name).concat(t.partition_keys.map(x => x.name));
        tables[db.name + '.' + t.name] = cols;
        tables[t.name] = cols;
      }));
      editor.setOption('hintOptions', {tables, completeSingle: false});
    }).catch(() => {});
  } else {
    const ta = h(`<textarea class="editor" spellcheck="false"></textarea>`);
    ta.value = initial;
    host.appendChild(ta);
    host.appendChild(h(`<p class="muted">${esc(MISSING_LIBS)}</p>`));
    editor = {getValue: () => ta.value, setValue: v => { ta.value = v; }};
    ta.addEventListener('keydown', e => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) run(); });
  }
  let job = null, offset = 0, sort = -1, desc = false, poll = null, stopped = false;
  const LIMIT = 100;
  function status(j) {
    const st = j.state === 'SUCCEEDED' ? `<span class="ok">SUCCEEDED</span>` : j.state === 'RUNNING' ? 'RUNNING…' : `<span class="error">${esc(j.state)}</span>`;
    $('#sq-status').innerHTML = `${st} · ${Number(j.elapsed_seconds || 0).toFixed(2)} s` +
      (j.rows != null ? ` · ${num(j.rows)} rows · ${bytes(j.bytes_scanned)} scanned · engine ${Number(j.engine_seconds).toFixed(3)} s` : '');
  }
  async function run() {
    const sql = editor.getValue();
    localStorage.setItem('fin.sql', sql);
    $('#sq-error').textContent = '';
    $('#sq-run').disabled = true;
    try {
      const j = await api('/api/queries', {method: 'POST', body: {sql}});
      job = j.id; offset = 0; sort = -1; desc = false;
      $('#sq-cancel').disabled = false;
      $('#sq-csv').hidden = true;
      status({state: 'RUNNING'});
      watch();
    } catch (e) { $('#sq-error').textContent = e.message; $('#sq-run').disabled = false; }
  }
  async function watch() {
    if (stopped || !job) return;
    try {
      const j = await api(`/api/queries/${job}?offset=${offset}&limit=${LIMIT}${sort >= 0 ? `&sort=${sort}&desc=${desc ? 1 : 0}` : ''}`);
      status(j);
      if (j.state === 'RUNNING') { poll = setTimeout(watch, 150); return; }
      $('#sq-run').disabled = false;
      $('#sq-cancel').disabled = true;
      if (j.state !== 'SUCCEEDED') { $('#sq-error').textContent = j.error || j.state; showTable(null); history(); return; }
      lastJob = j;
      showTable(j);
      const a = $('#sq-csv');
      a.href = `/api/queries/${job}/csv`; a.hidden = false;
      a.setAttribute('download', (j.result_id || job) + '.csv');
      setupChart(j);
      history();
    } catch (e) { $('#sq-error').textContent = e.message; $('#sq-run').disabled = false; }
  }
  function showTable(j) {
    const t = $('#sq-table');
    if (!j) { t.innerHTML = ''; $('#sq-rows').textContent = ''; $('#sq-page').textContent = ''; return; }
    $('#sq-rows').textContent = `${num(j.rows)} rows`;
    t.innerHTML = `<thead><tr>${j.columns.map((c, i) => `<th class="sortable ${/double|bigint|decimal/.test(c.type) ? 'num' : ''}" data-col="${i}" title="${esc(c.type)}">${esc(c.name)}${sort === i ? (desc ? ' ▼' : ' ▲') : ''}</th>`).join('')}</tr></thead>
      <tbody>${j.page.map(r => `<tr>${r.map((v, i) => `<td class="${/double|bigint|decimal/.test(j.columns[i].type) ? 'num' : ''}">${v == null ? '<span class="muted">null</span>' : esc(v)}</td>`).join('')}</tr>`).join('')}</tbody>`;
    t.querySelectorAll('th[data-col]').forEach(th => th.addEventListener('click', () => {
      const c = Number(th.dataset.col);
      if (sort === c) desc = !desc; else { sort = c; desc = false; }
      offset = 0; watch();
    }));
    $('#sq-page').textContent = j.rows ? `rows ${offset + 1}–${Math.min(offset + LIMIT, j.rows)} of ${num(j.rows)}` : 'no rows';
    $('#sq-prev').disabled = offset === 0;
    $('#sq-next').disabled = offset + LIMIT >= j.rows;
  }
  $('#sq-prev').addEventListener('click', () => { offset = Math.max(0, offset - LIMIT); watch(); });
  $('#sq-next').addEventListener('click', () => { offset += LIMIT; watch(); });
  $('#sq-run').addEventListener('click', run);
  $('#sq-classic').addEventListener('click', () => editor.setValue(HOURLY_HIGH_SQL));
  $('#sq-cancel').addEventListener('click', async () => {
    try { status(await api(`/api/queries/${job}/cancel`, {method: 'POST', body: {}})); } catch (e) { $('#sq-error').textContent = e.message; }
  });
  function setupChart(j) {
    const cols = j.columns;
    const isNum = c => /double|bigint|decimal|boolean/.test(c.type);
    const isTime = c => /timestamp|date/.test(c.type) || /^(ts|time|timestamp|datetime|date)$/i.test(c.name);
    const xi = Math.max(0, cols.findIndex(isTime) >= 0 ? cols.findIndex(isTime) : cols.findIndex(c => !isNum(c)));
    $('#ch-x').innerHTML = cols.map((c, i) => `<option value="${i}" ${i === xi ? 'selected' : ''}>${esc(c.name)}</option>`).join('');
    const gi = cols.findIndex((c, i) => i !== xi && !isNum(c) && !isTime(c));
    $('#ch-group').innerHTML = '<option value="">(none)</option>' + cols.map((c, i) => `<option value="${i}" ${i === gi ? 'selected' : ''}>${esc(c.name)}</option>`).join('');
    const firstY = cols.findIndex((c, i) => isNum(c) && i !== xi);
    $('#ch-y').innerHTML = 'y ' + cols.map((c, i) => isNum(c) ? `<label><input type="checkbox" value="${i}" ${i === firstY ? 'checked' : ''}> ${esc(c.name)}</label>` : '').join(' ');
    $('#ch-type').value = cols[xi] && isTime(cols[xi]) ? 'line' : 'bar';
    $('#sq-chart').innerHTML = '<p class="muted">Choose x and y, then Draw.</p>';
  }
  $('#ch-draw').addEventListener('click', drawChart);
  async function drawChart() {
    if (!lastJob || !job) return;
    const ys = [...main.querySelectorAll('#ch-y input:checked')].map(i => i.value);
    const x = $('#ch-x').value, g = $('#ch-group').value;
    if (!ys.length) { $('#sq-chart').innerHTML = '<p class="error">Choose at least one y column.</p>'; return; }
    try {
      const d = await api(`/api/queries/${job}/chart?x=${x}&y=${ys.concat(g ? [g] : []).join(',')}`);
      const groups = g ? d.y.pop().values : null;
      const bar = $('#ch-type').value === 'bar';
      let xs = d.x.values, xTime = false, xLabels = null;
      const parseT = v => { const t = Date.parse(String(v).replace(' ', 'T').replace(/([+-]\d\d:\d\d)$/, '$1')); return isNaN(t) ? null : t / 1000; };
      if (!d.x.numeric) {
        const ts = xs.map(parseT);
        if (!bar && ts.every(t => t != null)) { xs = ts; xTime = true; }
        else {
          xLabels = [...new Set(xs)];
          if (!bar && xLabels.every(v => !isNaN(Number(v)))) { xs = xs.map(Number); xLabels = null; }
          else xs = xs.map(v => xLabels.indexOf(v));
        }
      } else if (/timestamp|date/.test(d.x.type)) xTime = true;
      /* one series per (y, group): rows aligned on the distinct x values */
      const xsU = [...new Set(xs)].sort((a, b) => a - b);
      const pos = new Map(xsU.map((v, i) => [v, i]));
      const series = [];
      d.y.forEach(y => {
        const keys = groups ? [...new Set(groups)] : [null];
        keys.forEach(k => {
          const vals = new Array(xsU.length).fill(null);
          y.values.forEach((v, i) => { if (!groups || groups[i] === k) vals[pos.get(xs[i])] = v; });
          series.push({label: k == null ? y.name : `${k} ${y.name}`, values: vals});
        });
      });
      lineChart($('#sq-chart'), {x: xsU, xTime, xLabels, bars: bar, series: series.slice(0, 40), height: 360,
        xLabel: d.x.name, title: d.truncated ? 'first 100,000 rows' : undefined});
    } catch (e) { $('#sq-chart').innerHTML = `<p class="error">${esc(e.message)}</p>`; }
  }
  async function history() {
    try {
      const d = await api('/api/queries');
      const items = d.jobs.filter(j => j.state !== 'SUCCEEDED').map(j => ({sql: j.sql, when: j.submitted, note: j.state}))
        .concat(d.history.map(x => ({sql: x.sql, when: x.submitted, note: `${num(x.rows)} rows · ${bytes(x.bytes_scanned)}`, id: x.query_id})))
        .sort((a, b) => (a.when < b.when ? 1 : -1)).slice(0, 60);
      $('#sq-history').innerHTML = items.length ? items.map((x, i) => `<li data-i="${i}"><div class="sql" title="${esc(x.sql)}">${esc(x.sql.replace(/\s+/g, ' '))}</div>
        <div class="muted">${ago(x.when)} · ${esc(x.note)}${x.id ? ` · <a href="/api/results/${esc(x.id)}.csv">csv</a>` : ''}</div></li>`).join('') : '<li class="muted">No queries yet.</li>';
      $('#sq-history').querySelectorAll('li[data-i]').forEach(li => li.addEventListener('click', ev => {
        if (ev.target.tagName !== 'A') editor.setValue(items[Number(li.dataset.i)].sql);
      }));
    } catch (e) { /* shown elsewhere */ }
  }
  history();
  return () => { stopped = true; clearTimeout(poll); };
};

pages.reports = function () {
  main.innerHTML = `<h1>Reports</h1>
    <div class="panel"><div class="toolbar"><label>Day <input id="rp-date" placeholder="latest" size="12"></label>
      <label>Tickers <input id="rp-tickers" value="FB,NFLX" size="20"></label><button id="rp-load">Show</button>
      <span id="rp-info" class="muted grow"></span></div><p id="rp-error" class="error"></p></div>
    <div class="panel"><h2>Trading range per ticker <small>low to high; hover for values</small></h2><div id="rp-range" class="chart"></div></div>
    <div class="panel"><h2>Hourly high <small>the highest high of each ticker and exchange hour</small></h2><div id="rp-hourly" class="chart"></div></div>
    <div id="rp-series"></div>
    <div class="panel"><h2>Written reports <small>finstream report</small></h2><div id="rp-list"></div></div>`;
  async function load() {
    $('#rp-error').textContent = '';
    $('#rp-info').textContent = 'loading';
    try {
      const q = new URLSearchParams();
      if ($('#rp-date').value) q.set('date', $('#rp-date').value);
      if ($('#rp-tickers').value) q.set('tickers', $('#rp-tickers').value);
      const d = await api('/api/reports/data?' + q);
      $('#rp-date').value = d.date;
      $('#rp-info').textContent = `${d.date} · ${num(d.bars)} bars from ${num(d.objects)} objects`;
      const tick = d.ranges.map(r => r.ticker);
      const idx = tick.map((_, i) => i);
      /* floating bars: drawn from low to high in a draw hook; the series carry the values
       * the legend shows on hover */
      lineChart($('#rp-range'), {x: idx, xLabels: tick, xLabel: 'ticker', height: 300, valuesOnly: true,
        series: [{label: 'high', values: d.ranges.map(r => r.high)}, {label: 'low', values: d.ranges.map(r => r.low)},
                 {label: 'first', values: d.ranges.map(r => r.first)}, {label: 'last', values: d.ranges.map(r => r.last)}],
        hooks: {draw: [u => {
          const ctx = u.ctx;
          ctx.save();
          d.ranges.forEach((r, i) => {
            const x = u.valToPos(i, 'x', true), y1 = u.valToPos(r.high, 'y', true), y0 = u.valToPos(r.low, 'y', true);
            const w = Math.max(6, (u.bbox.width / d.ranges.length) * 0.5);
            ctx.fillStyle = r.last >= r.first ? '#16a34acc' : '#dc2626cc';
            ctx.fillRect(x - w / 2, y1, w, Math.max(1, y0 - y1));
          });
          ctx.restore();
        }]}});
      const hrs = [...new Set(d.hourly.map(x => x.hour))].sort((a, b) => a - b);
      const tks = [...new Set(d.hourly.map(x => x.ticker))];
      lineChart($('#rp-hourly'), {x: hrs, xLabel: 'hour', height: 320,
        series: tks.map(t => ({label: t, values: hrs.map(hh => { const r = d.hourly.find(x => x.ticker === t && x.hour === hh); return r ? r.high : null; })}))});
      const box = $('#rp-series');
      box.innerHTML = '';
      d.series.forEach(s => {
        const p = h(`<div class="panel"><h2>${esc(s.ticker)} <small>high and low per bar, exchange time</small></h2><div class="chart"></div></div>`);
        box.appendChild(p);
        lineChart(p.querySelector('.chart'), {x: s.t.map(t => t + s.utc_offset), xTime: true, height: 300,
          series: [{label: 'high', values: s.high}, {label: 'low', values: s.low}]});
      });
    } catch (e) { $('#rp-error').textContent = e.message; $('#rp-info').textContent = ''; }
  }
  $('#rp-load').addEventListener('click', load);
  api('/api/reports').then(d => {
    $('#rp-list').innerHTML = d.reports.length ? `<table><tr><th>Day</th><th>Files</th></tr>${d.reports.map(r => `<tr><td><a href="/reports/${esc(r.date)}/index.html" target="_blank" rel="noopener">${esc(r.date)}</a></td>
      <td>${r.files.filter(f => /\.png$/.test(f)).map(f => `<a href="/reports/${esc(r.date)}/${esc(f)}" target="_blank" rel="noopener">${esc(f)}</a>`).join(' ')}</td></tr>`).join('')}</table>`
      : '<p class="empty">No reports written yet: <code>finstream report</code>.</p>';
  }).catch(e => { $('#rp-list').innerHTML = `<p class="error">${esc(e.message)}</p>`; });
  load();
};

/* ---- routing and start ---- */

function route() {
  if (cleanup) { try { cleanup(); } catch (e) { /* ignore */ } cleanup = null; }
  notice('');
  const hash = location.hash.replace(/^#\/?/, '') || 'overview';
  const slash = hash.indexOf('/');
  const page = slash < 0 ? hash : hash.slice(0, slash);
  const arg = slash < 0 ? '' : decodeURIComponent(hash.slice(slash + 1));
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.page === (page === 'stream' ? 'streams' : page)));
  const f = pages[page] || pages.overview;
  cleanup = f(arg) || null;
  document.body.dataset.page = page;
}

function showLogin() { $('#login').hidden = false; }

$('#login-form').addEventListener('submit', async ev => {
  ev.preventDefault();
  const f = ev.target;
  const body = f.token.value ? {token: f.token.value} : {access_key_id: f.id.value, secret_access_key: f.secret.value};
  try {
    const r = await api('/api/login', {method: 'POST', body});
    csrf = r.csrf;
    $('#login').hidden = true;
    start();
  } catch (e) { $('#login-error').textContent = e.message; }
});

async function start() {
  try {
    session = await api('/api/session');
  } catch (e) { notice('The console does not answer: ' + e.message); return; }
  if (session.login_required && !session.authenticated) { showLogin(); return; }
  csrf = session.csrf || csrf;
  if (!haveCM || !haveUPlot) notice(MISSING_LIBS);
  startEvents();
  window.addEventListener('hashchange', route);
  route();
}

start();
