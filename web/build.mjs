// `npm run build`: the browser bundles in dist/, from npm packages only (nothing is fetched at run time).
//   dist/modeler.js + modeler.css   bpmn-js Modeler, Camunda properties panel, 医保引擎 group, bpmnlint (recommended)
//   dist/viewer.js + viewer.css     bpmn-js NavigatedViewer for the case page
//   dist/dmn-editor.js + .css       dmn-js decision-table editor (entries in Python) for the 决策表 page
//   dist/charts.js                  Chart.js (tree-shaken: the bar and line charts the statistics page draws)
//   dist/app.css                    the server-rendered pages' stylesheet
//   dist/favicon.svg                the site's icon (医 in a circle), from src/favicon.svg
//   dist/fonts/                     the bpmn and dmn icon fonts, referenced by the stylesheets above
// Every file is written under a content-hashed name (modeler-3FQ2LZ7K.js), so the server may let browsers cache it
// for good; dist/manifest.json maps the names above to the hashed ones (the Flask templates look them up there).
// Next to each compressible file go its .br and .gz, compressed once here so serving them costs no CPU.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const require = createRequire(import.meta.url);

// bpmnlint's recommended config, bundled statically: one import per rule, served by bpmnlint's StaticResolver; with
// our own rules (src/lint/), as the plugin "yibao": a user task with no role is warned about.
const bpmnlintRecommended = {
  name: 'bpmnlint-recommended',
  setup(build) {
    build.onResolve({ filter: /^virtual:bpmnlint-recommended$/ }, (args) => ({ path: args.path, namespace: 'bpmnlint' }));
    build.onLoad({ filter: /.*/, namespace: 'bpmnlint' }, () => {
      const { rules } = require('bpmnlint/config/recommended');
      const names = Object.keys(rules);
      const contents = [
        "import StaticResolver from 'bpmnlint/lib/resolver/static-resolver';",
        "import userTaskRole from './src/lint/user-task-role.js';",
        ...names.map((name, i) => `import rule${i} from 'bpmnlint/rules/${name}';`),
        `const rules = ${JSON.stringify(rules)};`,
        'const cache = {',
        ...names.map((name, i) => `  ${JSON.stringify(`rule:bpmnlint/${name}`)}: rule${i},`),
        "  'config:bpmnlint/recommended': { rules },",
        "  'rule:bpmnlint-plugin-yibao/user-task-role': userTaskRole,",
        '};',
        "export const config = { extends: 'bpmnlint:recommended', rules: { 'yibao/user-task-role': 'warn' } };",
        'export const resolver = new StaticResolver(cache);',
        'export default { config, resolver };',
      ].join('\n');
      return { contents, resolveDir: here, loader: 'js' };
    });
  },
};

// The modeler's properties panel imports CodeMirror and the FEEL editors for entries our engine never fills with FEEL
// (src/modeler/plain-editor.js says why): they resolve to a plain text box instead, 500 KB less to load.
const plainEditors = {
  name: 'plain-editors',
  setup(build) {
    const standIn = join(here, 'src', 'modeler', 'plain-editor.js');
    build.onResolve({ filter: /^(@codemirror\/|@bpmn-io\/feel-editor$|@bpmn-io\/feelers-editor$)/ }, () => ({ path: standIn }));
  },
};

// bpmn-js-properties-panel ships one file with the Zeebe (Camunda 8) provider beside the Camunda 7 one; each
// provider's `X.$inject = [...]` statement is a side effect to esbuild, so the unused Zeebe half stays in the
// bundle. Written as a static field of its class, the same injection list lets esbuild drop what nobody imports.
// The Camunda Platform provider builds every group it knows; those this engine ignores (HIDDEN_GROUPS in
// src/modeler/supported.js, hidden from the panel anyway) are taken out of its list, so that their code is not bundled.
const hiddenGroups = new Set([...readFileSync(join(here, 'src', 'modeler', 'supported.js'), 'utf8')
  .matchAll(/'CamundaPlatform__(\w+)'/g)].map((match) => `${match[1]}Group`));
const hiddenGroupsOnly = (contents) => contents.replace(/^const CAMUNDA_PLATFORM_GROUPS = \[([^\]]*)\];$/m,
  (line, list) => `const CAMUNDA_PLATFORM_GROUPS = [${list.split(', ').filter((name) => !hiddenGroups.has(name)).join(', ')}];`);

// The panel's header draws the selected element's type as one of 87 inline SVG components (about 190 KB minified);
// the bpmn icon font the modeler loads anyway has the same pictures: each is drawn as the font's glyph instead
// (XyzIcon -> .bpmn-icon-xyz), and the SVG components, no longer referenced, are left out of the bundle.
const FONT_ICON_NAMES = {
  Association: 'connection', Collaboration: 'participant', DataInputOutputAssociation: 'connection',
  EventSubProcessExpanded: 'event-subprocess-expanded', GatewayEventBased: 'gateway-eventbased',
  IntermediateEventCatchNonInterruptingParallel: 'intermediate-event-catch-non-interrupting-parallel-multiple',
  MessageFlow: 'connection', Process: 'participant', TextAnnotation: 'text-annotation',
};
const fontIconName = (component) => {
  const name = component.replace(/[Ii]con$/, '');
  return FONT_ICON_NAMES[name] || name.replace(/(?<!^)(?=[A-Z])/g, '-').toLowerCase();
};
const fontIcons = (contents) => contents.replace(/^var iconsByType = \{\n([^}]*)\};$/m, (block, body) => [
  'const fontIcon = (name) => () => jsx("span", { class: `bio-properties-panel-header-font-icon bpmn-icon-${name}`, "aria-hidden": "true" });',
  'var iconsByType = {',
  body.replace(/: (\w+)(,?)$/gm, (entry, component, comma) => `: fontIcon(${JSON.stringify(fontIconName(component))})${comma}`),
  '};',
].join('\n'));

