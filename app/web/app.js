// fo App: the browser page. Plain ES module, no build step, no external resources.
//
// Every string that comes from the server (dataset names, file paths, tags, labels, error
// messages) reaches the page through textContent, element properties or option labels, never
// through innerHTML, so markup in a filename or a label is shown as text. Styles are set through
// element.style (CSSOM), which the server's CSP (style-src 'self') allows.

const PAGE_SIZE = 100;
const THUMB_W = 184; // content box of a grid cell (min column width 200 minus padding and border)
const THUMB_H = 170;

const $ = (id) => document.getElementById(id);
const els = {
  datasetSelect: $('dataset-select'),
  sampleCount: $('sample-count'),
  viewSelect: $('view-select'),
  selectionInfo: $('selection-info'),
  clearSelection: $('clear-selection'),
  brainKeySelect: $('brain-key-select'),
  kInput: $('k-input'),
  reverseField: $('reverse-field'),
  reverseCheckbox: $('reverse-checkbox'),
  textField: $('text-field'),
  textInput: $('text-input'),
  sortButton: $('sort-button'),
  resetButton: $('reset-button'),
  runInfo: $('run-info'),
  errorBanner: $('error-banner'),
  errorText: $('error-text'),
  errorClose: $('error-close'),
  sortStatus: $('sort-status'),
  grid: $('grid'),
  sentinel: $('sentinel'),
  gridMessage: $('grid-message'),
  modal: $('expanded-view'),
  modalTitle: $('modal-title'),
  modalClose: $('modal-close'),
  mediaFrame: $('media-frame'),
  modalSide: $('modal-side'),
};

const state = {
  datasets: [],
  dataset: null, // {name, count, label_fields, default}
  view: 'samples', // 'samples' or 'patches:<field>'
  runs: [], // the dataset's similarity runs
  items: [], // [{key, kind: 'sample'|'patch', sample|patch, distance}]
  total: 0, // total of the unsorted view (samples or patches)
  loading: false,
  done: false,
  failed: false,
  sorted: null, // {brain_key, description} while the grid shows similarity results
  selected: new Set(), // item keys: sample ids (samples view) or label ids (patches view)
  anchor: null, // index of the last plain/ctrl click, for shift ranges
  generation: 0, // bumped whenever the grid is replaced; stale responses are dropped
  sortToken: 0, // bumped by each sort request; only the latest one's answer is shown
  sorting: false,
  modalIndex: null,
};

// ---------------------------------------------------------------------------------------------
// Server access

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: 'application/json' }, ...options });
  } catch (e) {
    throw new ApiError(`Cannot reach the App server (${e && e.message ? e.message : e}).`, 0);
  }
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    let message = body && typeof body.error === 'string' && body.error ? body.error : '';
    if (!message) message = text && text.length < 500 && !/^\s*</.test(text) ? text : response.statusText;
    throw new ApiError(`${message || 'request failed'} (HTTP ${response.status})`, response.status);
  }
  if (body === undefined) throw new ApiError(`The server sent an invalid response for ${path}.`, response.status);
  return body;
}

const enc = encodeURIComponent;
const datasetPath = (name) => `/api/datasets/${enc(name)}`;

// ---------------------------------------------------------------------------------------------
// Small DOM helpers (textContent only)

