/* The report's script: rebuilds the machine's state at any step from the
 * model's per-step diffs (docs/report.md) and draws the five views. No
 * network, no library. window.vmsimReport is the page's interface for
 * tests and for readers' own scripts. */
(function () {
  'use strict';
  const M = JSON.parse(document.getElementById('model').textContent);
  const $ = (id) => document.getElementById(id);
  const KIND_LETTER = ['A', 'S', 'F', 'W', 'H', 'K', 'V', 'U'];
  const KIND_TEXT = ['private anonymous', 'shared anonymous', 'file, private', 'file, shared',
    'heap', 'stack', 'special (vdso, vvar, vsyscall)', 'hugetlb'];
  const OWNER_LETTER = ['', 'R', 'Z', 'T', 'A', 'C', 'S', 'W', 'K'];
  const OWNER_TEXT = ['free', 'reserved', 'zero page', 'page table', 'anonymous', 'page cache',
    'shared memory', 'swap cache', 'kernel'];
  const LIGHT = new Set(['k-hugetlb', 'k-special', 'o-free', 'o-zero', 'k-shared-anon', 'o-shmem',
    'k-file-private', 'o-page-cache']);
  const LEVEL_NAMES = { 4: ['', 'PTE', 'PMD', 'PUD', 'PGD'], 5: ['', 'PTE', 'PMD', 'PUD', 'P4D', 'PGD'] };
  const MAX_ROWS = 200, MAX_CELLS = 4096, MAX_SEGS = 240, WINDOW = 60;
  /* SVG's namespace, read from a parsed element: the page names no URL. */
  const SVG_NS = (() => { const d = document.createElement('div'); d.innerHTML = '<svg></svg>'; return d.firstChild.namespaceURI; })();

  const hex = (n) => '0x' + n.toString(16);
  const pageHex = (pg) => (BigInt(pg) << 12n).toString(16);
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === 'class') e.className = attrs[k];
      else if (k === 'text') e.textContent = attrs[k];
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  }
  function size(bytes) {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let i = 0, v = bytes;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return (Number.isInteger(v) ? v : v.toFixed(1)) + ' ' + u[i];
  }

  /* ---- the state at a step ---- */

  function newState(cfg) {
    return {
      tasks: [], mms: new Map(), cpus: [],
      tlb: Array.from({ length: cfg.ncpus }, () => cfg.tlb.map((g) => new Array(g.entries).fill(null))),
      owner: new Uint8Array(cfg.frames), mapcount: new Int32Array(cfg.frames),
      refcount: new Int32Array(cfg.frames), fflags: new Uint8Array(cfg.frames), hw: 0,
      changed: { vmas: new Set(), tables: new Set(), tlb: new Set(), frames: new Set(), tree: new Set() },
    };
  }
  function mmOf(st, key) {
    let mm = st.mms.get(key);
    if (!mm) { mm = { vmas: new Map(), sorted: null, tables: new Map(), tree: new Map() }; st.mms.set(key, mm); }
    return mm;
  }
  /* A table's entries are kept as the runs that built them until a view
   * reads them: a large tree costs nothing until it is opened. */
  function newTable(level, va) {
    const t = { level, va, pending: [], map: new Map() };
    Object.defineProperty(t, 'entries', { get() {
      for (const runs of t.pending) applyRuns(t.map, runs);
      t.pending.length = 0;
      return t.map;
    } });
    return t;
  }
  function markRuns(runs, changed, pfn) {
    for (const [i, n, , stride] of runs)
      for (let k = 0; k < n && changed.size < 4096; k++) changed.add(pfn + ':' + (i + k * (stride || 1)));
  }
  function applyRuns(entries, runs) {
    for (const [i, n, h, stride] of runs) {
      const e0 = BigInt('0x' + h), step = (e0 & 1n) ? 0x1000n : 0n, d = stride || 1;
      for (let k = 0; k < n; k++) {
        const v = e0 + BigInt(k) * step, at = i + k * d;
        if (v === 0n) entries.delete(at); else entries.set(at, v);
      }
    }
  }
  /* The numbers of the strings "vs", "rt" and "tlb": base 32, the lowest
   * digit first, a digit of the alphabet's second half saying more follow. */
  const MODEL_DIGITS = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_';
  const MODEL_DIGIT = new Uint8Array(128);
  for (let i = 0; i < MODEL_DIGITS.length; i++) MODEL_DIGIT[MODEL_DIGITS.charCodeAt(i)] = i;
  class ModelNumbers {
    constructor(s) { this.s = s; this.k = 0; }
    more() { return this.k < this.s.length; }
    next() {
      let v = 0, scale = 1, d;
      do {
        d = this.k < this.s.length ? MODEL_DIGIT[this.s.charCodeAt(this.k++) & 127] : 0;
        v += (d & 31) * scale;
        scale *= 32;
      } while (d & 32);
      return v;
    }
  }
  /* A signed difference written zigzag: 2d for d >= 0, -2d - 1 below. */
  const unzigzag = (z) => (z % 2 ? -(z + 1) / 2 : z / 2);
  function apply(st, d, mark) {
    const ch = st.changed;
    if (mark) { ch.vmas.clear(); ch.tables.clear(); ch.tlb.clear(); ch.frames.clear(); ch.tree.clear(); }
    if (d.tasks) st.tasks = d.tasks;
    for (const key of d.mmdel || []) st.mms.delete(String(key));
    for (const key in d.mm || {}) {
      const mm = mmOf(st, key), x = d.mm[key];
      for (const s of x.vd || []) { mm.vmas.delete(s); mm.tree.delete(s); }
      const vs = new ModelNumbers(x.vs || '');
      for (let prevEnd = 0; vs.more();) {
        /* [start from the last end, pages, kind, vm_flags, name, offset, major, minor, ino, guards, gate] */
        const first = vs.next(), c = [(first - first % 8) / 8];
        for (let k = first % 8 + 3; k > 0; k--) c.push(vs.next());
        const start = prevEnd + c[0], end = start + c[1], f = c[3];
        const v = [start, end, c[2], f & 7, (f & 0x80) ? 1 : 0, f, c[5] || 0, c[6] || 0, c[7] || 0, c[8] || 0, c[4] || 0, c[9] || 0, c[10] || 0];
        prevEnd = end;
        mm.vmas.set(start, v);
        if (mark) ch.vmas.add(key + ':' + start);
      }
      if (x.vd || x.vs) mm.sorted = null;
      /* the VMA tree's nodes: [red, left child's start, right child's start] */
      const rt = new ModelNumbers(x.rt || '');
      for (let prev = 0; rt.more();) {
        const first = rt.next(), code = first % 8, start = prev + (first - code) / 8;
        const left = code & 2 ? start - rt.next() : 0, right = code & 4 ? start + rt.next() : 0;
        mm.tree.set(start, [code & 1, left, right]);
        prev = start;
        if (mark) ch.tree.add(key + ':' + start);
      }
      for (const p of x.td || []) mm.tables.delete(p);
      for (const [pfn, level, va, patch, runs] of x.ts || []) {
        let t = mm.tables.get(pfn);
        if (!patch || !t) { t = newTable(level, va); mm.tables.set(pfn, t); }
        t.pending.push(runs); /* expanded when a view reads the table */
        if (mark) markRuns(runs, ch.tables, pfn);
      }
    }
    for (const [cpu, level, slots] of d.tlb || []) {
      const arr = st.tlb[cpu][level], ns = new ModelNumbers(slots);
      /* each slot: differences from the one before, vpn and pfn zigzag */
      for (let slot = 0, vpn = 0, pfn = 0, bits = 0; ns.more();) {
        const first = ns.next(), what = first % 4;
        slot += (first - what) / 4;
        if (what & 1) {
          vpn += unzigzag(ns.next());
          pfn += unzigzag(ns.next());
          if (!(what & 2)) bits = ns.next();
          arr[slot] = [slot, vpn, pfn, Math.floor(bits / 256), bits % 256];
        } else arr[slot] = null;
        if (mark) ch.tlb.add(cpu + ':' + level + ':' + slot);
      }
    }
    for (const c of d.cpu || []) st.cpus[c[0]] = c;
    for (const [pfn, n, owner, mc, rc, fl] of d.fr || []) {
      st.owner.fill(owner, pfn, pfn + n); st.mapcount.fill(mc, pfn, pfn + n);
      st.refcount.fill(rc, pfn, pfn + n); st.fflags.fill(fl, pfn, pfn + n);
      if (mark) for (let k = 0; k < n && ch.frames.size < 4096; k++) ch.frames.add(pfn + k);
    }
    if (d.hw !== undefined) st.hw = Math.max(st.hw, d.hw);
  }
  function sortedVmas(mm) {
    if (!mm.sorted) mm.sorted = [...mm.vmas.values()].sort((a, b) => a[0] - b[0]);
    return mm.sorted;
  }

  /* Steps: each belongs to a machine; a step without a state shows the
   * last state taken of its machine. */
  const steps = M.steps;
  const machines = new Map(M.machines.map((c) => [c.number, c]));
  const counterAt = [];
  { const last = new Map(); steps.forEach((s, i) => { if (s.k) last.set(s.m, s.k); counterAt[i] = last.get(s.m) || null; }); }
  const stateStep = [];
  { const last = new Map(); steps.forEach((s, i) => { if (s.d) last.set(s.m, i); stateStep[i] = last.get(s.m); }); }

  let built = null; // {idx, states: Map(machine -> state)}
  function stateAt(i) {
    if (!built || built.idx > i) built = { idx: -1, states: new Map() };
    for (let j = built.idx + 1; j <= i; j++) {
      const s = steps[j];
      if (!s.d) continue;
      let st = built.states.get(s.m);
      if (!st) { st = newState(machines.get(s.m)); built.states.set(s.m, st); }
      apply(st, s.d, j === i);
    }
    if (built.idx !== i) for (const [m, st] of built.states) if (steps[i] && (m !== steps[i].m || !steps[i].d)) {
      const c = st.changed; c.vmas.clear(); c.tables.clear(); c.tlb.clear(); c.frames.clear(); c.tree.clear();
    }
    built.idx = i;
    return built.states.get(steps[i].m);
  }

  /* ---- the page's frame ---- */

  let cur = 0, view = 'as', selMm = null, walkAddr = null;
  const rendered = {};
  function setStep(i, from) {
    if (!steps.length) return;
    cur = Math.max(0, Math.min(steps.length - 1, i));
    $('step').value = cur;
    const s = steps[cur];
    $('stepno').textContent = 'step ' + cur + ' of ' + (steps.length - 1) + ' (machine ' + s.m + ')';
    $('call').textContent = s.c;
    $('call').className = 'call' + (s.f ? ' failed' : '');
    const at = stateStep[cur];
    $('stateat').textContent = at === cur ? 'The views show the state after this step.'
      : at === undefined ? 'No state recorded yet.'
      : 'The views show the state after step ' + at + ', the last one recorded before this step (a large run keeps a state every few calls).';
    for (const k in rendered) rendered[k] = false;
    render();
    if (from !== 'hash') writeHash();
  }
  function showView(v) {
    view = v;
    for (const t of document.querySelectorAll('[role=tab]')) {
      const on = t.dataset.view === v;
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      t.tabIndex = on ? 0 : -1;
      $('view-' + t.dataset.view).hidden = !on;
    }
    render();
    writeHash();
  }
  function render() {
    if (!steps.length || rendered[view]) return;
    const st = stateAt(cur);
    ({ as: drawAs, pt: drawPt, tlb: drawTlb, mem: drawMem, time: drawTime, tree: drawTree })[view](st, steps[cur]);
    rendered[view] = true;
  }
  function writeHash() {
    const h = '#view=' + view + '&step=' + cur + (walkAddr ? '&addr=' + walkAddr : '');
    if (location.hash !== h) history.replaceState(null, '', h);
  }
  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    if (p.get('addr')) walkAddr = p.get('addr');
    if (p.get('view') && $('view-' + p.get('view'))) view = p.get('view');
    const s = parseInt(p.get('step'), 10);
    return Number.isFinite(s) ? s : steps.length - 1;
  }

  /* tooltip for hover and focus */
  const tip = $('tip');
  /* Hover and keyboard focus show an element's data-tip; one listener for
   * the whole page, so that thousands of cells cost no handlers. */
  function tipFor(e, text) {
    e.dataset.tip = text;
    e.setAttribute('aria-label', text.split('\n')[0]);
  }
  function tipTarget(ev) { return ev.target && ev.target.closest ? ev.target.closest('[data-tip]') : null; }
  document.addEventListener('mouseover', (ev) => { const e = tipTarget(ev); if (!e) { tip.hidden = true; return; } tip.textContent = e.dataset.tip; tip.hidden = false; move(ev); });
  document.addEventListener('mousemove', (ev) => { if (!tip.hidden) move(ev); });
  document.addEventListener('focusin', (ev) => { const e = tipTarget(ev); if (!e) { tip.hidden = true; return; } tip.textContent = e.dataset.tip; tip.hidden = false; const r = e.getBoundingClientRect(); place(r.left, r.bottom + 4); });
  document.addEventListener('focusout', () => { tip.hidden = true; });
  function move(ev) { place(ev.clientX + 12, ev.clientY + 14); }
  function place(x, y) {
    tip.style.left = Math.min(x, window.innerWidth - tip.offsetWidth - 8) + 'px';
    tip.style.top = Math.min(y, window.innerHeight - tip.offsetHeight - 8) + 'px';
  }
  function legend(items) {
    const ul = el('ul', { class: 'legend', 'aria-label': 'Legend' });
    for (const [cls, letter, text] of items)
      ul.append(el('li', {}, el('span', { class: 'sw' + (LIGHT.has(cls) ? ' light' : ''), style: 'background:var(--' + cls + ')', 'aria-hidden': 'true', text: letter }), text));
    return ul;
  }

  /* ---- 1. address spaces ---- */

  function mapsLine(v) {
    const [s, e, , , shared, flags, off, maj, min, ino, name] = v;
    const f = Number(flags);
    const perms = (f & 1 ? 'r' : '-') + (f & 2 ? 'w' : '-') + (f & 4 ? 'x' : '-') + (shared ? 's' : 'p');
    let line = pageHex(s).padStart(8, '0') + '-' + pageHex(e).padStart(8, '0') + ' ' + perms + ' ' +
      off.toString(16).padStart(8, '0') + ' ' + maj.toString(16).padStart(2, '0') + ':' +
      min.toString(16).padStart(2, '0') + ' ' + ino + ' ';
    const nm = M.names[name] || '';
    if (nm) line = line.padEnd(73, ' ') + nm;
    return line;
  }
  function vmaText(v, pids) {
    const bytes = (v[1] - v[0]) * 4096;
    return mapsLine(v) + '\n' + KIND_TEXT[v[2]] + ', ' + size(bytes) + (v[11] ? ', guard pages installed' : '') +
      (v[12] ? '\nthe vsyscall page: in no process\'s VMA tree' : '') +
      (pids ? '\nprocess ' + pids : '');
  }
  function segWidth(v) { return Math.round(18 + 9 * Math.log2(v[1] - v[0])); }
  function drawAs(st) {
    const root = $('as');
    root.replaceChildren();
    root.append(legend(M.vma_kinds.map((k, i) => ['k-' + k, KIND_LETTER[i], KIND_TEXT[i]])));
    if (!st || !st.mms.size) { root.append(el('p', { text: 'No process has an address space at this step.' })); return; }
    for (const [key, mm] of st.mms) {
      const pids = st.tasks.filter((t) => String(t[1]) === String(key)).map((t) => t[0]);
      const vmas = sortedVmas(mm);
      const box = el('section', { 'aria-label': 'Address space of process ' + key });
      let total = 0;
      for (const v of vmas) if (!v[12]) total += (v[1] - v[0]) * 4096;
      box.append(el('h3', { text: 'Process ' + key + (pids.length > 1 ? ' (tasks ' + pids.join(', ') + ')' : '') + ': ' + vmas.length + ' VMAs, ' + size(total) + ' mapped' }));
      box.append(drawStrip(key, vmas, st, pids.join(', ')));
      root.append(box);
    }
  }
  function drawStrip(key, vmas, st, pids) {
    const wrap = el('div');
    const strip = el('div', { class: 'strip', role: 'list', 'aria-label': 'VMAs in address order' });
    const per = Math.max(1, Math.ceil(vmas.length / MAX_SEGS));
    const table = el('div');
    const showRows = (from, to) => table.replaceChildren(vmaTable(key, vmas, from, to, st, pids));
    for (let i = 0; i < vmas.length; i += per) {
      const group = vmas.slice(i, i + per), v = group[0];
      const prevEnd = i ? vmas[i - 1][1] : null;
      if (prevEnd !== null && v[0] > prevEnd) strip.append(el('div', { class: 'gap', 'aria-hidden': 'true', title: 'gap of ' + size((v[0] - prevEnd) * 4096), text: size((v[0] - prevEnd) * 4096).replace(' ', '') }));
      const kinds = new Array(8).fill(0);
      for (const g of group) kinds[g[2]] += 1;
      const kind = kinds.indexOf(Math.max(...kinds));
      const k = M.vma_kinds[kind];
      const seg = el('div', { class: 'seg' + (LIGHT.has('k-' + k) ? ' light' : '') + (group.some((g) => g[11]) ? ' guards' : '') + (per > 1 ? ' bucket' : ''),
        role: 'listitem', tabindex: '0', style: 'background-color:var(--k-' + k + ');width:' + (per > 1 ? 14 : segWidth(v)) + 'px', text: per > 1 ? '' : KIND_LETTER[kind] });
      if (st.changed.vmas.has(key + ':' + v[0])) seg.classList.add('sel');
      if (per > 1) {
        const last = group[group.length - 1];
        tipFor(seg, group.length + ' VMAs from 0x' + pageHex(v[0]) + ' to 0x' + pageHex(last[1]) + ', mostly ' + KIND_TEXT[kind] + '\nopen: Enter or click');
        const open = () => showRows(i, i + group.length);
        seg.addEventListener('click', open);
        seg.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } });
      } else {
        tipFor(seg, vmaText(v, pids));
      }
      strip.append(seg);
    }
    wrap.append(strip, table);
    showRows(0, Math.min(vmas.length, MAX_ROWS));
    return wrap;
  }
  function vmaTable(key, vmas, from, to, st, pids) {
    const box = el('div');
    const t = el('table', { 'aria-label': 'VMAs ' + (from + 1) + ' to ' + to + ' as /proc/' + key + '/maps shows them' });
    t.append(el('thead', {}, el('tr', {}, el('th', { text: 'kind' }), el('th', { class: 'num', text: 'size' }), el('th', { text: 'maps line' }))));
    const tb = el('tbody');
    for (let i = from; i < to && i < vmas.length; i++) {
      const v = vmas[i];
      const k = M.vma_kinds[v[2]];
      const tr = el('tr', { class: st.changed.vmas.has(key + ':' + v[0]) ? 'changed' : '' },
        el('td', {}, el('span', { class: 'sw' + (LIGHT.has('k-' + k) ? ' light' : ''), style: 'background:var(--k-' + k + ')', 'aria-hidden': 'true', text: KIND_LETTER[v[2]] }), ' ' + k),
        el('td', { class: 'num', text: size((v[1] - v[0]) * 4096) }),
        el('td', { class: 'maps', text: mapsLine(v) }));
      tipFor(tr, vmaText(v, pids));
      tb.append(tr);
    }
    t.append(tb);
    box.append(t);
    if (to < vmas.length || from > 0)
      box.append(el('p', { class: 'more', text: 'VMAs ' + (from + 1) + ' to ' + Math.min(to, vmas.length) + ' of ' + vmas.length + ' listed. ' }),
        el('button', { type: 'button', text: 'List the next ' + MAX_ROWS, onclick: () => box.replaceWith(vmaTable(key, vmas, to, Math.min(vmas.length, to + MAX_ROWS), st, pids)) }));
    return box;
  }

  /* ---- 2. page tables ---- */

  const BITS = [['P', 0n], ['RW', 1n], ['US', 2n], ['A', 5n], ['D', 6n], ['NX', 63n]];
  function decode(e) {
    const pfn = (e >> 12n) & 0xffffffffffn;
    const present = (e & 1n) === 1n;
    let what = '';
    if (!present) what = e === (1n << 58n) ? 'guard marker' : (e & 0x100n) ? 'PROT_NONE' : 'swap entry';
    return { pfn, present, what };
  }
  function bitsEl(e) {
    const s = el('span', { class: 'bits' });
    for (const [n, b] of BITS) s.append(el('b', { class: ((e >> b) & 1n) ? 'on' : 'off', text: n }), ' ');
    return s;
  }
  function pickMm(st) {
    const keys = [...st.mms.keys()];
    if (!keys.length) return null;
    if (!keys.includes(selMm)) selMm = keys[0];
    return selMm;
  }
  function mmChooser(st, onchange) {
    const keys = [...st.mms.keys()];
    const sel = el('select', { 'aria-label': 'Process' });
    for (const k of keys) sel.append(el('option', { value: k, text: 'process ' + k }));
    sel.value = selMm;
    sel.addEventListener('change', () => { selMm = sel.value; onchange(); });
    return el('label', {}, 'Process ', sel);
  }
  function drawPt(st) {
    const root = $('pt');
    root.replaceChildren();
    const key = st && pickMm(st);
    if (!key) { root.append(el('p', { text: 'No process has page tables at this step.' })); return; }
    const mm = st.mms.get(key);
    let top = null;
    for (const [pfn, t] of mm.tables) if (!top || t.level > top[1].level) top = [pfn, t];
    const levels = top ? top[1].level : 4;
    const names = LEVEL_NAMES[levels] || LEVEL_NAMES[4];
    const input = el('input', { type: 'text', id: 'walkaddr', size: '20', placeholder: '0x7ffff7ffe000', 'aria-label': 'Virtual address to walk', value: walkAddr || '' });
    const out = el('div', { id: 'walkout', 'aria-live': 'polite' });
    const form = el('form', { class: 'walkform' }, mmChooser(st, () => { rendered.pt = false; render(); }), ' ',
      el('label', {}, 'Walk the address ', input), ' ', el('button', { type: 'submit', text: 'Walk' }));
    const tree = el('div', { role: 'tree', 'aria-label': 'Page-table tree of process ' + key });
    form.addEventListener('submit', (e) => { e.preventDefault(); walkAddr = input.value.trim(); writeHash(); doWalk(); });
    root.append(form, out, tree);
    if (!top) { tree.append(el('p', { text: 'No page table.' })); return; }
    tree.append(tableBox(mm, top[0], top[1], names, st));
    const count = [0, 0, 0, 0, 0, 0];
    for (const t of mm.tables.values()) count[t.level]++;
    root.insertBefore(el('p', { class: 'about', text: mm.tables.size + ' tables: ' + count.map((n, l) => n ? n + ' ' + names[l] : '').filter(Boolean).reverse().join(', ') + '.' }), tree);
    function doWalk() {
      out.replaceChildren();
      for (const h of tree.querySelectorAll('.hl')) h.classList.remove('hl');
      if (!walkAddr) return;
      let va;
      try { va = BigInt(walkAddr.startsWith('0x') ? walkAddr : '0x' + walkAddr); } catch (e) { out.append(el('p', { text: 'Not an address: ' + walkAddr })); return; }
      const split = el('div', { class: 'split', 'aria-label': 'The address split into its indices' });
      for (let l = levels; l >= 1; l--) {
        const idx = Number((va >> BigInt(12 + 9 * (l - 1))) & 511n);
        const hi = 12 + 9 * l - 1;
        split.append(el('span', {}, names[l] + ' ' + idx, el('small', { text: 'bits ' + hi + '-' + (hi - 8) })));
      }
      split.append(el('span', {}, 'offset ' + hex(Number(va & 4095n)), el('small', { text: 'bits 11-0' })));
      out.append(split);
      let box = tree.querySelector('.pt-table');
      let pfn = top[0];
      const steps = [];
      for (let l = levels; l >= 1; l--) {
        const t = mm.tables.get(pfn);
        const idx = Number((va >> BigInt(12 + 9 * (l - 1))) & 511n);
        const e = t ? t.entries.get(idx) : undefined;
        steps.push(names[l] + '[' + idx + ']' + (e === undefined ? ' empty: the walk stops' : ' = ' + e.toString(16).padStart(16, '0')));
        const node = box && box.querySelector(':scope > .pt-entries > [data-idx="' + idx + '"]');
        if (node) { node.classList.add('hl'); if (node.buildChild) { node.buildChild(); node.open = true; } }
        if (e === undefined || !(e & 1n)) break;
        if (l === 1) { steps.push('frame ' + hex(Number((e >> 12n) & 0xffffffffffn)) + ', physical address ' + hex(Number((e & 0xffffffffff000n) | (va & 4095n)))); break; }
        pfn = Number((e >> 12n) & 0xffffffffffn);
        box = node && node.querySelector(':scope > .pt-table');
      }
      out.append(el('ol', { class: 'mono' }, ...steps.map((s) => el('li', { text: s }))));
      const first = tree.querySelector('.hl');
      if (first && first.scrollIntoView) first.scrollIntoView({ block: 'nearest' });
    }
    if (walkAddr) doWalk();
  }
  function tableBox(mm, pfn, t, names, st) {
    const box = el('div', { class: 'pt-table', role: 'group', 'aria-label': names[t.level] + ' table at frame ' + hex(pfn) });
    const present = [...t.entries.entries()].sort((a, b) => a[0] - b[0]);
    box.append(el('div', { class: 'pt-head', text: names[t.level] + ' table, frame ' + hex(pfn) + ', covers from 0x' + pageHex(t.va) + ', ' + present.length + ' of 512 entries used' }));
    const list = el('div', { class: 'pt-entries' });
    box.append(list);
    let shown = 0;
    const more = (limit) => {
      for (; shown < present.length && shown < limit; shown++) list.append(entryNode(mm, pfn, t, present[shown], names, st));
    };
    more(t.level === 1 ? 64 : 512);
    if (shown < present.length) {
      const b = el('button', { type: 'button', text: 'Show all ' + present.length + ' entries' });
      b.addEventListener('click', () => { more(512); b.remove(); });
      box.append(b);
    }
    return box;
  }
  function entryNode(mm, pfn, t, [idx, e], names, st) {
    const d = decode(e);
    const span = BigInt(1) << BigInt(12 + 9 * (t.level - 1));
    const va = (BigInt(t.va) << 12n) + BigInt(idx) * span;
    const label = (names[t.level] + '[' + idx + ']').padEnd(9) + ' ' + e.toString(16).padStart(16, '0') + ' ';
    const changed = st.changed.tables.has(pfn + ':' + idx);
    const tail = d.present ? ' PFN ' + hex(Number(d.pfn)) + (t.level > 1 ? ' -> ' + names[t.level - 1] : '') : ' ' + d.what;
    if (t.level === 1 || !d.present || !mm.tables.get(Number(d.pfn))) {
      const leaf = el('div', { class: 'pt-leaf' + (changed ? ' changed' : ''), 'data-idx': String(idx), role: 'treeitem', tabindex: '-1' },
        label, bitsEl(e), tail + '  va 0x' + va.toString(16) + (changed ? '  (changed)' : ''));
      return leaf;
    }
    const det = el('details', { class: 'pt-entry', 'data-idx': String(idx), role: 'treeitem' });
    const sum = el('summary', {}, label, bitsEl(e), tail + '  va 0x' + va.toString(16) + (changed ? '  (changed)' : ''));
    det.append(sum);
    /* The table below is drawn when first opened: a large tree stays small. */
    det.buildChild = () => {
      if (!det.querySelector(':scope > .pt-table')) {
        const child = Number(d.pfn);
        det.append(tableBox(mm, child, mm.tables.get(child), names, st));
      }
    };
    det.addEventListener('toggle', () => { if (det.open) det.buildChild(); });
    return det;
  }

  /* ---- 3. TLBs ---- */

  function drawTlb(st) {
    const root = $('tlb');
    root.replaceChildren();
    const cfg = machines.get(steps[cur].m);
    root.append(legend([['k-anon', 'W', 'writable'], ['k-shared-anon', 'R', 'read-only'], ['k-file-private', 'X', 'executable']]));
    if (!st) return;
    for (let c = 0; c < cfg.ncpus; c++) {
      const info = st.cpus[c];
      const sec = el('section', { 'aria-label': 'CPU ' + c });
      let valid = 0;
      for (const lv of st.tlb[c]) for (const s of lv) if (s) valid++;
      sec.append(el('h3', { text: 'CPU ' + c + (info ? (info[1] ? ': runs process ' + info[1] : ': idle') + (info[4] ? ' (lazy TLB mode)' : '') + (info[3] ? ', CR3 frame ' + hex(info[3]) : '') + (info[2] ? ', PCID ' + info[2] : '') : '') + ', ' + valid + ' valid entries' }));
      const row = el('div', { class: 'tlbs' });
      cfg.tlb.forEach((g, l) => row.append(tlbGrid(st, c, l, g)));
      sec.append(row);
      const list = [];
      cfg.tlb.forEach((g, l) => st.tlb[c][l].forEach((s) => { if (s) list.push([l, s]); }));
      if (list.length) {
        const t = el('table', { 'aria-label': 'Valid TLB entries of CPU ' + c });
        t.append(el('thead', {}, el('tr', {}, ...['level', 'set', 'way', 'virtual page', 'frame', 'PCID', 'bits'].map((h) => el('th', { text: h })))));
        const tb = el('tbody');
        for (const [l, s] of list.slice(0, MAX_ROWS)) {
          const g = cfg.tlb[l];
          tb.append(el('tr', { class: st.changed.tlb.has(c + ':' + l + ':' + s[0]) ? 'changed' : '' },
            el('td', { text: g.name }), el('td', { class: 'num', text: Math.floor(s[0] / g.ways) }), el('td', { class: 'num', text: s[0] % g.ways }),
            el('td', { class: 'mono', text: '0x' + pageHex(s[1]) }), el('td', { class: 'mono', text: hex(s[2]) }), el('td', { class: 'num', text: s[3] }),
            el('td', { class: 'mono', text: permText(s[4]) })));
        }
        t.append(tb);
        sec.append(el('details', {}, el('summary', { text: 'The ' + list.length + ' valid entries as a table' }), t));
      }
      root.append(sec);
    }
  }
  function permText(b) { return (b & 1 ? 'W' : '-') + (b & 2 ? 'D' : '-') + (b & 4 ? 'X' : '-') + (b & 8 ? ' pkey-denied' : ''); }
  function tlbGrid(st, c, l, g) {
    const sets = g.entries / g.ways;
    const fig = el('figure', { class: 'tlbfig' });
    fig.append(el('figcaption', { text: g.name + ': ' + sets + ' sets x ' + g.ways + ' ways' }));
    const slots = st.tlb[c][l];
    const chunks = el('div', { class: 'tlbchunks', role: 'grid', 'aria-label': g.name + ' TLB of CPU ' + c + ', ' + sets + ' sets by ' + g.ways + ' ways' });
    for (let first = 0; first < sets; first += 32) {
      const grid = el('div', { class: 'tlbgrid', role: 'rowgroup', 'aria-label': 'sets ' + first + ' to ' + (Math.min(sets, first + 32) - 1), style: 'grid-template-columns:repeat(' + g.ways + ',10px)' });
      for (let i = first * g.ways; i < Math.min(sets, first + 32) * g.ways; i++) {
        const s = slots[i];
        const cell = el('div', { class: 'slot' + (s ? ' v' + (s[4] & 4 ? ' x' : s[4] & 1 ? '' : ' ro') : '') + (st.changed.tlb.has(c + ':' + l + ':' + i) ? ' changed' : ''), role: 'gridcell' });
        if (s) { cell.tabIndex = -1; tipFor(cell, g.name + ' set ' + Math.floor(i / g.ways) + ' way ' + (i % g.ways) + ': page 0x' + pageHex(s[1]) + ' -> frame ' + hex(s[2]) + ', PCID ' + s[3] + ', ' + permText(s[4])); }
        grid.append(cell);
      }
      chunks.append(grid);
    }
    const grid = chunks;
    fig.append(grid);
    return fig;
  }

  /* ---- 4. physical memory ---- */

  function drawMem(st) {
    const root = $('mem');
    root.replaceChildren();
    root.append(legend(M.owners.map((o, i) => ['o-' + o, OWNER_LETTER[i], OWNER_TEXT[i]])));
    if (!st) return;
    const cfg = machines.get(steps[cur].m);
    const hw = Math.max(1, st.hw);
    const counts = new Array(M.owners.length).fill(0);
    for (let p = 0; p < hw; p++) counts[st.owner[p]]++;
    counts[0] += cfg.frames - hw;
    root.append(el('p', { text: cfg.frames + ' frames of 4 KiB (' + size(cfg.frames * 4096) + '); drawn: the first ' + hw + ', which hold every frame used so far. ' + M.owners.map((o, i) => OWNER_TEXT[i] + ' ' + counts[i]).filter((x, i) => counts[i]).join(', ') + '.' }));
    let per = 1;
    while (hw / per > MAX_CELLS) per *= 2;
    const big = hw / per <= 256; /* a small memory: larger cells */
    const cols = big ? 16 : Math.min(64, Math.ceil(Math.sqrt(hw / per) * 2));
    const detail = el('div');
    const grid = frameGrid(st, 0, hw, per, cols, detail);
    if (big) { grid.classList.add('big'); grid.style.gridTemplateColumns = 'repeat(' + cols + ',28px)'; }
    root.append(grid, detail);
  }
  function frameGrid(st, from, to, per, cols, detail) {
    const grid = el('div', { class: 'frames', role: 'grid', 'aria-label': per > 1 ? 'Frames ' + from + ' to ' + (to - 1) + ' in blocks of ' + per : 'Frames ' + from + ' to ' + (to - 1), style: 'grid-template-columns:repeat(' + cols + ',16px)' });
    for (let p = from; p < to; p += per) {
      let owner, mc = 0, text, changed = false;
      if (per === 1) {
        owner = st.owner[p]; mc = st.mapcount[p]; changed = st.changed.frames.has(p);
        text = 'frame ' + hex(p) + ': ' + OWNER_TEXT[owner] + (owner ? ', mapcount ' + mc + ', refcount ' + st.refcount[p] + flagText(st.fflags[p]) : '');
      } else {
        const counts = new Array(M.owners.length).fill(0);
        let shared = 0;
        for (let q = p; q < p + per && q < to; q++) { counts[st.owner[q]]++; if (st.mapcount[q] > 1) shared++; if (st.changed.frames.has(q)) changed = true; }
        const used = counts.slice(1);
        owner = Math.max(...used) > 0 ? 1 + used.indexOf(Math.max(...used)) : 0;
        mc = shared ? 2 : 0;
        text = 'frames ' + hex(p) + '-' + hex(Math.min(to, p + per) - 1) + ': ' + M.owners.map((o, i) => counts[i] ? OWNER_TEXT[i] + ' ' + counts[i] : '').filter(Boolean).join(', ') + (shared ? ', ' + shared + ' mapped more than once' : '') + '\nopen: Enter or click';
      }
      const o = M.owners[owner];
      const cell = el('div', { class: 'frame' + (LIGHT.has('o-' + o) ? ' light' : '') + (mc > 1 ? ' shared' : '') + (per > 1 ? ' block' : '') + (changed ? ' changed' : ''), role: 'gridcell', tabindex: owner || per > 1 ? '0' : '-1', style: 'background:var(--o-' + o + ')', text: per === 1 && mc > 1 ? String(mc > 9 ? '+' : mc) : OWNER_LETTER[owner] });
      tipFor(cell, text);
      if (per > 1) {
        const open = () => { detail.replaceChildren(el('h3', { text: 'Frames ' + hex(p) + ' to ' + hex(Math.min(to, p + per) - 1) }), frameGrid(st, p, Math.min(to, p + per), Math.max(1, per / 64 | 0), 32, el('div'))); };
        cell.addEventListener('click', open);
        cell.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } });
      }
      grid.append(cell);
    }
    return grid;
  }
  function flagText(f) {
    const n = ['dirty', 'active', 'lru', 'referenced', 'unevictable', 'mlocked', 'swapcache'];
    const on = n.filter((x, i) => f & (1 << i));
    return on.length ? ', ' + on.join(' ') : '';
  }

  /* ---- 5. timeline ---- */

  function drawTime() {
    const root = $('time');
    root.replaceChildren();
    const mnum = steps[cur].m;
    const idx = [];
    steps.forEach((s, i) => { if (s.m === mnum) idx.push(i); });
    const charts = el('div', { class: 'charts', role: 'list', 'aria-label': 'Counters over the steps of machine ' + mnum });
    M.counters.forEach((name, k) => {
      const vals = idx.map((i) => (counterAt[i] ? counterAt[i][k] : 0));
      const max = Math.max(...vals, 0), min = Math.min(...vals, max);
      if (max === min) return;
      const W = 300, H = 46, n = Math.max(1, vals.length - 1);
      const pts = vals.map((v, j) => (j * W / n).toFixed(1) + ',' + (H - 3 - (v - min) * (H - 6) / (max - min)).toFixed(1)).join(' ');
      const x = (idx.indexOf(cur) >= 0 ? idx.indexOf(cur) : 0) * W / n;
      const now = counterAt[cur] ? counterAt[cur][k] : 0;
      const fig = el('figure', { class: 'chart', role: 'listitem' });
      fig.innerHTML = '<figcaption>' + esc(name) + ': ' + now + ' at this step (from ' + min + ' to ' + max + ')</figcaption>' +
        '<svg viewBox="0 0 ' + W + ' ' + H + '" preserveAspectRatio="none" role="img" aria-label="' + esc(name) + ' over the steps"><polyline fill="none" stroke="#0072b2" stroke-width="2" points="' + pts + '"/><line x1="' + x + '" x2="' + x + '" y1="0" y2="' + H + '" stroke="#d55e00" stroke-width="2"/></svg>';
      charts.append(fig);
    });
    root.append(el('h3', { text: 'Counters' }), charts);
    root.append(reclaimLane(idx, mnum));
    const from = Math.max(0, cur - WINDOW), to = Math.min(steps.length, cur + WINDOW + 1);
    root.append(el('h3', { text: 'Calls ' + from + ' to ' + (to - 1) + ' of ' + (steps.length - 1) + ' (' + M.calls + ' calls in all)' }));
    const ol = el('ol', { class: 'steps', 'aria-label': 'Calls and their events' });
    for (let i = from; i < to; i++) {
      const s = steps[i];
      const li = el('li', { class: (i === cur ? 'cur' : '') + (s.f ? ' failed' : ''), 'data-step': String(i) });
      const b = el('button', { type: 'button', class: 'c', 'aria-current': i === cur ? 'step' : 'false', text: i + '  ' + s.c, onclick: () => setStep(i) });
      li.append(b);
      const nev = (s.e ? s.e.length : 0) + Object.values(s.ec || {}).reduce((a, b) => a + b, 0);
      if (nev) {
        const det = el('details', { open: i === cur ? '' : null });
        if (i !== cur) det.removeAttribute('open');
        det.append(el('summary', { text: nev + ' event' + (nev > 1 ? 's' : '') }));
        for (const [, text] of s.e || []) det.append(el('div', { class: 'ev', text }));
        for (const k in s.ec || {}) det.append(el('div', { class: 'ev', text: s.ec[k] + ' more ' + k + ' events (counted only)' }));
        li.append(det);
      }
      ol.append(li);
    }
    root.append(ol);
  }

  /* The reclaim lane: for each step of the machine, the reclaim passes its
   * call ran (kswapd or direct, from the events kept, else counted) and
   * the pages it reclaimed, swapped out and swapped in (from the counters,
   * exact however many events were only counted). */
  const RECLAIM_ROWS = [
    ['pass', 'k-anon', 'P', 'reclaim passes (K kswapd, D direct reclaim)'],
    ['steal', 'k-heap', 'R', 'pages reclaimed'],
    ['out', 'k-file-private', 'O', 'pages swapped out (pswpout)'],
    ['in', 'k-stack', 'I', 'pages swapped in (pswpin)'],
  ];
  function counterDelta(i, prev, name) {
    const k = M.counters.indexOf(name);
    if (k < 0) return 0;
    const now = counterAt[i] ? counterAt[i][k] : 0, before = prev >= 0 && counterAt[prev] ? counterAt[prev][k] : 0;
    return Math.max(0, now - before);
  }
  function reclaimOf(idx) {
    const begin = M.events.indexOf('reclaim-begin');
    return idx.map((i, j) => {
      const s = steps[i];
      let kswapd = 0, direct = 0;
      for (const [kind, text] of s.e || []) if (kind === begin) { if (/kswapd/.test(text)) kswapd++; else direct++; }
      const counted = (s.ec || {})['reclaim-begin'] || 0;
      const prev = j ? idx[j - 1] : -1;
      return { i, kswapd, direct, counted, steal: counterDelta(i, prev, 'pgsteal'), out: counterDelta(i, prev, 'pswpout'), in: counterDelta(i, prev, 'pswpin') };
    });
  }
  function reclaimLane(idx, mnum) {
    const box = el('section', { class: 'reclaim', 'aria-label': 'Reclaim of machine ' + mnum });
    box.append(el('h3', { text: 'Reclaim' }));
    const rows = reclaimOf(idx);
    const busy = rows.filter((r) => r.kswapd + r.direct + r.counted + r.steal + r.out + r.in > 0);
    if (!busy.length) {
      box.append(el('p', { class: 'about', text: 'No reclaim on this machine: its memory never ran short (no kswapd, no direct reclaim, nothing swapped).' }));
      return box;
    }
    const sum = (f) => rows.reduce((a, r) => a + f(r), 0);
    const passes = sum((r) => r.kswapd + r.direct + r.counted);
    const text = passes + ' reclaim passes (' + sum((r) => r.kswapd) + ' by kswapd, ' + sum((r) => r.direct) + ' direct' + (sum((r) => r.counted) ? ', ' + sum((r) => r.counted) + ' counted only' : '') + '), ' + sum((r) => r.steal) + ' pages reclaimed, ' + sum((r) => r.out) + ' swapped out, ' + sum((r) => r.in) + ' swapped in, in ' + busy.length + ' of ' + rows.length + ' steps.';
    box.append(el('p', { class: 'about', text: 'When free memory runs short, kswapd wakes (free frames at the low watermark) or the allocation reclaims itself (direct reclaim, at min): it takes the oldest pages off the inactive lists, writes anonymous ones to swap and dirty file pages to their file, and frees them. One column per step; the line marks the step shown. ' + text }));
    box.append(legend([['k-anon', 'K', 'a kswapd pass'], ['k-file-shared', 'D', 'a direct reclaim pass']].concat(RECLAIM_ROWS.slice(1).map(([, cls, letter, label]) => [cls, letter, label]))));
    /* As wide as the view, so that the letters keep their shape. */
    const W = Math.max(300, $('time').clientWidth - 4), RH = 16, H = RECLAIM_ROWS.length * RH, n = Math.max(1, rows.length);
    const cw = W / n, xOf = (j) => (j * cw).toFixed(2);
    const maxOf = (f) => Math.max(1, ...rows.map(f));
    const scale = { steal: maxOf((r) => r.steal), out: maxOf((r) => r.out), in: maxOf((r) => r.in) };
    let svg = '';
    RECLAIM_ROWS.forEach(([key, cls], row) => {
      const y0 = row * RH;
      svg += '<rect x="0" y="' + y0 + '" width="' + W + '" height="' + RH + '" fill="' + (row % 2 ? '#f4f4f4' : '#fcfcfc') + '"/>';
      rows.forEach((r, j) => {
        const w = Math.max(cw, 1.5);
        if (key === 'pass') {
          const all = r.kswapd + r.direct + r.counted;
          if (!all) return;
          const col = r.direct && !r.kswapd ? 'var(--k-file-shared)' : 'var(--k-anon)';
          svg += '<rect x="' + xOf(j) + '" y="' + (y0 + 2) + '" width="' + w.toFixed(2) + '" height="' + (RH - 4) + '" fill="' + col + '"' + (r.direct && r.kswapd ? ' stroke="#d55e00" stroke-width="1.5"' : '') + '/>';
          if (cw >= 10) /* the letter too: colour is never the only cue */
            svg += '<text x="' + (j * cw + cw / 2).toFixed(2) + '" y="' + (y0 + RH - 4) + '" font-size="10" font-weight="bold" fill="#fff" text-anchor="middle">' + (r.kswapd ? 'K' : '') + (r.direct ? 'D' : '') + '</text>';
        } else if (r[key]) {
          const h = Math.max(2, (RH - 3) * r[key] / scale[key]);
          svg += '<rect x="' + xOf(j) + '" y="' + (y0 + RH - 1 - h).toFixed(1) + '" width="' + w.toFixed(2) + '" height="' + h.toFixed(1) + '" fill="var(--' + cls + ')"/>';
        }
      });
    });
    const at = idx.indexOf(cur);
    if (at >= 0) svg = '<line x1="' + (at * cw + cw / 2).toFixed(2) + '" x2="' + (at * cw + cw / 2).toFixed(2) + '" y1="0" y2="' + H + '" stroke="#000" stroke-width="2"/>' + svg; /* under the letters */
    const fig = el('figure', { class: 'lane' });
    fig.innerHTML = '<svg viewBox="0 0 ' + W + ' ' + H + '" preserveAspectRatio="none" role="img" aria-label="' + esc('Reclaim lane: ' + text) + '">' + svg + '</svg>';
    fig.prepend(el('figcaption', { class: 'lane-rows', text: 'Rows, top to bottom: ' + RECLAIM_ROWS.map((r) => r[3]).join('; ') + '.' }));
    box.append(fig);
    /* The steps with reclaim, as buttons: keyboard and screen readers reach each one. */
    const list = el('ol', { class: 'reclaim-steps', 'aria-label': 'Steps that reclaimed memory' });
    for (const r of busy.slice(0, MAX_ROWS)) {
      const what = [];
      if (r.kswapd) what.push(r.kswapd + ' kswapd pass' + (r.kswapd > 1 ? 'es' : ''));
      if (r.direct) what.push(r.direct + ' direct reclaim pass' + (r.direct > 1 ? 'es' : ''));
      if (r.counted) what.push(r.counted + ' passes (counted)');
      if (r.steal) what.push(r.steal + ' reclaimed');
      if (r.out) what.push(r.out + ' swapped out');
      if (r.in) what.push(r.in + ' swapped in');
      list.append(el('li', { class: r.i === cur ? 'cur' : '' }, el('button', { type: 'button', class: 'c', 'data-step': String(r.i), 'aria-current': r.i === cur ? 'step' : 'false', text: 'step ' + r.i + ': ' + what.join(', '), onclick: () => setStep(r.i) })));
    }
    if (busy.length > MAX_ROWS) list.append(el('li', { text: (busy.length - MAX_ROWS) + ' more steps with reclaim' }));
    box.append(el('details', {}, el('summary', { text: 'The ' + busy.length + ' steps with reclaim' }), list));
    return box;
  }

  /* ---- 6. the VMA tree ---- */

  /* The tree as the page knows it: nodes by start (pages), the root, the
   * parents on the path from the root to top, and for the nodes within
   * TREE_LEVELS of top (every node when all) the gap below each (free pages
   * from the VMA before it, its in-order predecessor) and its subtree's
   * largest gap: the augmentation Linux keeps. One walk of the tree, with
   * no sort and no map of every node: 100,000 VMAs open fast. */
  function treeOf(mm, top, all) {
    const nodes = mm.tree;
    /* The root is the one node no other names as a child: every other key
     * appears twice among keys and children, so an XOR leaves the root's
     * (in two halves: JavaScript's bitwise operators take 32 bits). */
    let hi = 0, lo = 0;
    const mix = (k) => { hi ^= Math.floor(k / 4294967296); lo ^= k >>> 0; };
    for (const [k, [, l, r]] of nodes) { mix(k); if (l) mix(l); if (r) mix(r); }
    const root = nodes.size ? (hi >>> 0) * 4294967296 + (lo >>> 0) : null;
    if (root !== null && !nodes.has(root)) return { root: null, nodes, gap: new Map(), subGap: () => 0, vma: mm.vmas, parent: new Map(), height: 0, black: 0 };
    if (!top || !nodes.has(top)) top = root;
    const parent = new Map();
    for (let s = root; s && s !== top;) { /* the search for top from the root */
      const [, l, r] = nodes.get(s), next = top < s ? l : r;
      if (!next) break;
      parent.set(next, s);
      s = next;
    }
    const gap = new Map(), sub = new Map();
    let prevEnd = 0, height = 0;
    const walk = (s, d, win) => { /* win: depth below top, or -1 outside its window */
      const [, l, r] = nodes.get(s);
      const kid = win >= 0 && win + 1 < TREE_LEVELS ? win + 1 : -1;
      const gl = l ? walk(l, d + 1, l === top ? 0 : kid) : 0;
      const v = mm.vmas.get(s), g = s - prevEnd;
      prevEnd = v ? v[1] : s;
      const gr = r ? walk(r, d + 1, r === top ? 0 : kid) : 0;
      const m = Math.max(gl, g, gr);
      if (d + 1 > height) height = d + 1;
      if (win >= 0 || all || d === 0) { gap.set(s, g); sub.set(s, m); }
      return m;
    };
    if (root !== null) walk(root, 0, root === top ? 0 : -1);
    let black = 0;
    for (let s = root; s; s = nodes.get(s)[1]) if (!nodes.get(s)[0]) black++;
    return { root, top, parent, gap, subGap: (s) => sub.get(s) || 0, vma: mm.vmas, height, black, nodes };
  }
  const treeTop = new Map(); /* per address space: the node shown at the top */
  const TREE_LEVELS = 6;     /* drawn at once: 63 nodes; a node below opens on demand */
  function drawTree(st) {
    const root = $('tree');
    root.replaceChildren();
    root.append(legend([['t-red', 'R', 'red node'], ['t-black', 'B', 'black node'], ['t-nil', '', 'NIL leaf (no child)']]));
    if (!st || !st.mms.size) { root.append(el('p', { text: 'No process has an address space at this step.' })); return; }
    for (const [key, mm] of st.mms) root.append(treeSection(key, mm, st));
  }
  function treeSection(key, mm, st) {
    const box = el('section', { class: 'vmatree', 'aria-label': 'VMA tree of process ' + key, 'data-mm': key });
    const T = treeOf(mm, treeTop.get(key));
    if (!T.root) { box.append(el('h3', { text: 'Process ' + key + ': no VMA' })); return box; }
    const top = T.top;
    box.append(el('h3', { text: 'Process ' + key + ': ' + T.nodes.size + ' nodes, height ' + T.height + ', ' + T.black + ' black nodes on every path from the root to a NIL leaf; largest gap ' + size(T.subGap(T.root) * 4096) }));
    const nav = el('div', { class: 'treenav' });
    const redraw = (s) => { treeTop.set(key, s); box.replaceWith(treeSection(key, mm, st)); const n = document.querySelector('section.vmatree[data-mm="' + key + '"] g.node'); if (n) n.focus(); };
    if (top !== T.root) {
      nav.append(el('button', { type: 'button', text: 'Up to the parent', onclick: () => redraw(T.parent.get(top)) }),
        el('button', { type: 'button', text: 'Back to the root', onclick: () => redraw(T.root) }));
      let depth = 0;
      for (let s = top; T.parent.has(s); s = T.parent.get(s)) depth++;
      nav.append(' showing the subtree of 0x' + pageHex(top) + ', depth ' + depth);
    } else {
      nav.append('from the root' + (T.height >= TREE_LEVELS ? ': the first ' + TREE_LEVELS + ' levels; choose a node (Enter) to see its subtree' : ''));
    }
    box.append(nav);
    const W = Math.max(640, $('tree').clientWidth - 8), LH = 58;
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('class', 'treesvg');
    svg.setAttribute('role', 'tree');
    svg.setAttribute('aria-label', 'The red-black tree of process ' + key + '\'s VMAs, keyed by start address, from 0x' + pageHex(top));
    let parts = '';
    const nodes = [];
    const place = (s, d, i) => {
      const slots = 2 ** d, cx = (i + 0.5) * W / slots, cy = 8 + d * LH + 16;
      if (!s) { parts += '<circle cx="' + cx.toFixed(1) + '" cy="' + (cy - 10) + '" r="3" fill="#000"/>'; return [cx, cy - 10]; }
      const [red, l, r] = T.nodes.get(s);
      if (d + 1 < TREE_LEVELS) {
        for (const [c, j] of [[l, 2 * i], [r, 2 * i + 1]]) {
          const [x2, y2] = place(c, d + 1, j);
          parts += '<line x1="' + cx.toFixed(1) + '" y1="' + (cy + 16) + '" x2="' + x2.toFixed(1) + '" y2="' + (y2 - (c ? 16 : 0)) + '" stroke="#777"/>';
        }
      }
      nodes.push([s, d, cx, cy, red, l || r]);
      return [cx, cy];
    };
    place(top, 0, 0);
    const levels = Math.min(TREE_LEVELS, 1 + Math.max(...nodes.map((n) => n[1])) + 1); /* NIL dots too */
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + (levels * LH + 4));
    svg.innerHTML = parts;
    const NSVG = SVG_NS;
    for (const [s, d, cx, cy, red, more] of nodes) {
      const slotW = W / 2 ** d, w = Math.min(150, slotW - 4), v = T.vma.get(s);
      const g = document.createElementNS(NSVG, 'g');
      g.setAttribute('class', 'node' + (red ? ' red' : ' black') + (st.changed.tree.has(key + ':' + s) ? ' changed' : ''));
      g.setAttribute('role', 'treeitem');
      g.setAttribute('tabindex', '0');
      g.setAttribute('data-start', pageHex(s));
      const [, l, r] = T.nodes.get(s);
      tipFor(g, (red ? 'red' : 'black') + ' node 0x' + pageHex(s) + (v ? ': ' + mapsLine(v) : '') +
        '\ngap below it ' + size((T.gap.get(s) || 0) * 4096) + ', largest gap in its subtree ' + size(T.subGap(s) * 4096) +
        '\nleft child ' + (l ? '0x' + pageHex(l) : 'NIL') + ', right child ' + (r ? '0x' + pageHex(r) : 'NIL') +
        (s !== top || top !== T.root ? '\nEnter: show its subtree' : '') + (st.changed.tree.has(key + ':' + s) ? '\nchanged by this step' : ''));
      const rect = document.createElementNS(NSVG, 'rect');
      for (const [k, val] of [['x', cx - w / 2], ['y', cy - 16], ['width', w], ['height', 32], ['rx', 4]]) rect.setAttribute(k, String(val));
      g.append(rect);
      const text = document.createElementNS(NSVG, 'text');
      text.setAttribute('x', String(cx));
      text.setAttribute('y', String(cy - 3));
      text.setAttribute('text-anchor', 'middle');
      text.textContent = (red ? 'R' : 'B') + (w >= 110 ? ' ' + pageHex(s) : ''); /* what fits */
      g.append(text);
      if (w >= 110) {
        const t2 = document.createElementNS(NSVG, 'text');
        t2.setAttribute('x', String(cx));
        t2.setAttribute('y', String(cy + 11));
        t2.setAttribute('text-anchor', 'middle');
        t2.setAttribute('class', 'small');
        t2.textContent = 'gap ' + size((T.gap.get(s) || 0) * 4096) + ' / ' + size(T.subGap(s) * 4096);
        g.append(t2);
      }
      if (d === TREE_LEVELS - 1 && more) { /* more below: opened on demand */
        const t3 = document.createElementNS(NSVG, 'text');
        t3.setAttribute('x', String(cx));
        t3.setAttribute('y', String(cy + 28));
        t3.setAttribute('text-anchor', 'middle');
        t3.setAttribute('class', 'more-below');
        t3.textContent = '+';
        g.append(t3);
      }
      const open = () => { if (s !== top) redraw(s); };
      g.addEventListener('click', open);
      g.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } });
      svg.append(g);
    }
    box.append(svg);
    box.append(el('p', { class: 'about', text: 'Each box: R or B (its colour), its start address, then the gap below it and the largest gap in its subtree (the augmentation the free-range search reads). A + under a node on the last level: its subtree goes on.' }));
    return box;
  }

  /* ---- wiring ---- */

  function init() {
    $('title').textContent = M.title;
    document.title = M.title + ' - vmsim report';
    $('summary').textContent = M.generator + ': ' + M.calls + ' calls, ' + steps.length + ' steps, ' + M.machines.length + ' machine' + (M.machines.length === 1 ? '' : 's') + '.';
    $('step').max = Math.max(0, steps.length - 1);
    $('step').addEventListener('input', () => setStep(parseInt($('step').value, 10)));
    $('first').addEventListener('click', () => setStep(0));
    $('prev').addEventListener('click', () => setStep(cur - 1));
    $('next').addEventListener('click', () => setStep(cur + 1));
    $('last').addEventListener('click', () => setStep(steps.length - 1));
    const tabs = [...document.querySelectorAll('[role=tab]')];
    tabs.forEach((t, i) => {
      t.addEventListener('click', () => showView(t.dataset.view));
      t.addEventListener('keydown', (e) => {
        const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
        if (!d) return;
        e.preventDefault();
        const n = tabs[(i + d + tabs.length) % tabs.length];
        showView(n.dataset.view);
        n.focus();
      });
    });
    document.addEventListener('keydown', (e) => {
      const t = e.target;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.getAttribute('role') === 'tab')) return;
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === 'ArrowRight' || e.key === 'n') { e.preventDefault(); setStep(cur + 1); }
      else if (e.key === 'ArrowLeft' || e.key === 'p') { e.preventDefault(); setStep(cur - 1); }
      else if (e.key === 'Home') { e.preventDefault(); setStep(0); }
      else if (e.key === 'End') { e.preventDefault(); setStep(steps.length - 1); }
      else if (e.key >= '1' && e.key <= String(tabs.length)) { const tab = tabs[e.key - 1]; showView(tab.dataset.view); tab.focus(); }
    });
    window.addEventListener('hashchange', () => { const s = readHash(); showView(view); setStep(s, 'hash'); });
    const s = readHash();
    showView(view);
    setStep(s, 'hash');
  }

  window.vmsimReport = {
    model: M,
    step: () => cur,
    view: () => view,
    setStep, showView,
    state: (i) => stateAt(i === undefined ? cur : i),
    vmaTree: (key, i) => { const st = stateAt(i === undefined ? cur : i); const mm = st && st.mms.get(String(key)); return mm ? treeOf(mm, null, true) : null; },
    mapsLine,
  };
  init();
  /* When the first view was drawn, in ms from the start of the page's
   * loading (the load time make bench reports). */
  document.documentElement.dataset.readyMs = String(Math.round(performance.now()));
})();