const injectAsStatic = {
  name: 'inject-as-static',
  setup(build) {
    build.onLoad({ filter: /bpmn-js-properties-panel[\\/]dist[\\/]index\.esm\.js$/ }, (args) => {
      let contents = fontIcons(hiddenGroupsOnly(readFileSync(args.path, 'utf8')));
      for (const [line, name, list] of [...contents.matchAll(/^(\w+)\.\$inject = (\[[^\]]*\]);$/gm)]
        .map((match) => [match[0], match[1], match[2]])) {
        const opening = `class ${name} {`;
        if (!contents.includes(opening)) continue;
        contents = contents.replace(line, '').replace(opening, `${opening}\n  static $inject = ${list};`);
      }
      return { contents, loader: 'js' };
    });
  },
};

const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15', 'edge100'],
  charset: 'utf8', // keep the Chinese text readable in the bundles
  legalComments: 'linked',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
  jsx: 'automatic',
  jsxImportSource: '@bpmn-io/properties-panel/preact',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  entryNames: '[name]-[hash]',
  assetNames: 'fonts/[name]-[hash]',
  outdir: dist,
  plugins: [bpmnlintRecommended],
  metafile: true,
};

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const builds = await Promise.all([
  // diagram-js's popup menus and the properties panel each bring the same preact release: one copy is bundled
  esbuild.build({ ...common, entryPoints: { modeler: 'src/modeler/index.js' }, plugins: [bpmnlintRecommended, plainEditors, injectAsStatic],
                  alias: { preact: '@bpmn-io/properties-panel/preact' } }),
  esbuild.build({ ...common, entryPoints: { viewer: 'src/viewer/index.js' } }),
  esbuild.build({ ...common, entryPoints: { 'dmn-editor': 'src/dmn-editor/index.js' } }),
  esbuild.build({ ...common, entryPoints: { charts: 'src/charts.js' } }),
  esbuild.build({ ...common, entryPoints: { app: 'src/app.css' } }),
]);
const warnings = builds.flatMap((result) => result.warnings);
// METAFILE=path writes esbuild's metafiles there (which input costs what: esbuild --analyze, esbuild.github.io/analyze)
if (process.env.METAFILE) writeFileSync(process.env.METAFILE, JSON.stringify(builds.map((result) => result.metafile)));

// the name a page asks for -> the hashed file: esbuild's outputs (entries and their stylesheets), then the icon
const HASH = /-[A-Z0-9]{8}(?=\.\w+$)/;
const manifest = {};
for (const output of builds.flatMap((result) => Object.keys(result.metafile.outputs))) {
  const name = relative(dist, output);
  if (!name.includes('/') && HASH.test(name)) manifest[name.replace(HASH, '')] = name;
}
const contentHash = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 8).toUpperCase();
const favicon = readFileSync(join(here, 'src', 'favicon.svg'));
manifest['favicon.svg'] = `favicon-${contentHash(favicon)}.svg`;
copyFileSync(join(here, 'src', 'favicon.svg'), join(dist, manifest['favicon.svg']));
writeFileSync(join(dist, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

// woff and woff2 are compressed already; a variant that saves nothing is not written
const COMPRESSIBLE = new Set(['.js', '.css', '.svg', '.txt', '.ttf', '.eot', '.json']);
const files = (folder) => readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
  entry.isDirectory() ? files(join(folder, entry.name)) : [join(folder, entry.name)]);
const compressed = {};
for (const path of files(dist).filter((file) => COMPRESSIBLE.has(extname(file)))) {
  const bytes = readFileSync(path);
  const variants = {
    br: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }),
    gz: gzipSync(bytes, { level: 9 }),
  };
  compressed[path] = { raw: bytes.length };
  for (const [suffix, packed] of Object.entries(variants)) {
    if (packed.length >= bytes.length) continue;
    writeFileSync(`${path}.${suffix}`, packed);
    compressed[path][suffix] = packed.length;
  }
}

const kib = (bytes) => (bytes === undefined ? '—' : (bytes / 1024).toFixed(0)).padStart(6);
const sizes = Object.entries(manifest).filter(([name]) => /\.(js|css)$/.test(name)).sort()
  .map(([name, file]) => {
    const { raw, br, gz } = compressed[join(dist, file)];
    return `${name.padEnd(16)} ${kib(raw)} KiB  br ${kib(br)}  gz ${kib(gz)}   ${basename(file)}`;
  });
console.log(`dist/\n  ${sizes.join('\n  ')}`);
if (warnings.length) console.log(`${warnings.length} esbuild warning(s)`);