function el(tag, { cls, text, testid, title, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (testid) node.dataset.testid = testid;
  if (title !== undefined && title !== null) node.title = String(title);
  if (attrs) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) if (c) node.append(c);
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function basename(path) {
  const s = String(path ?? '');
  const i = s.lastIndexOf('/');
  return i >= 0 ? s.slice(i + 1) : s;
}

function formatDistance(d) {
  if (d === null || d === undefined || Number.isNaN(Number(d))) return '-';
  const x = Number(d);
  return Math.abs(x) >= 1e4 ? x.toExponential(3) : x.toFixed(4);
}

function formatConfidence(c) {
  return typeof c === 'number' ? c.toFixed(2) : '';
}

const PALETTE = ['#ff3b30', '#2e90fa', '#12b76a', '#f79009', '#7a5af8', '#ee46bc', '#06aed4', '#a15c07', '#66c61c', '#f04438'];
function colorFor(label) {
  let h = 0;
  for (const ch of String(label ?? '')) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

function validBox(bb) {
  return Array.isArray(bb) && bb.length === 4 && bb.every((v) => typeof v === 'number' && Number.isFinite(v));
}

// A detection box: an absolutely positioned div in percent of its (relatively positioned) parent.
function boxElement(det, { showLabel = true } = {}) {
  const [x, y, w, h] = det.bounding_box;
  const box = el('div', { cls: 'box', testid: 'box' });
  box.dataset.label = String(det.label ?? '');
  if (det.id) box.dataset.labelId = String(det.id);
  box.style.left = `${x * 100}%`;
  box.style.top = `${y * 100}%`;
  box.style.width = `${w * 100}%`;
  box.style.height = `${h * 100}%`;
  const color = colorFor(det.label);
  box.style.borderColor = color;
  if (showLabel) {
    const conf = formatConfidence(det.confidence);
    const tag = el('span', { cls: 'box-label', text: conf ? `${det.label ?? ''} ${conf}` : String(det.label ?? '') });
    tag.style.backgroundColor = color;
    box.append(tag);
  }
  return box;
}

function fit(w, h, maxW, maxH, allowUpscale) {
  let s = Math.min(maxW / w, maxH / h);
  if (!allowUpscale) s = Math.min(s, 1);
  return [Math.max(1, Math.round(w * s)), Math.max(1, Math.round(h * s))];
}

// An image with detection boxes over it: a relatively positioned container sized to the
// displayed image, boxes inside in relative coordinates. Size from width/height when known,
// else from the image once it has loaded.
function mediaWithBoxes(url, width, height, detections, { maxW, maxH, upscale = false, labels = true, alt = '' }) {
  const frame = el('div', { cls: 'thumb', testid: 'media' });
  const img = el('img');
  img.alt = alt;
  img.decoding = 'async';
  img.draggable = false;
  const size = (w, h) => {
    const [dw, dh] = fit(w, h, maxW, maxH, upscale);
    frame.style.width = `${dw}px`;
    frame.style.height = `${dh}px`;
  };
  if (width > 0 && height > 0) {
    size(width, height);
  } else {
    size(4, 3);
    img.addEventListener('load', () => {
      if (img.naturalWidth > 0) size(img.naturalWidth, img.naturalHeight);
    });
  }
  img.addEventListener('error', () => {
    frame.classList.add('broken');
    frame.title = 'The image could not be loaded';
  });
  img.src = url;
  frame.append(img);
  for (const det of detections) if (validBox(det.bounding_box)) frame.append(boxElement(det, { showLabel: labels }));
  return frame;
}

// A patch tile: the server's thumbnail of a patch is the object's crop (FiftyOne's crop math),
// shown whole, fitted to the cell once its size is known.
function patchMedia(patch) {
  return mediaWithBoxes(patch.thumbnail_url, 0, 0, [], { maxW: THUMB_W, maxH: THUMB_H, upscale: true, alt: String(patch.label ?? '') });
}

// ---------------------------------------------------------------------------------------------
// Errors

function showError(message) {
  els.errorText.textContent = String(message);
  els.errorBanner.hidden = false;
}

function hideError() {
  els.errorBanner.hidden = true;
  els.errorText.textContent = '';
}

// ---------------------------------------------------------------------------------------------
// Datasets, views and runs

function currentPatchesField() {
  return state.view.startsWith('patches:') ? state.view.slice('patches:'.length) : null;
}

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  return { dataset: p.get('dataset'), view: p.get('view') };
}

function writeHash() {
  const p = new URLSearchParams();
  if (state.dataset) p.set('dataset', state.dataset.name);
  if (state.view !== 'samples') p.set('view', state.view);
  const h = `#${p.toString()}`;
  if (location.hash !== h) history.replaceState(null, '', h);
}

async function loadDatasets() {
  let list;
  try {
    list = await api('/api/datasets');
  } catch (e) {
    showError(`Could not list the datasets: ${e.message}`);
    els.gridMessage.textContent = 'No datasets could be loaded.';
    return;
  }
  state.datasets = Array.isArray(list) ? list : [];
  clear(els.datasetSelect);
  for (const d of state.datasets) {
    const opt = el('option', { text: `${d.name} (${d.count})` });
    opt.value = d.name;
    els.datasetSelect.append(opt);
  }
  if (state.datasets.length === 0) {
    els.datasetSelect.append(el('option', { text: '(no datasets)' }));
    els.datasetSelect.disabled = true;
    els.sampleCount.textContent = '';
    els.gridMessage.textContent = 'The store has no datasets. Create one with `fo datasets create` or `fo demo`.';
    updateControls();
    return;
  }
  const fromHash = readHash();
  let name = fromHash.dataset && state.datasets.some((d) => d.name === fromHash.dataset) ? fromHash.dataset : null;
  if (!name) {
    // the dataset given on the command line, if any, else the first
    name = state.datasets[0].name;
    for (const d of state.datasets) {
      try {
        const info = await api(datasetPath(d.name));
        if (info.default) {
          name = d.name;
          break;
        }
      } catch {
        /* ignored: the selected dataset's own request reports errors */
      }
      if (state.datasets.length > 20) break; // do not probe a large store one by one
    }
  }
  await selectDataset(name, fromHash.view);
}

async function selectDataset(name, view) {
  const generation = ++state.generation;
  hideError();
  els.datasetSelect.value = name;
  state.dataset = null;
  state.runs = [];
  state.selected.clear();
  state.anchor = null;
  state.sorted = null;
  resetGrid();
  els.sampleCount.textContent = '';
  els.gridMessage.textContent = 'Loading…';
  let info;
  try {
    info = await api(datasetPath(name));
  } catch (e) {
    if (generation !== state.generation) return;
    showError(`Could not load dataset "${name}": ${e.message}`);
    els.gridMessage.textContent = '';
    updateControls();
    return;
  }
  if (generation !== state.generation) return;
  state.dataset = { ...info, label_fields: Array.isArray(info.label_fields) ? info.label_fields : [] };
  try {
    const runs = await api(`${datasetPath(name)}/brain_runs?type=similarity`);
    if (generation !== state.generation) return;
    state.runs = Array.isArray(runs) ? runs : [];
  } catch (e) {
    if (generation !== state.generation) return;
    state.runs = [];
    showError(`Could not list the similarity runs of "${name}": ${e.message}`);
  }
  fillViewSelect(view);
  fillBrainKeys();
  writeHash();
  updateCount();
  updateControls();
  loadMore();
}

function fillViewSelect(wanted) {
  clear(els.viewSelect);
  const samples = el('option', { text: 'Samples' });
  samples.value = 'samples';
  els.viewSelect.append(samples);
  const withRuns = new Set(state.runs.map((r) => r.patches_field).filter(Boolean));
  const fields = [...state.dataset.label_fields];
  for (const f of withRuns) if (!fields.includes(f)) fields.push(f);
  for (const f of fields) {
    const opt = el('option', { text: withRuns.has(f) ? `Patches: ${f}` : `Patches: ${f} (no similarity run)` });
    opt.value = `patches:${f}`;
    els.viewSelect.append(opt);
  }
  els.viewSelect.disabled = fields.length === 0;
  state.view = [...els.viewSelect.options].some((o) => o.value === wanted) ? wanted : 'samples';
  els.viewSelect.value = state.view;
}

function runsForView() {
  const field = currentPatchesField();
  return state.runs.filter((r) => (field ? r.patches_field === field : !r.patches_field));
}

function fillBrainKeys() {
  const previous = els.brainKeySelect.value;
  clear(els.brainKeySelect);
  const runs = runsForView();
  if (runs.length === 0) {
    const opt = el('option', { text: '(no similarity runs)' });
    opt.value = '';
    els.brainKeySelect.append(opt);
  }
  for (const r of runs) {
    const opt = el('option', { text: r.key });
    opt.value = r.key;
    els.brainKeySelect.append(opt);
  }
  if (runs.some((r) => r.key === previous)) els.brainKeySelect.value = previous;
  onRunChanged();
}

function currentRun() {
  const key = els.brainKeySelect.value;
  return runsForView().find((r) => r.key === key) || null;
}

function onRunChanged() {
  const run = currentRun();
  els.textField.hidden = !(run && run.supports_prompts);
  if (!(run && run.supports_prompts)) els.textInput.value = '';
  els.reverseField.hidden = !(run && run.supports_least_similarity);
  if (!(run && run.supports_least_similarity)) els.reverseCheckbox.checked = false;
  if (run) {
    const bits = [run.backend, run.metric, run.model].filter((b) => b !== null && b !== undefined && b !== '');
    els.runInfo.textContent = bits.join(' · ');
    els.runInfo.title = run.patches_field ? `indexes the patches of ${run.patches_field}` : 'indexes whole images';
  } else {
    els.runInfo.textContent = '';
    els.runInfo.title = '';
  }
  updateControls();
}

function updateCount() {
  const ds = state.dataset;
  if (!ds) {
    els.sampleCount.textContent = '';
    return;
  }
  const n = Number(ds.count) || 0;
  els.sampleCount.dataset.count = String(n);
  let text = `${n} sample${n === 1 ? '' : 's'}`;
  const field = currentPatchesField();
  if (field && state.total !== null && (state.items.length > 0 || state.done)) {
    if (!state.sorted) text += ` · ${state.total} patches in ${field}`;
  }
  if (state.sorted) text += ` · ${state.items.length} result${state.items.length === 1 ? '' : 's'}`;
  els.sampleCount.textContent = text;
}

function updateControls() {
  const run = currentRun();
  const hasText = !els.textField.hidden && els.textInput.value.trim() !== '';
  const hasQuery = state.selected.size > 0 || hasText;
  els.sortButton.disabled = !state.dataset || !run || !hasQuery || state.sorting;
  els.sortButton.title = !run
    ? 'This view has no similarity run'
    : !hasQuery
      ? run.supports_prompts
        ? 'Select one or more items, or type a prompt'
        : 'Select one or more items'
      : '';
  els.resetButton.hidden = !state.sorted;
  els.brainKeySelect.disabled = runsForView().length === 0;
  const n = state.selected.size;
  els.selectionInfo.textContent = n ? `${n} selected` : '';
  els.clearSelection.hidden = n === 0;
}

// ---------------------------------------------------------------------------------------------
// The grid

function resetGrid() {
  state.items = [];
  state.total = null;
  state.loading = false;
  state.done = false;
  state.failed = false;
  clear(els.grid);
  els.gridMessage.textContent = '';
  els.sortStatus.hidden = true;
  els.sortStatus.textContent = '';
  closeModal();
}

function itemFromSample(sample, distance) {
  return { key: String(sample.id), kind: 'sample', sample, distance };
}

function itemFromPatch(patch, distance) {
  return { key: String(patch.label_id), kind: 'patch', patch, distance };
}

async function loadMore() {
  if (!state.dataset || state.sorted || state.loading || state.done || state.failed) return;
  const generation = state.generation;
  const field = currentPatchesField();
  const offset = state.items.length;
  const base = datasetPath(state.dataset.name);
  const path = field
    ? `${base}/patches?field=${enc(field)}&offset=${offset}&limit=${PAGE_SIZE}`
    : `${base}/samples?offset=${offset}&limit=${PAGE_SIZE}`;
  state.loading = true;
  els.gridMessage.textContent = 'Loading…';
  try {
    const page = await api(path);
    if (generation !== state.generation) return;
    const list = (field ? page.patches : page.samples) || [];
    state.total = Number(page.total) || 0;
    const start = state.items.length;
    for (const x of list) state.items.push(field ? itemFromPatch(x) : itemFromSample(x));
    appendTiles(start);
    if (list.length === 0 || state.items.length >= state.total) state.done = true;
    els.gridMessage.textContent = state.done
      ? state.items.length === 0
        ? field
          ? `No patches in ${field}.`
          : 'This dataset has no samples.'
        : ''
      : '';
  } catch (e) {
    if (generation !== state.generation) return;
    state.failed = true;
    showError(`Could not load ${field ? 'patches' : 'samples'}: ${e.message}`);
    clear(els.gridMessage);
    const retry = el('button', { text: 'Retry', cls: 'secondary', testid: 'retry-button' });
    retry.type = 'button';
    retry.addEventListener('click', () => {
      state.failed = false;
      hideError();
      loadMore();
    });
    els.gridMessage.append(retry);
  } finally {
    if (generation === state.generation) state.loading = false;
  }
  if (generation !== state.generation) return;
  updateCount();
  // The observer fires on changes only: if the sentinel is still on screen, keep going.
  if (!state.done && !state.failed) {
    requestAnimationFrame(() => {
      if (generation !== state.generation) return;
      const r = els.sentinel.getBoundingClientRect();
      if (r.top < window.innerHeight + 600) loadMore();
    });
  }
}

function appendTiles(start) {
  const frag = document.createDocumentFragment();
  for (let i = start; i < state.items.length; i++) frag.append(tile(state.items[i], i));
  els.grid.append(frag);
}

function renderAllTiles() {
  clear(els.grid);
  appendTiles(0);
}

function tile(item, index) {
  const node = el('div', { cls: 'grid-item', testid: 'grid-item', attrs: { role: 'option', tabindex: '0' } });
  node.dataset.index = String(index);
  node.dataset.key = item.key;
  let caption;
  if (item.kind === 'sample') {
    const s = item.sample;
    node.dataset.sampleId = String(s.id);
    const dets = [];
    for (const list of Object.values(s.detections || {})) if (Array.isArray(list)) dets.push(...list);
    const thumbFrame = el('div', { cls: 'thumb-frame' }, [
      mediaWithBoxes(s.thumbnail_url, s.width, s.height, dets, { maxW: THUMB_W, maxH: THUMB_H, upscale: true, labels: false, alt: basename(s.filepath) }),
    ]);
    const tags = el('div', { cls: 'tags', testid: 'tags' });
    for (const t of s.tags || []) tags.append(el('span', { cls: 'tag', testid: 'tag', text: t }));
    caption = el('div', { cls: 'caption' }, [
      el('div', { cls: 'caption-name', testid: 'filename', text: basename(s.filepath), title: s.filepath }),
      (s.tags || []).length ? tags : null,
    ]);
    node.append(thumbFrame, caption);
  } else {
    const p = item.patch;
    node.dataset.sampleId = String(p.sample_id);
    node.dataset.labelId = String(p.label_id);
    const conf = formatConfidence(p.confidence);
    caption = el('div', { cls: 'caption' }, [
      el('div', { cls: 'caption-name', testid: 'label', text: conf ? `${p.label ?? ''} (${conf})` : String(p.label ?? '') }),
      el('div', { cls: 'caption-sub', testid: 'filename', text: basename(p.filepath), title: p.filepath }),
    ]);
    node.append(el('div', { cls: 'thumb-frame' }, [patchMedia(p)]), caption);
  }
  if (item.distance !== undefined && item.distance !== null) {
    const d = el('span', { cls: 'distance', testid: 'distance', text: formatDistance(item.distance), title: `distance ${item.distance}` });
    d.dataset.distance = String(item.distance);
    node.dataset.distance = String(item.distance);
    node.append(d, el('span', { cls: 'rank', testid: 'rank', text: `#${index + 1}` }));
  } else if (state.sorted) {
    node.append(el('span', { cls: 'distance', testid: 'distance', text: '-' }));
  }
  const expand = el('button', { cls: 'expand-button', testid: 'expand-button', text: '⤢', title: 'Expand', attrs: { 'aria-label': 'Expand' } });
  expand.type = 'button';
  expand.tabIndex = -1;
  node.append(expand);
  if (state.selected.has(item.key)) node.classList.add('selected');
  node.setAttribute('aria-selected', state.selected.has(item.key) ? 'true' : 'false');
  return node;
}

function tileIndex(target) {
  const node = target.closest('.grid-item');
  if (!node || !els.grid.contains(node)) return null;
  const i = Number(node.dataset.index);
  return Number.isInteger(i) && i >= 0 && i < state.items.length ? i : null;
}

function onGridClick(ev) {
  const index = tileIndex(ev.target);
  if (index === null) return;
  if (ev.target.closest('.expand-button')) {
    openModal(index);
    return;
  }
  const key = state.items[index].key;
  if (ev.shiftKey && state.anchor !== null && state.anchor < state.items.length) {
    const [a, b] = state.anchor < index ? [state.anchor, index] : [index, state.anchor];
    if (!(ev.ctrlKey || ev.metaKey)) state.selected.clear();
    for (let i = a; i <= b; i++) state.selected.add(state.items[i].key);
    ev.preventDefault();
  } else if (ev.ctrlKey || ev.metaKey) {
    if (state.selected.has(key)) state.selected.delete(key);
    else state.selected.add(key);
    state.anchor = index;
  } else {
    state.selected.clear();
    state.selected.add(key);
    state.anchor = index;
  }
  refreshSelection();
}

function refreshSelection() {
  for (const node of els.grid.children) {
    const on = state.selected.has(node.dataset.key);
    node.classList.toggle('selected', on);
    node.setAttribute('aria-selected', on ? 'true' : 'false');
  }
  updateControls();
}

// ---------------------------------------------------------------------------------------------
// Sort by similarity

async function sortBySimilarity() {
  const run = currentRun();
  if (!state.dataset || !run) return;
  const k = Number(els.kInput.value);
  if (!Number.isInteger(k) || k <= 0) {
    showError('k must be a whole number greater than 0.');
    return;
  }
  const body = { brain_key: run.key, k, reverse: Boolean(run.supports_least_similarity && els.reverseCheckbox.checked) };
  const text = !els.textField.hidden ? els.textInput.value.trim() : '';
  let description;
  if (text) {
    body.text = text;
    description = `the prompt "${text}"`;
  } else if (state.selected.size > 0) {
    // the query in grid order (for a stable request), then any selected keys no longer on screen
    const onScreen = state.items.map((it) => it.key).filter((key) => state.selected.has(key));
    const rest = [...state.selected].filter((key) => !onScreen.includes(key));
    body.query_ids = [...onScreen, ...rest];
    const noun = currentPatchesField() ? 'patch' : 'sample';
    description = body.query_ids.length === 1 ? `${noun} ${body.query_ids[0]}` : `${body.query_ids.length} ${noun === 'patch' ? 'patches' : 'samples'}`;
  } else {
    showError(run.supports_prompts ? 'Select one or more items, or type a prompt, before sorting.' : 'Select one or more items before sorting.');
    return;
  }
  const generation = state.generation;
  const token = ++state.sortToken;
  const stale = () => generation !== state.generation || token !== state.sortToken;
  state.sorting = true;
  updateControls();
  hideError();
  els.sortButton.textContent = 'Sorting…';
  try {
    const res = await api(`${datasetPath(state.dataset.name)}/sort_by_similarity`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    });
    if (stale()) return;
    const results = Array.isArray(res.results) ? res.results : [];
    const items = [];
    for (const r of results) {
      if (res.patches || r.patch) {
        if (r.patch) items.push(itemFromPatch(r.patch, r.distance));
      } else if (r.sample) {
        items.push(itemFromSample(r.sample, r.distance));
      }
    }
    state.generation++; // drops a page still loading for the unsorted view
    resetGrid();
    state.sorted = { brain_key: res.brain_key || run.key, description, reverse: body.reverse, k };
    state.items = items;
    state.done = true;
    renderAllTiles();
    els.sortStatus.textContent = `${body.reverse ? 'Least' : 'Most'} similar to ${description} by ${state.sorted.brain_key} (k = ${k}): ${items.length} result${items.length === 1 ? '' : 's'}.`;
    els.sortStatus.hidden = false;
    els.gridMessage.textContent = items.length ? '' : 'No results.';
    window.scrollTo(0, 0);
  } catch (e) {
    if (!stale()) showError(`Sort by similarity failed: ${e.message}`);
  } finally {
    if (token === state.sortToken) state.sorting = false;
    els.sortButton.textContent = 'Sort by similarity';
    updateCount();
    updateControls();
  }
}

