// Cheap guards on `npm run build`'s output: the bundles the Flask pages load are there under hashed names, carry what
// our users need, come precompressed, stay within their size budgets, and load nothing from a CDN at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';

const dist = new URL('../dist/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', dist), 'utf8'));
const read = (name) => readFileSync(new URL(manifest[name], dist), 'utf8'); // by the name a page asks for
const size = (file) => statSync(new URL(file, dist)).size;

const BUNDLES = ['modeler.js', 'modeler.css', 'viewer.js', 'viewer.css', 'dmn-editor.js', 'dmn-editor.css', 'charts.js',
  'app.css', 'favicon.svg'];
const ROLES = ['受理员', '审核员', '财务', '科室负责人', '定点医院'];
const CDN_HOSTS = [
  'unpkg.com', 'cdn.jsdelivr.net', 'cdnjs.cloudflare.com', 'esm.sh', 'cdn.skypack.dev', 'ga.jspm.io',
  'fonts.googleapis.com', 'fonts.gstatic.com', 'ajax.googleapis.com', 'code.jquery.com', 'cdn.staticfile.org',
  'cdn.bootcdn.net', 'lib.baomitu.com', 'fastly.jsdelivr.net',
];

test('the build wrote every bundle under a content-hashed name (run `npm run build` first)', () => {
  assert.deepEqual(Object.keys(manifest).sort(), [...BUNDLES].sort());
  for (const name of BUNDLES) {
    const file = manifest[name];
    const [stem, extension] = name.split(/\.(?=[a-z]+$)/);
    assert.match(file, new RegExp(`^${stem}-[0-9A-Z]{8}\\.${extension}$`), `${name} is not hashed`);
    assert.ok(existsSync(new URL(file, dist)), `dist/${file} is missing`);
    assert.ok(size(file) > 300, `dist/${file} is nearly empty`);
  }
});

test('every script and stylesheet comes precompressed, brotli smaller than gzip', () => {
  for (const name of BUNDLES) {
    const file = manifest[name];
    const [br, gz] = [size(`${file}.br`), size(`${file}.gz`)];
    assert.ok(br < gz && gz < size(file), `${file}: br ${br}, gz ${gz}, raw ${size(file)}`);
  }
});

test('the bundles stay within their budgets: modeler.js ≤ 1 MB, charts.js ≤ 400 KB (raw)', () => {
  assert.ok(size(manifest['modeler.js']) <= 1_000_000, `modeler.js is ${size(manifest['modeler.js'])} bytes`);
  assert.ok(size(manifest['charts.js']) <= 400_000, `charts.js is ${size(manifest['charts.js'])} bytes`);
});

test('the icon is 医 in a circle, drawn without a font', () => {
  const icon = read('favicon.svg');
  assert.match(icon, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(icon.includes('<circle') && !icon.includes('<text'));
});

test('modeler.js carries the five role names and the 医保引擎 group', () => {
  const modeler = read('modeler.js');
  for (const role of ROLES) assert.ok(modeler.includes(role), `role ${role} not in modeler.js`);
  for (const label of ['医保引擎', '处理程序（handler）', '环节 (stage)', '已发布为第']) {
    assert.ok(modeler.includes(label), `${label} not in modeler.js`);
  }
});

test('modeler.js bundles bpmnlint\'s recommended rules statically', () => {
  const modeler = read('modeler.js');
  for (const rule of ['rule:bpmnlint/label-required', 'rule:bpmnlint/no-disconnected', 'rule:bpmnlint/fake-join']) {
    assert.ok(modeler.includes(rule), `${rule} not in modeler.js`);
  }
});

test('the stylesheets carry what the pages use', () => {
  const modeler = read('modeler.css');
  for (const part of ['.djs-container', '.bjs-container', '.bio-properties-panel', '.bjsl-overlay', '@font-face{font-family:bpmn']) {
    assert.ok(modeler.replace(/\s|["']/g, '').includes(part), `${part} not in modeler.css`);
  }
  const viewer = read('viewer.css');
  assert.match(viewer, /\.current/);
  assert.match(viewer, /\.completed/);
  const app = read('app.css');
  for (const name of ['.badge-yellow', '.badge-red', '.badge-normal', '.badge-paused', '.badge-met', '.btn-primary',
    '.btn-danger', '.field-error', '.flash-error', '.flash-ok', 'position:sticky']) {
    assert.ok(app.replace(/\s/g, '').includes(name), `${name} not in app.css`);
  }
});

test('fonts referenced by the stylesheets are in dist/', () => {
  for (const css of ['modeler.css', 'viewer.css', 'dmn-editor.css']) {
    const urls = [...read(css).matchAll(/url\(["']?\.\/([^"')?#]+)/g)].map((match) => match[1]);
    assert.ok(urls.length, `${css} references no font`);
    for (const url of urls) assert.ok(existsSync(new URL(url, dist)), `${css} refers to missing ${url}`);
  }
});

test('no bundle refers to a CDN', () => {
  for (const name of BUNDLES) {
    const text = read(name);
    for (const host of CDN_HOSTS) assert.ok(!text.includes(host), `dist/${name} refers to ${host}`);
    // no stylesheet or script pulled in from another origin
    assert.doesNotMatch(text, /@import\s+(url\()?["']?https?:/, `dist/${name} imports from the network`);
    assert.doesNotMatch(text, /url\(["']?(https?:)?\/\//, `dist/${name} loads a url() from the network`);
  }
});
