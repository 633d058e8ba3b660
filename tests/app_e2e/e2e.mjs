// End-to-end test of the App (issue #5): `fo app launch` serving the page, driven in headless
// Chromium by playwright-core. Usage: node e2e.mjs <fo binary> <screenshot directory>
//
// Everything runs in a fresh temporary store (FO_DATABASE_PATH, HOME and
// FIFTYONE_BRAIN_CONFIG_PATH point into it):
//   1. `fo demo --name shapes` (200 images; runs img_sim and patch_sim of ground_truth),
//      plus a small dataset whose file names are HTML.
//   2. `fo app launch shapes --port 0`, the URL read from its stdout.
//   3. The page: dataset, count, thumbnails with boxes, infinite scroll; click a sample, sort by
//      img_sim with k = 10, and compare the order and distances on the page with
//      `fo brain sort-by-similarity ... --json`; the same with two samples and "least similar";
//      back to unsorted; the expanded view with its boxes; the patches view sorted by patch_sim
//      against the library; a readable error for a run deleted behind the page's back; file names
//      with markup shown as text; a text prompt on a CLIP run (the tiny archive of ../shared/clip)
//      against the library. Screenshots app-sorted-grid.png, app-sorted-patches.png and
//      app-sorted-prompt.png.
//   4. SIGTERM to the server, which must exit cleanly.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const execFileP = promisify(execFile);

const [foBin, outDir] = process.argv.slice(2);
if (!foBin || !outDir) {
  console.error('usage: node e2e.mjs <fo binary> <screenshot directory>');
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const K = 10;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-app-e2e-'));
const env = { ...process.env };
for (const name of Object.keys(env)) if (name.startsWith('FIFTYONE_')) delete env[name];
Object.assign(env, {
  FO_DATABASE_PATH: path.join(tmp, 'fo.db'),
  HOME: path.join(tmp, 'home'),
  FIFTYONE_BRAIN_CONFIG_PATH: path.join(tmp, 'brain_config.json'),
});
fs.mkdirSync(env.HOME);

// ---------------------------------------------------------------------------------------------
// helpers

let step = '';
function log(message) {
  console.log(`[app_e2e] ${message}`);
}
function begin(name) {
  step = name;
  log(`-- ${name}`);
}
function check(condition, message) {
  if (!condition) throw new Error(`${step}: ${message}`);
}
function checkEqual(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${step}: ${message}\n  expected: ${e}\n  actual:   ${a}`);
}
function checkDistances(actual, expected) {
  check(actual.length === expected.length, `expected ${expected.length} distances, got ${actual.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]);
    const e = Number(expected[i]);
    check(Number.isFinite(a) && Math.abs(a - e) <= 1e-5 * (1 + Math.abs(e)), `distance #${i + 1}: page ${actual[i]}, library ${e}`);
  }
}

async function fo(...args) {
  try {
    const { stdout } = await execFileP(foBin, args, { env, maxBuffer: 64 << 20 });
    return stdout;
  } catch (e) {
    throw new Error(`fo ${args.join(' ')} failed (${e.code}): ${e.stderr || e.message}`);
  }
}
const foJson = async (...args) => JSON.parse(await fo(...args, '--json'));