function backToUnsorted() {
  state.generation++;
  state.sorted = null;
  state.anchor = null;
  resetGrid();
  hideError();
  updateCount();
  updateControls();
  window.scrollTo(0, 0);
  loadMore();
}

// ---------------------------------------------------------------------------------------------
// Expanded view

function openModal(index) {
  const item = state.items[index];
  if (!item) return;
  state.modalIndex = index;
  clear(els.mediaFrame);
  clear(els.modalSide);
  const maxW = Math.max(200, Math.min(1200, window.innerWidth * 0.95) - 330);
  const maxH = Math.max(200, window.innerHeight * 0.95 - 110);
  const side = els.modalSide;
  const dl = el('dl');
  const row = (k, v, testid) => {
    dl.append(el('dt', { text: k }), el('dd', { text: v, testid }));
  };
  if (item.kind === 'sample') {
    const s = item.sample;
    {
      els.modalTitle.textContent = basename(s.filepath);
      const dets = [];
      for (const [field, list] of Object.entries(s.detections || {})) if (Array.isArray(list)) for (const d of list) dets.push({ ...d, field });
      els.mediaFrame.append(
        mediaWithBoxes(s.media_url || s.thumbnail_url, s.width, s.height, dets, { maxW, maxH, upscale: true, labels: true, alt: basename(s.filepath) }),
      );
      row('File', s.filepath, 'expanded-filepath');
      row('Sample id', s.id);
      if (s.width && s.height) row('Size', `${s.width} × ${s.height}`);
      if (item.distance !== undefined && item.distance !== null) row('Distance', String(item.distance), 'expanded-distance');
      side.append(dl);
      if ((s.tags || []).length) {
        side.append(el('h3', { text: 'Tags' }));
        const tags = el('div', { cls: 'tags' });
        for (const t of s.tags) tags.append(el('span', { cls: 'tag', testid: 'tag', text: t }));
        side.append(tags);
      }
      for (const [field, list] of Object.entries(s.detections || {})) {
        side.append(el('h3', { text: `${field} (${(list || []).length})` }));
        const ul = el('ul', { cls: 'det-list' });
        for (const d of list || []) {
          const conf = formatConfidence(d.confidence);
          const li = el('li', { text: conf ? `${d.label ?? ''} · ${conf}` : String(d.label ?? '') });
          li.style.borderLeft = `4px solid ${colorFor(d.label)}`;
          li.style.paddingLeft = '6px';
          ul.append(li);
        }
        side.append(ul);
      }
    }
  } else {
    const p = item.patch;
    els.modalTitle.textContent = `${p.label ?? ''} in ${basename(p.filepath)}`;
    // the whole image, with this patch's box: the media of the patch's sample
    const url = p.media_url || `${datasetPath(state.dataset.name)}/media/${enc(p.sample_id)}`;
    const wholeImage = true;
    els.mediaFrame.append(
      mediaWithBoxes(url, p.width, p.height, wholeImage && validBox(p.bounding_box) ? [{ id: p.label_id, label: p.label, bounding_box: p.bounding_box, confidence: p.confidence }] : [], {
        maxW,
        maxH,
        upscale: true,
        labels: true,
        alt: String(p.label ?? ''),
      }),
    );
    row('Label', p.label, 'expanded-label');
    if (typeof p.confidence === 'number') row('Confidence', formatConfidence(p.confidence));
    row('File', p.filepath, 'expanded-filepath');
    row('Sample id', p.sample_id);
    row('Label id', p.label_id);
    if (validBox(p.bounding_box)) row('Box', p.bounding_box.map((v) => v.toFixed(3)).join(', '));
    if (item.distance !== undefined && item.distance !== null) row('Distance', String(item.distance), 'expanded-distance');
    side.append(dl);
  }
  side.append(el('p', { cls: 'caption-sub', text: '← → to browse, Esc to close' }));
  els.modal.hidden = false;
  els.modalClose.focus();
}

