/* The reclaim lane's browser test (tests/report/browser.sh appends this
 * script to the page of examples/14_swap.lua): the timeline shows reclaim
 * on its own lane with the run's numbers, the memory and swap counters are
 * plotted, the step that reclaimed narrates its passes and swap-outs, and
 * the lane's steps are reachable from the keyboard. Writes "REPORT-CHECK
 * PASS" or the failures into the page. */
(async function () {
  'use strict';
  const fails = [];
  const check = (ok, what) => { if (!ok) fails.push(what); };
  try {
    const R = window.vmsimReport;
    const M = R.model, steps = M.steps;
    const lastK = (name) => {
      const k = M.counters.indexOf(name);
      for (let i = steps.length - 1; i >= 0; i--) if (steps[i].k) return steps[i].k[k];
      return undefined;
    };
    const pswpout = lastK('pswpout'), pswpin = lastK('pswpin');
    check(pswpout > 0 && pswpin > 0, 'the model counts pages swapped out and in');
    const touch = steps.findIndex((s) => s.n === 'madvise');
    check(touch > 0, 'the run has its madvise step');
    R.setStep(touch);
    R.showView('time');
    const lane = document.querySelector('#time section.reclaim');
    check(lane !== null, 'the timeline has a reclaim lane');
    const svg = lane && lane.querySelector('svg[role=img]');
    const label = svg ? svg.getAttribute('aria-label') : '';
    check(label.includes(pswpout + ' swapped out') && label.includes(pswpin + ' swapped in'),
      'the lane says the run\'s ' + pswpout + ' pages out and ' + pswpin + ' in: ' + label);
    check(/by kswapd/.test(label) && !/counted only/.test(label), 'the lane tells kswapd passes apart: ' + label);
    check(svg && svg.querySelectorAll('rect[fill="var(--k-anon)"]').length > 0, 'a kswapd pass is drawn');
    const charts = [...document.querySelectorAll('#time .chart figcaption')].map((f) => f.textContent);
    for (const name of ['free_frames', 'swap_used', 'pswpin', 'pswpout'])
      check(charts.some((c) => c.startsWith(name + ':')), 'the ' + name + ' counter is plotted');
    check(charts.some((c) => c.startsWith('pswpout: ' + pswpout + ' ') || c.includes('to ' + pswpout + ')')), 'the pswpout plot reaches ' + pswpout);
    const cur = document.querySelector('#time ol.steps li.cur');
    const evs = cur ? [...cur.querySelectorAll('.ev')].map((e) => e.textContent) : [];
    check(evs.some((e) => /^vmscan +kswapd wakes/.test(e)), 'the step narrates kswapd waking');
    check(evs.some((e) => /^swap +frame 0x[0-9a-f]+ written to swap slot 1 /.test(e)), 'the step narrates the first page going to slot 1');
    /* the steps with reclaim, reached from the keyboard */
    const buttons = [...lane.querySelectorAll('ol.reclaim-steps button')];
    check(buttons.some((b) => b.dataset.step === String(touch)), 'the madvise step is in the lane\'s list');
    const read = buttons.find((b) => b.dataset.step !== String(touch));
    check(read && /swapped in/.test(read.textContent), 'the read that swapped in is listed: ' + (read && read.textContent));
    if (read) {
      read.focus();
      read.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
      read.click();
      check(R.step() === Number(read.dataset.step), 'choosing a step of the lane shows it');
    }
  } catch (e) {
    fails.push('exception: ' + e.message);
  }
  const out = document.createElement('pre');
  out.id = 'report-check';
  out.textContent = fails.length ? 'REPORT-CHECK FAIL\n' + fails.join('\n') : 'REPORT-CHECK PASS';
  document.body.append(out);
})();
