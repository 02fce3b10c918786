/* The report's browser test (tests/report/browser.sh appends this script
 * to the page of known.lua): drives the page as a reader would, through the
 * DOM and the keyboard, and writes "REPORT-CHECK PASS" or the failures into
 * the page, which the test reads back with --dump-dom. */
(async function () {
  'use strict';
  const fails = [];
  const check = (ok, what) => { if (!ok) fails.push(what); };
  const tick = () => new Promise((r) => setTimeout(r, 0));
  const key = (target, k) => target.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));
  const text = (sel) => [...document.querySelectorAll(sel)].map((e) => e.textContent);
  try {
    const R = window.vmsimReport;
    check(R && R.model && R.model.v === 3, 'window.vmsimReport with model version 3');
    const steps = R.model.steps;
    const last = steps.length - 1;
    check(steps[last].n === 'load' && steps[last - 1].n === 'load', 'the last steps are the loads');
    check(R.step() === last, 'the page opens at the last step');

    /* 1. address spaces: the split VMA and the shared page, in both processes */
    R.showView('as');
    const maps = text('#as td.maps');
    for (const want of ['10000000-10001000 rw-p', '10001000-10002000 r--p', '10002000-10003000 rw-p', '7ffff7ffe000-7ffff7fff000 rw-s'])
      check(maps.filter((m) => m.startsWith(want)).length === 2, 'maps line ' + want + ' in both processes');
    check(maps.some((m) => m.includes('/dev/zero (deleted)')), 'the shared page is named /dev/zero (deleted)');
    check(text('#as h3').some((h) => h.startsWith('Process 1001')), 'the child has an address space');
    const seg = document.querySelector('#as .seg');
    check(seg && seg.getAttribute('aria-label').startsWith('10000000-10001000 rw-p'), 'a VMA segment is labelled with its maps line');

    /* the step control: Home, then the arrows */
    key(document.body, 'Home');
    check(R.step() === 0 && document.getElementById('step').value === '0', 'Home goes to step 0');
    check(/No process/.test(document.getElementById('as').textContent), 'step 0 has no process');
    key(document.body, 'ArrowRight');
    key(document.body, 'ArrowRight');
    check(R.step() === 2, 'two right arrows go to step 2');
    check(/step 2 of/.test(document.getElementById('stepno').textContent), 'the step number says 2');
    check(text('#as td.maps').some((m) => m.startsWith('10000000-10003000 rw-p')), 'after the mmap: one VMA of 3 pages');
    document.getElementById('last').click();
    check(R.step() === last, 'the last-step button');

    /* keyboard navigation between the views */
    const tabAs = document.getElementById('tab-as');
    tabAs.focus();
    key(tabAs, 'ArrowRight');
    check(R.view() === 'pt' && document.activeElement.id === 'tab-pt', 'ArrowRight on a tab moves to the next view');
    check(!document.getElementById('view-pt').hidden && document.getElementById('view-as').hidden, 'only the chosen view shows');

    /* 2. page tables: the walk of the third page */
    const input = document.getElementById('walkaddr');
    input.value = '0x10002000';
    input.form.requestSubmit();
    await tick();
    const walk = document.getElementById('walkout').textContent;
    check(/PGD 0/.test(walk) && /PTE 2/.test(walk), 'the address splits into PGD 0 ... PTE 2');
    check(/PTE\[2\] = 8000000000/.test(walk), 'the walk reaches PTE[2], present and NX');
    check(document.querySelectorAll('#pt .hl').length === 4, 'four entries light up');
    const leaf = document.querySelector('#pt .pt-leaf.hl');
    check(leaf && /P.*US.*A.*D.*NX/.test(leaf.textContent) && /PFN 0x/.test(leaf.textContent), 'the PTE is decoded');
    const det = document.querySelector('#pt details.pt-entry:not([open])');
    if (det) { det.open = true; await new Promise((r) => setTimeout(r, 20)); }
    check(!det || det.querySelector('.pt-table'), 'opening an entry shows the table below it');

    /* 3. TLBs: CPU 1 ran the child's store */
    key(document.body, '3');
    check(R.view() === 'tlb', 'key 3 shows the TLBs');
    const cpus = document.querySelectorAll('#tlb section');
    check(cpus.length === 2, 'two CPUs');
    check(cpus[1] && cpus[1].querySelectorAll('.slot.v').length === 4, 'CPU 1 holds the child\'s two pages in L1d and L2');
    check(cpus[1] && /runs process 1001/.test(cpus[1].textContent), 'CPU 1 runs the child');

    /* 4. physical memory: pages shared by fork show their mapcount */
    key(document.body, '4');
    const shared = [...document.querySelectorAll('#mem .frame.shared')];
    check(shared.length === 2 && shared.every((f) => f.textContent === '2'), 'the two frames mapped twice (the third page, the shared page) show 2');
    check(document.querySelectorAll('#mem .frame').length >= 17, 'every used frame is drawn');

    /* 5. timeline */
    key(document.body, '5');
    check(document.querySelectorAll('#time ol.steps li').length === steps.length, 'one line per step');
    check(document.querySelector('#time li.cur') !== null, 'the current step is marked');
    check(document.querySelectorAll('#time .chart').length >= 4, 'counters are plotted');
    document.querySelector('#time li[data-step="3"] button').click();
    check(R.step() === 3, 'choosing a call shows its step');

    /* 6. the VMA tree: the same nodes, colours and children as --dot's
     * graph of the machine's end (window.dotTrees, from browser.sh) */
    R.setStep(last);
    key(document.body, '6');
    check(R.view() === 'tree', 'key 6 shows the VMA tree');
    const dots = window.dotTrees || {};
    check(Object.keys(dots).length === 2, 'the --dot graphs of both processes were read');
    for (const pid in dots) {
      const T = R.vmaTree(pid);
      const want = dots[pid];
      check(T && T.nodes.size === Object.keys(want.colour).length, 'process ' + pid + ': as many nodes as --dot draws');
      if (!T) continue;
      const hexOf = (pg) => (BigInt(pg) << 12n).toString(16);
      for (const [s, [red, l, r]] of T.nodes) {
        const h = hexOf(s);
        check(want.colour[h] === (red ? 'red' : 'black'), 'process ' + pid + ': node ' + h + ' is ' + want.colour[h]);
        check((want.left[h] || '') === (l ? hexOf(l) : '') && (want.right[h] || '') === (r ? hexOf(r) : ''), 'process ' + pid + ': node ' + h + '\'s children as --dot draws them');
      }
      check(want.root === hexOf(T.root), 'process ' + pid + ': the root is ' + want.root);
      /* the gaps the page computes from the VMAs are the tree's own, as
       * --dot writes them ("256 MiB" exact, "~128 TiB" to 4 digits) */
      const bytes = (text) => {
        const m = /^(~?)([0-9.]+) (bytes|KiB|MiB|GiB|TiB|PiB)$/.exec(text);
        return m ? [Number(m[2]) * 1024 ** ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'].indexOf(m[3]), m[1] === '~'] : [NaN, false];
      };
      const same = (got, text) => { const [b, approx] = bytes(text); return approx ? Math.abs(got - b) <= b * 1e-3 : got === b; };
      for (const [s] of T.nodes) {
        const h = hexOf(s);
        check(same(T.gap.get(s) * 4096, want.gap[h]) && same(T.subGap(s) * 4096, want.sub[h]),
          'process ' + pid + ': node ' + h + '\'s gaps ' + T.gap.get(s) * 4096 + ', ' + T.subGap(s) * 4096 + ' are --dot\'s ' + want.gap[h] + ', ' + want.sub[h]);
      }
      const sec = document.querySelector('section.vmatree[data-mm="' + pid + '"]');
      const g = sec && sec.querySelector('g.node[data-start="' + want.root + '"]');
      check(g && g.getAttribute('aria-label').startsWith(want.colour[want.root] + ' node 0x' + want.root), 'process ' + pid + ': the root is drawn and labelled');
    }
    /* a node opens its subtree, from the keyboard */
    const sec = document.querySelector('section.vmatree');
    const child = sec && sec.querySelectorAll('g.node')[1];
    if (child) {
      const start = child.dataset.start;
      child.focus();
      child.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
      const now = document.querySelector('section.vmatree');
      check(now.querySelector('g.node').dataset.start === start && /subtree of 0x/.test(now.textContent), 'Enter on a node draws its subtree');
      [...now.querySelectorAll('button')].find((b) => b.textContent === 'Back to the root').click();
      check(/from the root/.test(document.querySelector('section.vmatree').textContent), 'back to the root');
    }

    /* every view says what it shows, and every tab has a panel */
    for (const p of document.querySelectorAll('[role=tabpanel]'))
      check(p.querySelector('p.about') && p.getAttribute('aria-labelledby'), 'view ' + p.id + ' has its text and label');
  } catch (e) {
    fails.push('exception: ' + e.message);
  }
  const out = document.createElement('pre');
  out.id = 'report-check';
  out.textContent = fails.length ? 'REPORT-CHECK FAIL\n' + fails.join('\n') : 'REPORT-CHECK PASS';
  document.body.append(out);
})();