function closeModal() {
  if (els.modal.hidden) return;
  els.modal.hidden = true;
  clear(els.mediaFrame);
  const index = state.modalIndex;
  state.modalIndex = null;
  const node = index !== null ? els.grid.children[index] : null;
  if (node) node.focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------------------------
// Wiring

function init() {
  els.datasetSelect.addEventListener('change', () => selectDataset(els.datasetSelect.value, 'samples'));
  els.viewSelect.addEventListener('change', () => {
    state.view = els.viewSelect.value;
    state.generation++;
    state.sorted = null;
    state.selected.clear();
    state.anchor = null;
    hideError();
    resetGrid();
    fillBrainKeys();
    writeHash();
    updateCount();
    updateControls();
    loadMore();
  });
  els.brainKeySelect.addEventListener('change', onRunChanged);
  els.textInput.addEventListener('input', updateControls);
  els.textInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !els.sortButton.disabled) sortBySimilarity();
  });
  els.sortButton.addEventListener('click', sortBySimilarity);
  els.resetButton.addEventListener('click', backToUnsorted);
  els.clearSelection.addEventListener('click', () => {
    state.selected.clear();
    state.anchor = null;
    refreshSelection();
  });
  els.errorClose.addEventListener('click', hideError);
  els.grid.addEventListener('click', onGridClick);
  els.grid.addEventListener('mousedown', (ev) => {
    if (ev.shiftKey) ev.preventDefault(); // no text selection on shift-click
  });
  els.grid.addEventListener('dblclick', (ev) => {
    const index = tileIndex(ev.target);
    if (index !== null) openModal(index);
  });
  els.grid.addEventListener('keydown', (ev) => {
    const index = tileIndex(ev.target);
    if (index === null) return;
    if (ev.key === 'Enter') {
      openModal(index);
    } else if (ev.key === ' ') {
      ev.preventDefault();
      onGridClick({ target: ev.target, shiftKey: ev.shiftKey, ctrlKey: true, metaKey: false, preventDefault() {} });
    }
  });
  els.modalClose.addEventListener('click', closeModal);
  els.modal.addEventListener('click', (ev) => {
    if (ev.target === els.modal) closeModal();
  });
  document.addEventListener('keydown', (ev) => {
    if (els.modal.hidden) return;
    if (ev.key === 'Escape') {
      ev.preventDefault();
      closeModal();
    } else if (ev.key === 'ArrowRight' && state.modalIndex !== null && state.modalIndex + 1 < state.items.length) {
      openModal(state.modalIndex + 1);
    } else if (ev.key === 'ArrowLeft' && state.modalIndex !== null && state.modalIndex > 0) {
      openModal(state.modalIndex - 1);
    }
  });
  new IntersectionObserver(
    (entries) => {
      if (entries.some((e) => e.isIntersecting)) loadMore();
    },
    { rootMargin: '0px 0px 600px 0px' },
  ).observe(els.sentinel);
  updateControls();
  loadDatasets();
}

init();