function startServer(args) {
  const child = spawn(foBin, ['app', 'launch', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fo app launch printed no URL in 30 s; stderr: ${stderr}`)), 30000);
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = stdout.match(/App running at (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].endsWith('/') ? m[1] : `${m[1]}/`);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`fo app launch exited (${code ?? signal}) before printing its URL; stderr: ${stderr}`));
    });
  });
  return { child, url, exited, stderr: () => stderr };
}

// ---------------------------------------------------------------------------------------------
// page helpers

const T = (id) => `[data-testid="${id}"]`;
const ITEM = T('grid-item');

async function gridState(page) {
  return page.$$eval(ITEM, (nodes) =>
    nodes.map((n) => {
      const d = n.querySelector('[data-testid="distance"]');
      return {
        sampleId: n.dataset.sampleId ?? null,
        labelId: n.dataset.labelId ?? null,
        distance: d ? (d.dataset.distance ?? null) : null,
        distanceText: d ? d.textContent : null,
        selected: n.getAttribute('aria-selected') === 'true',
      };
    }),
  );
}

// The grid shows sorted results that were rendered after markStale (a new sort's, not the last one's).
async function markStale(page) {
  await page.$$eval(ITEM, (nodes) => nodes.forEach((n) => (n.dataset.e2eStale = '1')));
}

async function waitForSorted(page) {
  await page.waitForFunction(
    () => {
      const status = document.querySelector('[data-testid="sort-status"]');
      const items = [...document.querySelectorAll('[data-testid="grid-item"]')];
      return (
        status &&
        !status.hidden &&
        items.length > 0 &&
        items.every((n) => n.querySelector('[data-testid="distance"]') && !n.dataset.e2eStale)
      );
    },
    null,
    { timeout: 30000 },
  );
}

async function waitForUnsorted(page) {
  await page.waitForFunction(
    () => {
      const items = [...document.querySelectorAll('[data-testid="grid-item"]')];
      return items.length > 0 && !document.querySelector('[data-testid="distance"]') && items.every((n) => !n.dataset.e2eStale);
    },
    null,
    { timeout: 30000 },
  );
}

async function waitForImages(page, selector) {
  await page.waitForFunction(
    (sel) => {
      const imgs = [...document.querySelectorAll(sel)];
      return imgs.length > 0 && imgs.every((i) => i.complete);
    },
    selector,
    { timeout: 30000 },
  );
}

async function sortOnPage(page, { brainKey, k, reverse = false }) {
  await page.selectOption(T('brain-key-select'), brainKey);
  await page.fill(T('k-input'), String(k));
  if (reverse) await page.check(T('reverse-checkbox'));
  else if (await page.isVisible(T('reverse-checkbox'))) await page.uncheck(T('reverse-checkbox'));
  await markStale(page);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/sort_by_similarity') && r.request().method() === 'POST'),
    page.click(T('sort-button')),
  ]);
  check(response.ok(), `sort_by_similarity answered ${response.status()}: ${await response.text()}`);
  await waitForSorted(page);
  return gridState(page);
}

// ---------------------------------------------------------------------------------------------

let server = null;
let browser = null;
let failed = false;
const problems = []; // page errors, CSP violations, unexpected failed requests

try {
  begin('fixtures');
  await fo('demo', '--name', 'shapes');
  const runs = await foJson('brain', 'list', 'shapes', '--type', 'similarity');
  check(runs.includes('img_sim') && runs.includes('patch_sim'), `demo runs are ${JSON.stringify(runs)}`);
  const head = await foJson('datasets', 'head', 'shapes', '--n', '200');
  check(head.length === 200, `the demo has ${head.length} samples`);
  // File names that are markup: shown as text or the page is injectable.
  const evilDir = path.join(tmp, 'evil');
  fs.mkdirSync(evilDir);
  const evilNames = ['<img src=x onerror=window.__xss=1>.jpg', '<b>bold<i>italic.jpg'];
  for (const [i, name] of evilNames.entries()) fs.copyFileSync(head[i].filepath, path.join(evilDir, name));
  let evilDataset = '<img src=y onerror=window.__xss=2>';
  try {
    await fo('datasets', 'create', evilDataset, '--images', evilDir);
  } catch (e) {
    log(`a dataset named with markup was refused (${e.message.split('\n')[0]}); using "evil"`);
    evilDataset = 'evil';
    await fo('datasets', 'create', evilDataset, '--images', evilDir);
  }

  begin('server');
  server = startServer(['shapes', '--port', '0', '--address', '127.0.0.1', '--thumbnail-dir', path.join(tmp, 'thumbnails')]);
  const url = await server.url;
  log(`App at ${url}; datasets shapes and ${evilDataset}`);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(30000);
  let expectErrors = false; // set while the test provokes an error response on purpose
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
    else if (m.type() === 'error' && !(expectErrors && /status of (4|5)\d\d/.test(text))) problems.push(`console error: ${text}`);
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !expectErrors) problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
    if (!r.url().startsWith(url)) problems.push(`request outside the App: ${r.url()}`);
  });

  begin('open the App on the default dataset');
  await page.goto(url);
  await page.waitForSelector(ITEM);
  checkEqual(await page.inputValue(T('dataset-select')), 'shapes', 'the dataset given on the command line is selected');
  const countText = await page.textContent(T('sample-count'));
  check(/\b200 samples\b/.test(countText), `sample count reads "${countText}"`);
  const datasetOptions = await page.$$eval(`${T('dataset-select')} option`, (os) => os.map((o) => o.value));
  check(datasetOptions.includes('shapes') && datasetOptions.includes(evilDataset), `dataset options ${JSON.stringify(datasetOptions)}`);
  let grid = await gridState(page);
  checkEqual(grid.length, 100, 'the first page holds 100 samples');
  checkEqual(
    grid.map((g) => g.sampleId),
    head.slice(0, 100).map((s) => s.id),
    'the grid is in dataset order',
  );

  begin('thumbnails and boxes');
  await waitForImages(page, `${ITEM}:nth-child(-n+10) img`);
  const firstThumb = await page.$eval(`${ITEM} img`, (img) => ({ w: img.naturalWidth, h: img.naturalHeight, src: img.getAttribute('src') }));
  check(firstThumb.w > 0 && firstThumb.h > 0 && Math.max(firstThumb.w, firstThumb.h) <= 256, `first thumbnail is ${JSON.stringify(firstThumb)}`);
  const gtCounts = head.slice(0, 10).map((s) => s.ground_truth?.detections?.length ?? 0);
  const boxCounts = await page.$$eval(ITEM, (nodes) => nodes.slice(0, 10).map((n) => n.querySelectorAll('[data-testid="box"]').length));
  checkEqual(boxCounts, gtCounts, 'one box per detection on the thumbnails');
  // a box lies inside its thumbnail, where the bounding box says
  const boxGeom = await page.$eval(`${ITEM} [data-testid="box"]`, (b) => {
    const r = b.getBoundingClientRect();
    const f = b.parentElement.getBoundingClientRect();
    return [(r.left - f.left) / f.width, (r.top - f.top) / f.height, r.width / f.width, r.height / f.height];
  });
  const bb0 = head[0].ground_truth.detections[0].bounding_box;
  for (let i = 0; i < 4; i++) check(Math.abs(boxGeom[i] - bb0[i]) < 0.03, `box geometry ${JSON.stringify(boxGeom)} vs ${JSON.stringify(bb0)}`);

  begin('infinite scroll');
  for (let i = 0; i < 20 && (await page.$$(ITEM)).length < 200; i++) {
    await page.$eval(T('grid-sentinel'), (s) => s.scrollIntoView());
    await page.waitForTimeout(250);
  }
  grid = await gridState(page);
  checkEqual(grid.length, 200, 'scrolling to the end loads every sample');
  checkEqual(
    grid.map((g) => g.sampleId),
    head.map((s) => s.id),
    'all samples in dataset order',
  );
  await page.evaluate(() => window.scrollTo(0, 0));

  begin('sort by similarity (img_sim) against the library');
  checkEqual(
    await page.$$eval(`${T('brain-key-select')} option`, (os) => os.map((o) => o.value)),
    ['img_sim'],
    'the samples view lists the image runs only',
  );
  check(await page.isHidden(T('text-input')), 'no prompt box for a run without prompts');
  check(await page.isDisabled(T('sort-button')), 'sort is disabled with nothing selected');
  const query = head[0].id;
  await page.click(`${ITEM}[data-sample-id="${query}"]`);
  check((await gridState(page)).filter((g) => g.selected).length === 1, 'a click selects one sample');
  let shown = await sortOnPage(page, { brainKey: 'img_sim', k: K });
  let expected = await foJson('brain', 'sort-by-similarity', 'shapes', '--brain-key', 'img_sim', '--query', query, '--k', String(K));
  checkEqual(
    shown.map((g) => g.sampleId),
    expected.map((r) => r.id),
    'page order equals the library order',
  );
  checkDistances(
    shown.map((g) => g.distance),
    expected.map((r) => r.distance),
  );
  check(shown.every((g) => /\d/.test(g.distanceText)), 'each result shows its distance');
  check(await page.isVisible(T('reset-button')), 'a visible way back to the unsorted view');
  await waitForImages(page, `${ITEM} img`);
  const gridShot = path.join(outDir, 'app-sorted-grid.png');
  await page.screenshot({ path: gridShot, fullPage: true });
  log(`screenshot ${gridShot}`);

  begin('multi-select (ctrl, shift) and least similar');
  await page.click(`${ITEM} >> nth=0`);
  await page.click(`${ITEM} >> nth=3`, { modifiers: ['Shift'] });
  checkEqual((await gridState(page)).map((g) => g.selected).slice(0, 5), [true, true, true, true, false], 'shift-click selects a range');
  await page.click(`${ITEM} >> nth=2`, { modifiers: ['Control'] });
  checkEqual((await gridState(page)).map((g) => g.selected).slice(0, 5), [true, true, false, true, false], 'ctrl-click toggles one');
  const multi = (await gridState(page)).filter((g) => g.selected).map((g) => g.sampleId);
  check(await page.isVisible(T('reverse-checkbox')), 'sklearn offers least similar');
  shown = await sortOnPage(page, { brainKey: 'img_sim', k: 5, reverse: true });
  expected = await foJson('brain', 'sort-by-similarity', 'shapes', '--brain-key', 'img_sim', '--query', multi.join(','), '--k', '5', '--reverse');
  checkEqual(
    shown.map((g) => g.sampleId),
    expected.map((r) => r.id),
    'least similar to three samples: page order equals the library order',
  );
  checkDistances(
    shown.map((g) => g.distance),
    expected.map((r) => r.distance),
  );
  await page.uncheck(T('reverse-checkbox'));

  begin('back to unsorted');
  await markStale(page);
  await page.click(T('reset-button'));
  await waitForUnsorted(page);
  grid = await gridState(page);
  checkEqual(grid.length, 100, 'the unsorted view starts again at the first page');
  checkEqual(grid[0].sampleId, head[0].id, 'in dataset order');
  check(await page.isHidden(T('reset-button')), 'no reset button when unsorted');
  check(await page.isHidden(T('sort-status')), 'no sort status when unsorted');

  begin('expanded view');
  await page.dblclick(`${ITEM}[data-sample-id="${head[1].id}"]`);
  await page.waitForSelector(`${T('expanded-view')}:not([hidden])`);
  await waitForImages(page, `${T('expanded-view')} img`);
  const expandedImg = await page.$eval(`${T('expanded-view')} img`, (img) => ({ w: img.naturalWidth, h: img.naturalHeight, src: img.getAttribute('src') }));
  checkEqual([expandedImg.w, expandedImg.h], [head[1].metadata.width, head[1].metadata.height], `the original media is shown (${expandedImg.src})`);
  checkEqual(
    await page.$$eval(`${T('expanded-view')} [data-testid="box"]`, (bs) => bs.map((b) => b.dataset.label)),
    head[1].ground_truth.detections.map((d) => d.label),
    'the expanded view draws every box',
  );
  checkEqual(await page.textContent(T('expanded-filepath')), head[1].filepath, 'the expanded view names the file');
  await page.keyboard.press('Escape');
  await page.waitForSelector(T('expanded-view'), { state: 'hidden' });

  begin('patches view sorted by patch_sim against the library');
  const gtLabels = head.flatMap((s) => (s.ground_truth?.detections ?? []).map((d) => ({ sample: s.id, label: d.id })));
  await page.selectOption(T('view-select'), 'patches:ground_truth');
  await page.waitForSelector(`${ITEM}[data-label-id]`);
  grid = await gridState(page);
  checkEqual(
    grid.slice(0, 5).map((g) => g.labelId),
    gtLabels.slice(0, 5).map((l) => l.label),
    'patches in dataset order',
  );
  const patchCount = await page.textContent(T('sample-count'));
  check(patchCount.includes(String(gtLabels.length)), `the count names ${gtLabels.length} patches: "${patchCount}"`);
  checkEqual(
    await page.$$eval(`${T('brain-key-select')} option`, (os) => os.map((o) => o.value)),
    ['patch_sim'],
    'the patches view lists the patch runs of its field',
  );
  await waitForImages(page, `${ITEM}:nth-child(-n+5) img`);
  const crop = await page.$eval(`${ITEM} img`, (img) => ({ w: img.naturalWidth, h: img.naturalHeight }));
  check(crop.w > 0 && crop.w < head[0].metadata.width && crop.h < head[0].metadata.height, `a patch tile is a crop: ${JSON.stringify(crop)}`);
  const patchQuery = gtLabels[0].label;
  await page.click(`${ITEM}[data-label-id="${patchQuery}"]`);
  shown = await sortOnPage(page, { brainKey: 'patch_sim', k: K });
  expected = await foJson('brain', 'sort-by-similarity', 'shapes', '--brain-key', 'patch_sim', '--query', patchQuery, '--k', String(K));
  checkEqual(
    shown.map((g) => g.labelId),
    expected.map((r) => r.label_id),
    'patch order equals the library order',
  );
  checkEqual(
    shown.map((g) => g.sampleId),
    expected.map((r) => r.id),
    'patch results name their samples',
  );
  checkDistances(
    shown.map((g) => g.distance),
    expected.map((r) => r.distance),
  );
  await waitForImages(page, `${ITEM} img`);
  const patchShot = path.join(outDir, 'app-sorted-patches.png');
  await page.screenshot({ path: patchShot, fullPage: true });
  log(`screenshot ${patchShot}`);
  await page.dblclick(`${ITEM} >> nth=1`);
  await page.waitForSelector(`${T('expanded-view')}:not([hidden])`);
  checkEqual(await page.$$eval(`${T('expanded-view')} [data-testid="box"]`, (bs) => bs.map((b) => b.dataset.labelId)), [expected[1].label_id], 'the expanded patch shows its box');
  await page.keyboard.press('Escape');
  await page.waitForSelector(T('expanded-view'), { state: 'hidden' });

  begin('a server error is shown as a readable message');
  await markStale(page);
  await page.selectOption(T('view-select'), 'samples');
  await waitForUnsorted(page);
  await page.click(`${ITEM} >> nth=0`);
  await page.selectOption(T('brain-key-select'), 'img_sim');
  await fo('brain', 'rename', 'shapes', 'img_sim', 'img_sim_moved'); // behind the page's back
  expectErrors = true;
  await page.click(T('sort-button'));
  await page.waitForSelector(`${T('error-banner')}:not([hidden])`);
  const errorText = await page.textContent(T('error-text'));
  log(`banner: ${errorText}`);
  check(/img_sim/.test(errorText) && /404|not found|no .*run|unknown/i.test(errorText), `the banner reads "${errorText}"`);
  check(!/[{}]/.test(errorText), `the banner shows the message, not JSON: "${errorText}"`);
  check((await page.$$(ITEM)).length > 0, 'the grid is still there');
  expectErrors = false;
  await fo('brain', 'rename', 'shapes', 'img_sim_moved', 'img_sim');
  await page.click(T('error-close'));
  check(await page.isHidden(T('error-banner')), 'the banner can be dismissed');

  begin('markup in file names and dataset names is shown as text');
  await page.selectOption(T('dataset-select'), evilDataset);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="grid-item"]').length === n, evilNames.length);
  const names = await page.$$eval(`${ITEM} [data-testid="filename"]`, (ns) => ns.map((n) => n.textContent));
  checkEqual([...names].sort(), [...evilNames].sort(), 'file names appear verbatim');
  for (const name of evilNames) check(await page.getByText(name, { exact: true }).first().isVisible(), `"${name}" is visible`);
  check((await page.$$('main b, main i, select b')).length === 0, 'no <b> or <i> element was created');
  check((await page.$$('img[src="x"], img[src="y"]')).length === 0, 'no injected <img>');
  const datasetLabel = await page.$eval(`${T('dataset-select')} option:checked`, (o) => o.textContent);
  check(datasetLabel.includes(evilDataset), `the dataset selector shows "${datasetLabel}"`);
  await page.dblclick(`${ITEM} >> nth=0`);
  await page.waitForSelector(`${T('expanded-view')}:not([hidden])`);
  check(evilNames.includes(await page.textContent(T('expanded-title'))), 'the expanded view shows the name as text');
  await page.keyboard.press('Escape');
  await page.waitForTimeout(300); // let any injected handler run
  checkEqual(await page.evaluate(() => window.__xss ?? null), null, 'no script ran');

  begin('a text prompt on a CLIP run sorts like the library');
  // The tiny CLIP archive of ../shared/clip (random weights, CLIP's architecture and tokenizer)
  // stands in for ViT-B/32, whose weights cannot be downloaded here.
  const clip = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../shared/clip');
  await fo('brain', 'compute-similarity', 'shapes', '--brain-key', 'clip_sim', '--model', path.join(clip, 'tiny_clip_vit.pt'),
    '--model-kwarg', `tokenizer_path=${path.join(clip, 'bpe_simple_vocab_16e6.txt.gz')}`);
  const prompt = 'a red <circle>';
  const wantText = await foJson('brain', 'sort-by-similarity', 'shapes', '--brain-key', 'clip_sim', '--text', prompt, '--k', '7');
  const page2 = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page2.setDefaultTimeout(30000);
  await page2.goto(`${url}#dataset=shapes`);
  await page2.waitForSelector(ITEM);
  await page2.selectOption(T('brain-key-select'), 'clip_sim');
  check(await page2.isVisible(T('text-input')), 'the prompt box appears for a run with prompts');
  await page2.fill(T('text-input'), prompt);
  const [sortRequest] = await Promise.all([
    page2.waitForRequest((r) => r.url().endsWith('/sort_by_similarity') && r.method() === 'POST'),
    sortOnPage(page2, { brainKey: 'clip_sim', k: 7 }).then((got) => {
      checkEqual(got.map((g) => g.sampleId), wantText.map((w) => w.id), 'prompt results: page order vs library order');
      checkDistances(got.map((g) => g.distance), wantText.map((w) => w.distance));
    }),
  ]);
  const sent = sortRequest.postDataJSON();
  check(sent.brain_key === 'clip_sim' && sent.text === prompt && sent.k === 7 && !('query_ids' in sent), `the prompt request was ${JSON.stringify(sent)}`);
  await page2.screenshot({ path: path.join(outDir, 'app-sorted-prompt.png') });
  const others = await page2.$$eval(`${T('brain-key-select')} option`, (os) => os.map((o) => o.value).filter((v) => v && v !== 'clip_sim'));
  check(others.length > 0, 'another run is listed');
  await page2.selectOption(T('brain-key-select'), others[0]);
  check(await page2.isHidden(T('text-input')), `the prompt box goes away with ${others[0]}, a run without prompts`);
  await page2.close();

  begin('no page errors, CSP violations or unexpected failed requests');
  check(problems.length === 0, `\n  ${problems.join('\n  ')}`);

  begin('server stops on SIGTERM');
  await browser.close();
  browser = null;
  server.child.kill('SIGTERM');
  const stopped = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r(null), 15000))]);
  check(stopped !== null, 'the server did not exit within 15 s of SIGTERM');
  check(stopped.code === 0, `the server exited with ${JSON.stringify(stopped)}; stderr: ${server.stderr()}`);
  server = null;
  log('PASS');
} catch (e) {
  failed = true;
  console.error(`[app_e2e] FAIL: ${e && e.stack ? e.stack : e}`);
  if (problems.length) console.error(`[app_e2e] page problems so far:\n  ${problems.join('\n  ')}`);
  if (server) console.error(`[app_e2e] server stderr:\n${server.stderr()}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) {
    server.child.kill('SIGTERM');
    const stopped = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r(null), 5000))]);
    if (stopped === null) server.child.kill('SIGKILL');
  }
  if (process.env.FO_APP_E2E_KEEP_TMP) log(`kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
