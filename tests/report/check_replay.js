/* The replay page's browser test (tests/report/browser.sh appends this
 * script, after window.replayJson, the lines `vmsim replay --json` printed
 * for the same trace): every plot is drawn and holds the replay's numbers.
 * Writes "REPORT-CHECK PASS" or the failures into the page. */
(function () {
  'use strict';
  const fails = [];
  const check = (ok, what) => { if (!ok) fails.push(what); };
  try {
    const M = window.vmsimReplay.model, J = window.replayJson;
    const total = J.find((l) => l.type === 'figures' && l.scope === 'total');
    const samples = J.filter((l) => l.type === 'sample');
    const lru = J.filter((l) => l.type === 'lru'), ram = J.filter((l) => l.type === 'ram');
    /* the figures: the table's total row is --json's */
    const row = [...document.querySelectorAll('#regions table tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent));
    const n = (v) => Number(v).toLocaleString('en');
    const t = row.find((r) => r[0] === 'total');
    check(t && t[1] === n(total.accesses) && t[2] === n(total.l1_hits) && t[5] === n(total.l2_misses) && t[9] === n(total.minflt),
      'the total row holds the replay\'s figures: ' + t);
    const regions = J.filter((l) => l.type === 'figures' && l.scope === 'region');
    check(regions.length > 1 && regions.every((g) => row.some((r) => r[0] === g.name && r[1] === n(g.accesses) && r[10] === n(g.majflt))),
      'every region of --json is a row with its accesses and faults');
    check(regions.every((g) => document.querySelector('#regions svg g[data-row="' + g.name + '"] rect')), 'every region has its bars');
    /* resident memory: one point per sample, ending at the last sample */
    const line = document.querySelector('#resident svg polyline[data-series="frames_used"]');
    check(line && line.getAttribute('points').trim().split(' ').length === samples.length, 'the resident plot has one point per sample');
    const last = samples[samples.length - 1];
    const label = document.querySelector('#resident svg[role=img]').getAttribute('aria-label');
    check(label.includes('to ' + n(last.frames_used) + ' frames') && label.includes(n(last.access) + ' accesses'),
      'the resident plot ends at ' + last.frames_used + ' frames: ' + label);
    const faults = document.querySelectorAll('#resident svg[role=img]')[1];
    check(faults && faults.getAttribute('aria-label').includes(n(last.minflt) + ' minor'), 'the fault plot ends at the last sample\'s minor faults');
    /* the memory-size curve: each plotted point is --json's curve there */
    const at = (pages) => { let m = null; for (const l of lru) if (l.pages <= pages) m = l.misses; return m; };
    check(M.lru && M.lru.points.length > 4 && M.lru.points.every(([p, m]) => at(p) === m), 'every point of the curve is the LRU count at its size');
    check(document.querySelector('#curve polyline[data-series="lru"]').getAttribute('points').trim().split(' ').length === M.lru.points.length,
      'the curve is drawn through every point');
    check(ram.length === 3 && ram.every((r) => {
      const sq = document.querySelector('#curve rect[data-ram="' + r.bytes + '"]');
      return sq && sq.querySelector('title').textContent.includes(n(r.majflt) + ' major faults');
    }), 'each --ram run is a square with its major faults');
    for (const s of document.querySelectorAll('main > section'))
      check(s.querySelector('p.about') && s.getAttribute('aria-labelledby') && s.tabIndex === 0, 'section ' + s.id + ' says what it shows and is reachable');
    check(document.querySelectorAll('svg.plot[role=img][aria-label]').length === 4, 'four plots, each labelled');
  } catch (e) {
    fails.push('exception: ' + e.message);
  }
  const out = document.createElement('pre');
  out.id = 'report-check';
  out.textContent = fails.length ? 'REPORT-CHECK FAIL\n' + fails.join('\n') : 'REPORT-CHECK PASS';
  document.body.append(out);
})();
