/* The replay page's script: draws the model of `vmsim replay --html`
 * (tools/replay_html.c, docs/traces.md) as SVG plots with a table of the
 * numbers beside each. No network, no library. window.vmsimReplay gives a
 * script the model. */
(function () {
  'use strict';
  const M = JSON.parse(document.getElementById('model').textContent);
  const $ = (id) => document.getElementById(id);
  /* SVG's namespace, read from a parsed element: the page names no URL. */
  const NS = (() => { const d = document.createElement('div'); d.innerHTML = '<svg></svg>'; return d.firstChild.namespaceURI; })();
  /* Okabe and Ito's colours, each with a dash pattern: never colour alone. */
  const SERIES = {
    frames_used: ['#0072b2', '', 'frames in use'],
    cache_frames: ['#e69f00', '6 3', 'page cache'],
    pgtable_frames: ['#d55e00', '2 2', 'page tables'],
    minflt: ['#009e73', '', 'minor faults'],
    majflt: ['#cc79a7', '6 3', 'major faults'],
  };
  const num = (n) => Number(n).toLocaleString('en');
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === 'class') e.className = attrs[k];
      else if (k === 'text') e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  }
  function svgEl(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function size(bytes) {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0, v = bytes;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return (Number.isInteger(v) ? v : v.toFixed(1)) + ' ' + u[i];
  }
  function legend(keys) {
    const ul = el('ul', { class: 'legend', 'aria-label': 'Legend' });
    for (const k of keys) {
      const [colour, dash, label] = SERIES[k] || k;
      const s = svgEl('svg', { width: 28, height: 10, 'aria-hidden': 'true' });
      s.append(svgEl('line', { x1: 0, x2: 28, y1: 5, y2: 5, stroke: colour, 'stroke-width': 3, 'stroke-dasharray': dash }));
      ul.append(el('li', {}, s, label));
    }
    return ul;
  }
  function table(label, head, rows) {
    const t = el('table', { 'aria-label': label });
    t.append(el('thead', {}, el('tr', {}, ...head.map((h, i) => el('th', { class: i ? 'num' : '', text: h })))));
    const tb = el('tbody');
    for (const r of rows) tb.append(el('tr', {}, ...r.map((v, i) => el('td', { class: i ? 'num' : '', text: v }))));
    t.append(tb);
    return t;
  }
  /* A line chart: xs, and series of ys, each [key, values]. */
  function lineChart(label, xs, series, xlabel, ylabel) {
    const W = 720, H = 240, X0 = 70, Y0 = 10, PW = W - X0 - 20, PH = H - Y0 - 40;
    const xmax = Math.max(1, ...xs), ymax = Math.max(1, ...series.flatMap(([, v]) => v));
    const s = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'plot', role: 'img', 'aria-label': label });
    s.append(svgEl('rect', { x: X0, y: Y0, width: PW, height: PH, fill: '#fcfcfc', stroke: '#999' }));
    for (const f of [0, 0.5, 1]) {
      s.append(svgEl('text', { x: X0 - 4, y: Y0 + PH - f * PH + 4, 'text-anchor': 'end', 'font-size': 11 }, num(Math.round(f * ymax))));
      s.append(svgEl('text', { x: X0 + f * PW, y: Y0 + PH + 14, 'text-anchor': 'middle', 'font-size': 11 }, num(Math.round(f * xmax))));
    }
    s.append(svgEl('text', { x: X0 + PW / 2, y: H - 4, 'text-anchor': 'middle', 'font-size': 11 }, xlabel));
    s.append(svgEl('text', { x: 12, y: Y0 + PH / 2, 'text-anchor': 'middle', 'font-size': 11, transform: 'rotate(-90 12 ' + (Y0 + PH / 2) + ')' }, ylabel));
    for (const [key, ys] of series) {
      const [colour, dash, name] = SERIES[key];
      const pts = xs.map((x, i) => (X0 + PW * x / xmax).toFixed(1) + ',' + (Y0 + PH - PH * ys[i] / ymax).toFixed(1)).join(' ');
      const line = svgEl('polyline', { fill: 'none', stroke: colour, 'stroke-width': 2, 'stroke-dasharray': dash, points: pts, 'data-series': key });
      line.append(svgEl('title', {}, name + ': ' + num(ys[ys.length - 1]) + ' at the end'));
      s.append(line);
    }
    return s;
  }

  function drawResident() {
    const root = $('resident');
    const S = M.samples;
    if (!S.length) { root.append(el('p', { text: 'No samples: the trace made no access.' })); return; }
    const xs = S.map((s) => s[0]);
    const last = S[S.length - 1];
    root.append(legend(['frames_used', 'cache_frames', 'pgtable_frames']));
    root.append(lineChart('Frames in use over the replay: from ' + num(S[0][1]) + ' to ' + num(last[1]) + ' frames of 4 KiB (' + size(last[1] * 4096) + ') after ' + num(last[0]) + ' accesses; page cache ' + num(last[2]) + ', page tables ' + num(last[3]),
      xs, [['frames_used', S.map((s) => s[1])], ['cache_frames', S.map((s) => s[2])], ['pgtable_frames', S.map((s) => s[3])]], 'accesses replayed', 'frames'));
    root.append(legend(['minflt', 'majflt']));
    root.append(lineChart('Faults over the replay: ' + num(last[4]) + ' minor and ' + num(last[5]) + ' major at the end',
      xs, [['minflt', S.map((s) => s[4])], ['majflt', S.map((s) => s[5])]], 'accesses replayed', 'faults'));
    root.append(el('details', {}, el('summary', { text: 'The ' + S.length + ' samples as a table' }),
      table('Samples of the replay', ['accesses', 'frames in use', 'page cache', 'page tables', 'minor faults', 'major faults'], S.map((s) => s.map(num)))));
  }

  const col = (name) => M.columns.indexOf(name);
  const OUTCOMES = [['l1', '#0072b2', 'L1 TLB hit', ''], ['l2', '#56b4e9', 'L2 TLB hit', 'url(#hatch)'], ['walk', '#d55e00', 'page walk', '']];
  function drawRegions() {
    const root = $('regions');
    const rows = M.rows;
    const A = col('accesses'), H1 = col('l1_hits'), M1 = col('l1_misses'), H2 = col('l2_hits'), M2 = col('l2_misses');
    const F = col('minflt'), J = col('majflt');
    const shown = rows.filter((r) => r[0] !== 'cpu' || r[A]);
    const maxF = Math.max(1, ...shown.filter((r) => r[0] !== 'total').map((r) => r[F] + r[J]));
    const lw = 190, bw = 300, fw = 200, RH = 22, W = lw + bw + fw + 120, Hh = shown.length * RH + 24;
    const s = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + Hh, class: 'plot', role: 'img', 'aria-label': 'For each of ' + shown.length + ' rows (total, CPUs, regions): its accesses split by how they were translated, and its faults' });
    const defs = svgEl('defs', {});
    const pat = svgEl('pattern', { id: 'hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' });
    pat.append(svgEl('rect', { width: 6, height: 6, fill: '#56b4e9' }), svgEl('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#000', 'stroke-width': 1.5 }));
    defs.append(pat);
    s.append(defs);
    s.append(svgEl('text', { x: lw + 4, y: 12, 'font-size': 11 }, 'accesses: L1 hit | L2 hit | walk'));
    s.append(svgEl('text', { x: lw + bw + 24, y: 12, 'font-size': 11 }, 'faults: minor | major'));
    shown.forEach((r, i) => {
      const y = 20 + i * RH;
      const g = svgEl('g', { 'data-row': r[1] });
      g.append(svgEl('text', { x: lw - 6, y: y + 14, 'text-anchor': 'end', 'font-size': 12, 'font-weight': r[0] === 'total' ? 'bold' : 'normal' }, r[1].length > 28 ? '...' + r[1].slice(-27) : r[1]));
      const tr = r[H1] + r[M1] || 1, parts = { l1: r[H1], l2: r[H2], walk: r[M2] };
      let x = lw;
      for (const [key, colour, name, fill] of OUTCOMES) {
        const w = bw * parts[key] / tr;
        if (w > 0) {
          const rect = svgEl('rect', { x: x.toFixed(1), y, width: w.toFixed(1), height: RH - 6, fill: fill || colour, stroke: '#fff', 'stroke-width': 0.5 });
          rect.append(svgEl('title', {}, r[1] + ': ' + num(parts[key]) + ' ' + name + (parts[key] === 1 ? '' : 's') + ' (' + (100 * parts[key] / tr).toFixed(1) + ' %)'));
          g.append(rect);
        }
        x += w;
      }
      if (r[0] !== 'total') {
        let fx = lw + bw + 24;
        for (const [k, colour] of [[F, '#009e73'], [J, '#000000']]) {
          const w = fw * r[k] / maxF;
          if (w > 0) {
            const rect = svgEl('rect', { x: fx.toFixed(1), y, width: Math.max(1, w).toFixed(1), height: RH - 6, fill: colour });
            rect.append(svgEl('title', {}, r[1] + ': ' + num(r[k]) + (k === F ? ' minor' : ' major') + ' faults'));
            g.append(rect);
          }
          fx += w;
        }
        g.append(svgEl('text', { x: (fx + 4).toFixed(1), y: y + 13, 'font-size': 11 }, num(r[F]) + ' + ' + num(r[J])));
      }
      s.append(g);
    });
    const ul = el('ul', { class: 'legend', 'aria-label': 'Legend' });
    for (const [, colour, name, fill] of OUTCOMES) {
      const sw = svgEl('svg', { width: 16, height: 12, 'aria-hidden': 'true' });
      if (fill) sw.append(defs.cloneNode(true));
      sw.append(svgEl('rect', { width: 16, height: 12, fill: fill ? 'url(#hatch)' : colour }));
      ul.append(el('li', {}, sw, name));
    }
    ul.append(el('li', {}, el('span', { class: 'sw', style: 'background:#009e73', 'aria-hidden': 'true' }), 'minor faults'),
      el('li', {}, el('span', { class: 'sw', style: 'background:#000', 'aria-hidden': 'true' }), 'major faults'));
    root.append(ul, s);
    const names = ['', 'accesses', 'L1 hits', 'L1 misses', 'L2 hits', 'L2 misses', 'walks', 'walk refs', 'PSC hits', 'minor faults', 'major faults', 'page tables', 'resident pages'];
    root.append(table('Figures per CPU and region', names, rows.map((r) => [r[1], ...r.slice(2).map((v) => (v === null ? '-' : num(v)))])));
  }

  function drawCurve() {
    const root = $('curve');
    const L = M.lru;
    if (!L) { root.append(el('p', { text: 'No curve: the replay ran with --no-lru.' })); return; }
    root.append(el('p', { text: num(L.touches) + ' page touches, ' + num(L.pages) + ' distinct pages (' + size(L.pages * 4096) + '): at that RAM or more only the first touches miss.' }));
    const pts = L.points, runs = M.ram.filter((r) => !r.failed);
    const lx = (p) => Math.log2(Math.max(1, p));
    const xmax = Math.max(1, lx(pts[pts.length - 1][0]), ...runs.map((r) => lx(r.bytes / 4096)));
    const ymax = Math.max(1, ...pts.map((p) => p[1]), ...runs.map((r) => r.majflt));
    const W = 720, H = 280, X0 = 70, Y0 = 10, PW = W - X0 - 20, PH = H - Y0 - 40;
    const X = (p) => X0 + PW * lx(p) / xmax, Y = (m) => Y0 + PH - PH * m / ymax;
    const s = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'plot', role: 'img', 'aria-label': 'Misses against RAM size: ' + num(pts[0][1]) + ' with one page, none from ' + size(pts[pts.length - 1][0] * 4096) + (runs.length ? '; vmsim at ' + runs.map((r) => size(r.bytes) + ': ' + num(r.majflt) + ' major faults').join(', ') : '') });
    s.append(svgEl('rect', { x: X0, y: Y0, width: PW, height: PH, fill: '#fcfcfc', stroke: '#999' }));
    for (let i = 0; i <= xmax; i += xmax > 12 ? 2 : 1)
      s.append(svgEl('text', { x: X0 + PW * i / xmax, y: Y0 + PH + 14, 'text-anchor': 'middle', 'font-size': 11 }, size(4096 * 2 ** i).replace(' ', '')));
    for (const f of [0, 0.5, 1]) s.append(svgEl('text', { x: X0 - 4, y: Y(f * ymax) + 4, 'text-anchor': 'end', 'font-size': 11 }, num(Math.round(f * ymax))));
    s.append(svgEl('text', { x: X0 + PW / 2, y: H - 4, 'text-anchor': 'middle', 'font-size': 11 }, 'RAM (log scale)'));
    const line = svgEl('polyline', { fill: 'none', stroke: '#0072b2', 'stroke-width': 2, points: pts.map((p) => X(p[0]).toFixed(1) + ',' + Y(p[1]).toFixed(1)).join(' '), 'data-series': 'lru' });
    line.append(svgEl('title', {}, 'exact LRU: misses at each RAM size'));
    s.append(line);
    for (const r of runs) {
      const d = svgEl('rect', { x: (X(r.bytes / 4096) - 5).toFixed(1), y: (Y(r.majflt) - 5).toFixed(1), width: 10, height: 10, fill: '#d55e00', stroke: '#000', 'data-ram': String(r.bytes) });
      d.append(svgEl('title', {}, 'vmsim with ' + size(r.bytes) + ': ' + num(r.majflt) + ' major faults (LRU: ' + num(r.lru_misses) + ')'));
      s.append(d);
    }
    const ul = el('ul', { class: 'legend', 'aria-label': 'Legend' });
    ul.append(el('li', {}, el('span', { class: 'sw', style: 'background:#0072b2;height:4px', 'aria-hidden': 'true' }), 'exact LRU (line)'));
    if (runs.length) ul.append(el('li', {}, el('span', { class: 'sw', style: 'background:#d55e00', 'aria-hidden': 'true' }), 'vmsim\'s reclaim (squares)'));
    root.append(ul, s);
    root.append(el('details', {}, el('summary', { text: 'The curve as a table' }),
      table('LRU misses by RAM size', ['RAM', 'pages', 'LRU misses'], pts.map((p) => [size(p[0] * 4096), num(p[0]), num(p[1])]))));
    if (runs.length || M.ram.length)
      root.append(table('vmsim replayed at each RAM size', ['RAM', 'LRU misses', 'vmsim major faults', 'minor faults', 'pages swapped in', 'swapped out'],
        M.ram.map((r) => [size(r.bytes), num(r.lru_misses), r.failed ? 'failed' : num(r.majflt) + (r.oom ? ' (OOM)' : ''), num(r.minflt), num(r.pswpin), num(r.pswpout)])));
  }

  const h = M.head;
  const name = M.trace.split('/').pop();
  $('title').textContent = 'Replay of ' + name + (M.exec ? ' (' + M.exec + ')' : '');
  document.title = $('title').textContent + ' - vmsim';
  $('summary').textContent = M.generator + ': ' + num(h.records) + ' records, ' + num(h.accesses) + ' accesses, ' + num(h.mm_calls) + ' mm calls' +
    (h.mm_differ ? ' (' + num(h.mm_differ) + ' with another result)' : '') + ', ' + num(h.vmas_made) + ' VMAs made for memory no call made, ' +
    num(h.signals) + ' signals; a machine of ' + size(h.frames_total * 4096) + ' and ' + h.ncpus + ' CPU' + (h.ncpus > 1 ? 's' : '') + (h.oom_killed ? '; the OOM killer ended the process' : '') +
    (M.native ? '. Natively: ' + num(M.native.minflt) + ' minor and ' + num(M.native.majflt) + ' major faults.' : '.');
  drawResident();
  drawRegions();
  drawCurve();
  window.vmsimReplay = { model: M };
  document.documentElement.dataset.readyMs = String(Math.round(performance.now()));
})();
